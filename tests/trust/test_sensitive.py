"""Reports of sensitive categories (an insulting tag, ...) are never shown to the public: not as
nearby reports, not in the list or detail, not through the report one's own was merged into."""

import pytest
from django.contrib.gis.geos import Point
from rest_framework.test import APIClient

from signalements.desk.duplicates import signalements_merge
from signalements.intake.services import signalement_submit
from signalements.models import Category, DuplicateCandidate
from tests.conftest import PLACE_SAINT_LAMBERT
from tests.factories import SignalementFactory

LON, LAT = PLACE_SAINT_LAMBERT
SECRET_TEXT = "Insulte visant M. Dupont, rue X"


@pytest.fixture
def tag(liege) -> Category:
    category = Category.objects.get(slug="tag-injurieux")
    assert category.is_sensitive
    return category


@pytest.fixture
def insult(tag):
    return SignalementFactory(
        category=tag, location=Point(LON + 0.0001, LAT, srid=4326), description=SECRET_TEXT
    )


def test_the_nearby_api_shows_no_sensitive_report(client, insult):
    response = client.get(
        "/api/v1/signalements/nearby/", {"category": "tag-injurieux", "lon": LON, "lat": LAT}
    )

    assert response.status_code == 200
    assert response.json() == []
    assert insult.reference not in response.content.decode()


def test_the_already_reported_step_shows_no_sensitive_report(client, insult):
    session = client.session
    session["signalement_draft"] = {
        "id": "d" * 32,
        "photos": [],
        "lon": LON,
        "lat": LAT,
        "category": "tag-injurieux",
    }
    session.save()

    response = client.get("/signaler/deja-signale/")

    assert response.status_code == 302 and response["Location"].endswith("/signaler/coordonnees/")
    followed = client.get("/signaler/deja-signale/", follow=True).content.decode()
    assert insult.reference not in followed and SECRET_TEXT not in followed


def test_the_desk_still_gets_sensitive_duplicate_candidates(tag, insult):
    new, _created = signalement_submit(category=tag, location=Point(LON, LAT, srid=4326))

    assert list(DuplicateCandidate.objects.filter(signalement=new).values_list("candidate", flat=True)) == [
        insult.pk
    ]


def test_the_public_list_detail_and_support_hide_a_sensitive_report(client, insult):
    listed = client.get("/api/v1/signalements/", {"page_size": 1000}).content.decode()

    assert insult.reference not in listed
    assert client.get(f"/api/v1/signalements/{insult.reference}/").status_code == 404
    assert client.get(f"/signalements/{insult.reference}/").status_code == 404
    supported = client.post(
        f"/api/v1/signalements/{insult.reference}/supports/",
        {"client_key": "x"},
        content_type="application/json",
    )
    assert supported.status_code == 404


def test_a_report_merged_into_a_sensitive_one_does_not_show_its_text_or_place(client, insult):
    mine = SignalementFactory(description="Mon signalement")
    signalements_merge(master=insult, duplicates=[mine])
    mine.refresh_from_db()

    api = APIClient().get(f"/api/v1/tracking/{mine.tracking_token}/")
    page = client.get(f"/suivi/{mine.tracking_token}/").content.decode()

    merged = api.json()["merged_into"]
    assert merged["reference"] == insult.reference and merged["status"] == "new"
    assert merged["description"] is None and merged["location"] is None and merged["address"] is None
    assert SECRET_TEXT not in api.content.decode()
    assert SECRET_TEXT not in page
    assert f"/signalements/{insult.reference}/" not in page


def test_a_report_merged_into_a_public_one_shows_it(client, liege):
    master = SignalementFactory(description="Sacs au coin")
    mine = SignalementFactory()
    signalements_merge(master=master, duplicates=[mine])
    mine.refresh_from_db()

    merged = APIClient().get(f"/api/v1/tracking/{mine.tracking_token}/").json()["merged_into"]

    assert merged["description"] == "Sacs au coin" and merged["location"]["type"] == "Point"
