"""Bad input is refused with a 4xx and a message, never a server error, and stores nothing."""

import json
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from signalements.models import Photo, Signalement, StatusChange

from .conftest import PLACE_SAINT_LAMBERT, point_geojson


def _stored() -> tuple[int, int, int]:
    return Signalement.objects.count(), StatusChange.objects.count(), Photo.objects.count()


def png_claiming(width: int, height: int) -> bytes:
    """A valid 1-bit PNG of width x height black pixels, written chunk by chunk: some kilobytes
    of file for 100 Mpx, without ever holding the image in memory."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte, then the packed bits
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def bomb() -> bytes:
    # The size of the probe: under twice Pillow's limit as it was set, so it was decoded.
    return png_claiming(10_900, 10_900)


def test_a_png_claiming_100_megapixels_is_refused_by_the_api(client, liege, bomb):
    before = _stored()

    response = client.post(
        "/api/v1/signalements/",
        data={
            "category": "dechets",
            "photos": [SimpleUploadedFile("bomb.png", bomb, "image/png")],
            "location": json.dumps(point_geojson(*PLACE_SAINT_LAMBERT)),
        },
    )

    assert response.status_code == 400
    assert "mégapixels au plus" in json.dumps(response.json()["photos"], ensure_ascii=False)
    assert _stored() == before


@pytest.mark.parametrize(("url", "field"), [("/signaler/lieu/", "photo"), ("/signaler/probleme/", "photos")])
def test_a_png_claiming_100_megapixels_is_refused_by_the_citizen_form(client, liege, bomb, url, field):
    lon, lat = PLACE_SAINT_LAMBERT
    client.post("/signaler/lieu/", {"lon": lon, "lat": lat, "action": "continue"})
    before = _stored()

    response = client.post(
        url,
        {
            field: SimpleUploadedFile("bomb.png", bomb, "image/png"),
            "category": "dechets",
            "action": "continue",
        },
    )

    assert response.status_code == 200  # the step again, with the message beside the field
    assert "mégapixels au plus" in response.content.decode()
    assert _stored() == before


def test_a_thumbnail_is_not_made_from_an_image_with_too_many_pixels(bomb):
    from django.core.exceptions import ValidationError

    from signalements.photos import thumbnail_make

    with pytest.raises(ValidationError):
        thumbnail_make(bomb)
