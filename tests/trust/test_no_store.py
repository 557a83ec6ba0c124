"""Cache-Control: no-store on every response with personal data (one rule, in
signalements.trust.headers): signed-in users' pages and API calls, citizens' tracking pages and API,
the report form's steps and the answers to writes. Public reads stay cacheable."""

import json

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

from tests.conftest import PLACE_SAINT_LAMBERT, point_geojson
from tests.factories import SignalementFactory

pytestmark = pytest.mark.django_db


def never_stored(response) -> bool:
    return "no-store" in response.headers.get("Cache-Control", "")


def signed_in(client, username: str):
    client.force_login(get_user_model().objects.get(username=username))
    return client


def test_desk_pages(client, liege):
    report = SignalementFactory()
    signed_in(client, "agent")
    for path in ("/bureau/", f"/bureau/signalements/{report.reference}/", "/bureau/carte.geojson"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert never_stored(response), path


def test_crew_pages(client, liege):
    signed_in(client, "crew-voirie")
    response = client.get("/equipe/liege-voirie/")
    assert response.status_code == 200
    assert never_stored(response)


def test_citizen_tracking_page_and_api(client, liege):
    report = SignalementFactory()
    for path in (f"/suivi/{report.tracking_token}/", f"/api/v1/tracking/{report.tracking_token}/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert never_stored(response), path


def test_report_form_steps(client, liege):
    response = client.get("/signaler/lieu/")
    assert response.status_code == 200
    assert never_stored(response)


def test_admin(client, liege):
    signed_in(client, "admin")
    response = client.get("/admin/signalements/signalement/")
    assert response.status_code == 200
    assert never_stored(response)


def test_token_authenticated_api_calls_even_on_public_endpoints(client, liege):
    token, _ = Token.objects.get_or_create(user=get_user_model().objects.get(username="agent"))
    auth = {"Authorization": f"Token {token.key}"}
    for path in ("/api/v1/desk/signalements/", "/api/v1/signalements/", "/api/v1/categories/"):
        response = client.get(path, headers=auth)
        assert response.status_code == 200, path
        assert never_stored(response), path


def test_the_answer_to_a_submission_which_holds_the_tracking_link(client, liege):
    body = {"category": "dechets", "location": point_geojson(*PLACE_SAINT_LAMBERT)}
    response = client.post("/api/v1/signalements/", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 201
    assert never_stored(response)


def test_anonymous_public_reads_stay_cacheable(client, liege):
    report = SignalementFactory()
    for path in ("/", "/api/v1/signalements/", "/api/v1/categories/", f"/signalements/{report.reference}/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert not never_stored(response), path
