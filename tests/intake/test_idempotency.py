"""Idempotency keys: a retry gets its first report back; a key is its client's and its content's,
so replaying someone else's key gives nothing of theirs, and another content under it is refused."""

import json
import re
import threading

import pytest
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from rest_framework.test import APIClient

from signalements.intake.services import ReporterData, signalement_submit
from signalements.models import Category, Signalement
from tests.conftest import PLACE_SAINT_LAMBERT, jpeg_bytes, point_geojson
from tests.desk.test_desk_api import client_for

URL = "/api/v1/signalements/"
KEY = "c0ffee-retry-1"


@pytest.fixture
def report(liege) -> dict:
    return {
        "category": "dechets",
        "location": point_geojson(*PLACE_SAINT_LAMBERT),
        "description": "Sacs éventrés au pied du panneau",
        "contact_email": "anne@example.org",
    }


def _post(client, payload, key=KEY):
    return client.post(
        URL, data=json.dumps(payload), content_type="application/json", headers={"Idempotency-Key": key}
    )


def _citizen(name: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(get_user_model().objects.create_user(name))
    return client


def test_a_retry_with_the_same_content_gets_the_first_report_and_its_link(client, report):
    first = _post(client, report)
    again = _post(client, report)

    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["reference"] == first.json()["reference"]
    assert again.json()["tracking_token"] == first.json()["tracking_token"]
    assert Signalement.objects.count() == 1


def test_a_retry_with_the_same_photo_gets_the_first_report(client, report):
    def posted():
        photo = SimpleUploadedFile("p.jpg", jpeg_bytes(), "image/jpeg")
        data = {**report, "location": json.dumps(report["location"]), "photos": [photo]}
        return client.post(URL, data=data, headers={"Idempotency-Key": KEY})

    first, again = posted(), posted()

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["reference"] == first.json()["reference"]


def test_another_user_replaying_a_key_gets_no_report_and_no_link_of_the_first(report):
    alice, mallory = _citizen("alice"), _citizen("mallory")
    first = alice.post(URL, report, format="json", headers={"Idempotency-Key": KEY})
    replay = mallory.post(URL, report, format="json", headers={"Idempotency-Key": KEY})

    assert first.status_code == 201 and replay.status_code == 201
    assert replay.json()["reference"] != first.json()["reference"]
    assert first.json()["tracking_token"] not in replay.content.decode()
    assert Signalement.objects.count() == 2


def test_an_anonymous_client_replaying_a_users_key_gets_no_report_of_theirs(client, report):
    first = _citizen("alice").post(URL, report, format="json", headers={"Idempotency-Key": KEY})
    replay = _post(client, {**report, "contact_email": ""})

    assert replay.status_code == 201
    assert replay.json()["reference"] != first.json()["reference"]
    assert first.json()["tracking_token"] not in replay.content.decode()


@pytest.mark.parametrize(
    "change",
    [
        {"description": "Autre chose"},
        {"contact_email": "mallory@example.org"},
        {"category": "nid-de-poule"},
        {"location": point_geojson(PLACE_SAINT_LAMBERT[0] + 0.001, PLACE_SAINT_LAMBERT[1])},
    ],
)
def test_another_content_under_a_used_key_is_refused_and_nothing_is_stored(client, report, change):
    first = _post(client, report)
    other = _post(client, {**report, **change})

    assert first.status_code == 201
    assert other.status_code == 422
    assert list(other.json()) == ["Idempotency-Key"] and other.json()["Idempotency-Key"][0]
    assert first.json()["tracking_token"] not in other.content.decode()
    assert Signalement.objects.count() == 1
    assert Signalement.objects.get().description == report["description"]


def test_a_point_outside_the_territory_under_a_used_key_is_refused_for_its_place(client, report):
    _post(client, report)
    outside = _post(client, {**report, "location": point_geojson(0, 0)})

    assert outside.status_code == 400 and "location" in outside.json()
    assert "tracking_token" not in outside.content.decode()


def test_a_desk_key_is_its_agents(report):
    agent, admin = client_for("agent"), client_for("admin")
    payload = {**report, "channel": "phone"}
    first = agent.post("/api/v1/desk/signalements/", payload, format="json", headers={"Idempotency-Key": KEY})
    again = agent.post("/api/v1/desk/signalements/", payload, format="json", headers={"Idempotency-Key": KEY})
    other = admin.post("/api/v1/desk/signalements/", payload, format="json", headers={"Idempotency-Key": KEY})
    changed = agent.post(
        "/api/v1/desk/signalements/",
        {**payload, "description": "Autre"},
        format="json",
        headers={"Idempotency-Key": KEY},
    )

    assert (first.status_code, again.status_code, other.status_code) == (201, 200, 201)
    assert again.json()["reference"] == first.json()["reference"] != other.json()["reference"]
    assert changed.status_code == 422 and "Idempotency-Key" in changed.json()
    assert Signalement.objects.count() == 2


def test_the_desk_register_form_makes_random_keys(client, liege):
    client.force_login(get_user_model().objects.get(username="agent"))

    keys = [
        re.search(r'name="idempotency_key" value="([^"]*)"', client.get("/bureau/nouveau/").content.decode())[
            1
        ]
        for _ in range(2)
    ]

    assert keys[0] != keys[1]
    for key in keys:
        assert len(key) >= 32
        assert not re.search(r"\d{8}", key)  # no date or time in it


@pytest.mark.django_db(transaction=True)
def test_two_submissions_at_the_same_moment_under_one_key_store_one_report(liege):
    category = Category.objects.get(slug="dechets")
    start = threading.Barrier(2)
    results = []

    def submit():
        try:
            start.wait()
            signalement, created = signalement_submit(
                category=category,
                location=Point(*PLACE_SAINT_LAMBERT, srid=4326),
                description="Même moment",
                reporter=ReporterData(email="anne@example.org"),
                idempotency_key="same-moment",
            )
            results.append((signalement.pk, created))
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(created for _, created in results) == [False, True]
    assert len({pk for pk, _ in results}) == 1
    assert Signalement.objects.filter(idempotency_key="same-moment").count() == 1
