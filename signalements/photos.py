"""Photo handling: every upload is decoded, re-encoded without its metadata, and bounded."""

import io
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_SIDE = 2560
THUMBNAIL_SIDE = 320
# Pillow's own guard, for any other code that opens an image: it only warns up to twice this and
# refuses beyond. Ours (_pixels_check) refuses above the setting itself, before any decoding.
Image.MAX_IMAGE_PIXELS = settings.SIGNALEMENT_MAX_PHOTO_PIXELS


@dataclass(frozen=True)
class CleanPhoto:
    content: ContentFile
    gps: tuple[float, float] | None  # (lon, lat) read before stripping, to suggest a pin


def _gps_from_exif(image: Image.Image) -> tuple[float, float] | None:
    gps = image.getexif().get_ifd(0x8825)
    try:
        lat_ref, lat, lon_ref, lon = gps[1], gps[2], gps[3], gps[4]
    except KeyError:
        return None

    def degrees(dms) -> float:
        d, m, s = (float(x) for x in dms)
        return d + m / 60 + s / 3600

    try:
        lat_value = degrees(lat) * (-1 if lat_ref in ("S", b"S") else 1)
        lon_value = degrees(lon) * (-1 if lon_ref in ("W", b"W") else 1)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if not (-90 <= lat_value <= 90 and -180 <= lon_value <= 180):
        return None
    return lon_value, lat_value


def _pixels_check(image: Image.Image) -> None:
    """Refuse an image whose header announces more pixels than a phone photo has: a few kilobytes
    of PNG can claim 100 Mpx, which decoding would turn into hundreds of megabytes."""
    if image.width * image.height > settings.SIGNALEMENT_MAX_PHOTO_PIXELS:
        raise _too_many_pixels()


def _too_many_pixels() -> ValidationError:
    return ValidationError(
        _("La photo a trop de pixels : %(max)d mégapixels au plus.")
        % {"max": settings.SIGNALEMENT_MAX_PHOTO_PIXELS // 1_000_000},
        code="too_many_pixels",
    )


def photo_clean(upload) -> CleanPhoto:
    """Decode an upload, refuse what is not a photo, and return a JPEG without any metadata."""
    if upload.size > settings.SIGNALEMENT_MAX_PHOTO_BYTES:
        raise ValidationError(
            _("La photo dépasse la taille maximale de %(max)d Mo.")
            % {"max": settings.SIGNALEMENT_MAX_PHOTO_BYTES // (1024 * 1024)},
            code="too_large",
        )
    try:
        upload.seek(0)
        # Image.open reads the header only: the size is checked before verify() and load() decode.
        with Image.open(upload) as probe:
            _pixels_check(probe)
            probe.verify()
        upload.seek(0)
        image = Image.open(upload)
        _pixels_check(image)
        image.load()
    except Image.DecompressionBombError as exc:  # Pillow's guard, at twice the setting
        raise _too_many_pixels() from exc
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise ValidationError(
            _("Ce fichier n'est pas une image lisible (JPEG, PNG ou WebP)."), code="invalid_image"
        ) from exc
    if image.format not in {"JPEG", "PNG", "WEBP", "HEIF", "MPO"}:
        raise ValidationError(_("Format d'image non accepté : utilisez JPEG, PNG ou WebP."), code="format")
    gps = _gps_from_exif(image)
    # Apply the orientation tag to the pixels, then drop every tag by copying pixels only.
    image = ImageOps.exif_transpose(image).convert("RGB")
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    pixels_only = Image.new("RGB", image.size)
    pixels_only.paste(image)
    buffer = io.BytesIO()
    pixels_only.save(buffer, format="JPEG", quality=85, optimize=True)
    return CleanPhoto(content=ContentFile(buffer.getvalue(), name="photo.jpg"), gps=gps)


def thumbnail_make(data: bytes) -> ContentFile:
    try:
        opened = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise _too_many_pixels() from exc
    with opened as image:
        _pixels_check(image)
        image = image.convert("RGB")
        image.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=80)
    return ContentFile(buffer.getvalue(), name="thumbnail.jpg")
