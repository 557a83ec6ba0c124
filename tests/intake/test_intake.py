"""POST /api/v1/signalements/: a report is validated, located, stored; bad input stores nothing."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from signalements.models import Photo, ReporterContact, Signalement, StatusChange
from tests.conftest import PLACE_SAINT_LAMBERT, jpeg_bytes, point_geojson

URL = "/api/v1/signalements/"


def _post_json(client, payload, **headers):
    return client.post(URL, data=json.dumps(payload), content_type="application/json", headers=headers)


def _post_photos(client, photos: list, category: str = "dechets"):
    location = json.dumps(point_geojson(*PLACE_SAINT_LAMBERT))
    return client.post(URL, data={"category": category, "photos": photos, "location": location})


def _stored() -> tuple[int, int, int, int]:
    return (
        Signalement.objects.count(),
        StatusChange.objects.count(),
        Photo.objects.count(),
        ReporterContact.objects.count(),
    )


@pytest.fixture
def valid(liege) -> dict:
    return {
        "category": "dechets",
        "location": point_geojson(*PLACE_SAINT_LAMBERT),
        "description": "Sacs éventrés au pied du panneau",
    }


def test_a_report_is_created_with_its_reference_district_and_team(client, valid):
    response = _post_json(client, valid)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["reference"].startswith("S")
    assert body["district"]["name"] == "Liège – Meuse Nord"
    assert body["team"]["name"] == "Propreté – hypercentre"
    assert body["team"]["public_phone"]
    assert body["status"] == "new"
    assert body["location"]["coordinates"] == pytest.approx(list(PLACE_SAINT_LAMBERT))
    signalement = Signalement.objects.get(reference=body["reference"])
    assert body["tracking_token"] == f"{signalement.reference}-{signalement.tracking_secret}"
    assert len(signalement.tracking_secret) == 32
    assert signalement.channel == "api"
    assert list(signalement.history.values_list("from_status", "to_status")) == [("", "new")]
    assert signalement.location_metric.srid != 4326  # the metric copy is computed by PostgreSQL


def test_contact_details_are_stored_apart_and_never_returned(client, valid):
    response = _post_json(
        client,
        {
            **valid,
            "contact_name": "Marie Dupont",
            "contact_email": "marie@example.org",
            "contact_phone": "+32 470 12 34 56",
        },
    )

    assert response.status_code == 201
    text = response.content.decode()
    for secret in ("Marie", "marie@example.org", "470 12"):
        assert secret not in text
    reporter = Signalement.objects.get(reference=response.json()["reference"]).reporter
    assert (reporter.name, reporter.email, reporter.phone) == (
        "Marie Dupont",
        "marie@example.org",
        "+32 470 12 34 56",
    )
    detail = client.get(f"{URL}{response.json()['reference']}/").content.decode()
    listing = client.get(URL).content.decode()
    for secret in ("Marie", "marie@example.org", "470 12", response.json()["tracking_token"]):
        assert secret not in detail and secret not in listing


def test_multipart_with_photos_strips_their_metadata(client, liege):
    photo = SimpleUploadedFile("p.jpg", jpeg_bytes(size=(800, 600), gps=(5.5714, 50.6455)), "image/jpeg")
    response = client.post(
        URL,
        data={
            "category": "nid-de-poule",
            "location": json.dumps(point_geojson(*PLACE_SAINT_LAMBERT)),
            "photos": [photo],
        },
    )

    assert response.status_code == 201, response.content
    stored = Signalement.objects.get(reference=response.json()["reference"]).photos.get()
    with stored.image.open("rb") as handle, Image.open(handle) as image:
        assert image.format == "JPEG"
        assert dict(image.getexif()) == {}
        assert image.size == (800, 600)


@pytest.mark.parametrize(
    ("change", "field", "fragment"),
    [
        ({"location": point_geojson(4.3517, 50.8503)}, "location", "en dehors du territoire"),
        ({"location": point_geojson(200, 50.6)}, "location", "longitude"),
        ({"location": point_geojson(5.57, -95)}, "location", "latitude"),
        (
            {"location": {"type": "LineString", "coordinates": [[5.57, 50.64], [5.58, 50.65]]}},
            "location",
            "point",
        ),
        ({"location": "not a geometry"}, "location", ""),
        ({"location": None}, "location", ""),
        ({"category": "no-such-category"}, "category", "no-such-category"),
        ({"category": None}, "category", ""),
        ({"contact_email": "not-an-address"}, "contact_email", ""),
        ({"contact_phone": "call me"}, "contact_phone", ""),
        ({"description": "x" * 5001}, "description", ""),
    ],
)
def test_bad_input_gets_a_400_naming_the_field_and_stores_nothing(client, valid, change, field, fragment):
    before = _stored()

    response = _post_json(client, {**valid, **change})

    assert response.status_code == 400, response.content
    messages = response.json()[field]
    assert messages and fragment.lower() in " ".join(map(str, messages)).lower()
    assert _stored() == before


def test_a_missing_category_and_location_are_both_reported(client, liege):
    response = _post_json(client, {"description": "quelque chose"})

    assert response.status_code == 400
    assert set(response.json()) >= {"category", "location"}


def test_an_inactive_category_is_refused(client, valid):
    from signalements.models import Category

    Category.objects.filter(slug="dechets").update(is_active=False)
    response = _post_json(client, valid)

    assert response.status_code == 400
    assert "category" in response.json()


def test_a_non_image_upload_is_refused_and_nothing_stored(client, liege):
    before = _stored()
    fake = SimpleUploadedFile("photo.jpg", b"%PDF-1.4 definitely not a picture", "image/jpeg")

    response = _post_photos(client, [fake])

    assert response.status_code == 400
    assert "photos" in response.json()
    assert _stored() == before


def test_an_oversized_photo_is_refused(client, liege, settings):
    settings.SIGNALEMENT_MAX_PHOTO_BYTES = 10_000
    big = SimpleUploadedFile("big.jpg", jpeg_bytes(size=(1200, 1200)) + b"\0" * 20_000, "image/jpeg")

    response = _post_photos(client, [big])

    assert response.status_code == 400
    assert "taille maximale" in json.dumps(response.json()["photos"], ensure_ascii=False)


def test_more_than_three_photos_are_refused(client, liege):
    photos = [SimpleUploadedFile(f"{i}.jpg", jpeg_bytes(), "image/jpeg") for i in range(4)]

    response = _post_photos(client, photos)

    assert response.status_code == 400
    assert "photos" in response.json()


def test_an_oversized_body_is_refused_before_parsing(client, valid, settings):
    settings.SIGNALEMENT_MAX_REQUEST_BYTES = 1024
    before = _stored()

    response = _post_json(client, {**valid, "description": "y" * 2000})

    assert response.status_code == 400
    assert "trop volumineuse" in response.json()["non_field_errors"][0]
    assert _stored() == before


def test_a_decompression_bomb_is_refused(client, liege):
    # A tiny PNG that claims 100,000 x 100,000 pixels.
    image = Image.new("1", (10_000, 10_000))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    bomb = SimpleUploadedFile("bomb.png", buffer.getvalue(), "image/png")
    Image.MAX_IMAGE_PIXELS, saved = 1_000_000, Image.MAX_IMAGE_PIXELS
    try:
        response = client.post(
            URL,
            data={
                "category": "dechets",
                "photos": [bomb],
                "location": json.dumps(point_geojson(*PLACE_SAINT_LAMBERT)),
            },
        )
    finally:
        Image.MAX_IMAGE_PIXELS = saved

    assert response.status_code == 400
    assert "photos" in response.json()


def test_the_same_idempotency_key_returns_the_first_report(client, valid):
    first = _post_json(client, valid, **{"Idempotency-Key": "3f1c9a2e-retry"})
    again = _post_json(client, valid, **{"Idempotency-Key": "3f1c9a2e-retry"})
    other = _post_json(client, valid, **{"Idempotency-Key": "another-key"})

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["reference"] == first.json()["reference"]
    assert other.status_code == 201 and other.json()["reference"] != first.json()["reference"]
    assert Signalement.objects.filter(idempotency_key="3f1c9a2e-retry").count() == 1


def test_a_too_long_idempotency_key_is_refused(client, valid):
    response = _post_json(client, valid, **{"Idempotency-Key": "k" * 129})

    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()


def test_errors_are_translated(client, liege):
    response = client.post(
        URL,
        data=json.dumps({"category": "dechets", "location": point_geojson(4.35, 50.85)}),
        content_type="application/json",
        headers={"Accept-Language": "nl"},
    )

    assert response.status_code == 400
    assert "buiten" in response.json()["location"][0].lower()
