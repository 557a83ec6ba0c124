"""Nothing typed or attached is lost when a step of the citizen's report sends it back with an error."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from signalements.models import Signalement
from signalements.web.draft import SESSION_KEY
from tests.conftest import PLACE_SAINT_LAMBERT, jpeg_bytes

pytestmark = pytest.mark.django_db


def _photo(name="trou.jpg", color=(200, 30, 30)):
    return SimpleUploadedFile(name, jpeg_bytes(color=color), content_type="image/jpeg")


def _draft(client) -> dict:
    return client.session[SESSION_KEY]


def _located(client):
    lon, lat = PLACE_SAINT_LAMBERT
    response = client.post("/signaler/lieu/", {"lon": lon, "lat": lat, "action": "continue"})
    assert response.status_code == 302, response.content[:500]


def _send(client) -> Signalement:
    assert client.get("/signaler/coordonnees/").status_code == 200
    client.post("/signaler/coordonnees/", {"contact_email": "", "action": "continue"})
    response = client.post("/signaler/verifier/", {})
    assert response.status_code == 302, response.content[:500]
    return Signalement.objects.latest("created_at")


def test_a_missing_category_keeps_the_photo_and_the_description(client, liege):
    _located(client)
    response = client.post(
        "/signaler/probleme/",
        {"description": "Un trou profond devant le n° 12", "photos": _photo(), "action": "continue"},
    )
    assert response.status_code == 200
    assert "Choisissez une catégorie." in response.content.decode()
    assert len(_draft(client)["photos"]) == 1
    page = response.content.decode()
    assert "Un trou profond devant le n° 12" in page
    assert "/signaler/photo/0/" in page  # the photo is shown again, with its remove box

    response = client.post(
        "/signaler/probleme/", {"category": "nid-de-poule", "description": "Un trou profond devant le n° 12"}
    )
    assert response.status_code == 302
    report = _send(client)
    assert report.description == "Un trou profond devant le n° 12"
    assert report.photos.count() == 1


def test_a_location_error_keeps_the_photo(client, liege):
    # No place given at all: the step asks for one, and the photo (without GPS) stays attached.
    response = client.post("/signaler/lieu/", {"photo": _photo(), "address": "", "action": "continue"})
    assert response.status_code == 200
    assert "Indiquez le lieu" in response.content.decode()
    assert len(_draft(client)["photos"]) == 1


def test_an_invalid_location_form_keeps_the_photo_and_the_text(client, liege):
    response = client.post(
        "/signaler/lieu/",
        {
            "photo": _photo(),
            "lon": "400",
            "lat": "50.6",
            "place_description": "Devant l'école",
            "action": "continue",
        },
    )
    assert response.status_code == 200
    assert "Devant l&#x27;école" in response.content.decode()
    assert len(_draft(client)["photos"]) == 1

    _located(client)
    client.post("/signaler/probleme/", {"category": "nid-de-poule", "description": "Trou"})
    assert _send(client).photos.count() == 1


def test_going_back_from_the_problem_step_keeps_a_new_photo(client, liege):
    _located(client)
    client.post("/signaler/probleme/", {"description": "Tag", "photos": _photo(), "action": "back"})
    assert len(_draft(client)["photos"]) == 1
    assert _draft(client)["description"] == "Tag"


def test_a_contact_error_keeps_what_was_typed(client, liege):
    _located(client)
    client.post(
        "/signaler/probleme/", {"category": "nid-de-poule", "description": "Trou", "photos": _photo()}
    )
    response = client.post(
        "/signaler/coordonnees/",
        {"contact_name": "Anne Lambert", "contact_email": "pas-un-mail", "action": "continue"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Anne Lambert" in page and "pas-un-mail" in page
    assert len(_draft(client)["photos"]) == 1


def test_a_fourth_photo_is_refused_but_the_first_three_are_kept(client, liege):
    _located(client)
    response = client.post(
        "/signaler/probleme/",
        {"description": "Dépôt", "photos": [_photo(f"p{i}.jpg", (i * 50, 10, 10)) for i in range(4)]},
    )
    assert response.status_code == 200
    assert "Trois photos au plus." in response.content.decode()
    assert len(_draft(client)["photos"]) == 3
