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
Image.MAX_IMAGE_PIXELS = 60_000_000  # refuses decompression bombs before decoding them


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
        with Image.open(upload) as probe:
            probe.verify()
        upload.seek(0)
        image = Image.open(upload)
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as exc:
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
    with Image.open(io.BytesIO(data)) as image:
        image = image.convert("RGB")
        image.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=80)
    return ContentFile(buffer.getvalue(), name="thumbnail.jpg")
