"""The desk's operations through the API with token authentication."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from signalements.models import Category, Signalement
from tests.conftest import PLACE_SAINT_LAMBERT, point_geojson
from tests.factories import SignalementFactory


def client_for(username: str) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=get_user_model().objects.get(username=username))
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def test_an_agent_registers_triages_moves_and_merges_through_the_api(liege):
    agent = client_for("agent")
    created = agent.post(
        "/api/v1/desk/signalements/",
        {
            "channel": "phone",
            "category": "nid-de-poule",
            "location": point_geojson(*PLACE_SAINT_LAMBERT),
            "contact_phone": "+32 470 00 00 01",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    reference = created.json()["reference"]
    assert created.json()["channel"] == "phone" and created.json()["reporter"]["phone"] == "+32 470 00 00 01"

    assert (
        agent.patch(
            f"/api/v1/desk/signalements/{reference}/",
            {"priority": "urgent", "team": "liege-hiver"},
            format="json",
        ).json()["team"]["name"]
        == "Service hiver"
    )
    stored = Signalement.objects.get(reference=reference)
    assert (stored.priority, stored.team.slug, stored.team_is_manual) == ("urgent", "liege-hiver", True)
    assert stored.history.filter(is_public=False).count() == 2  # the priority and the team
    assert (
        agent.post(
            f"/api/v1/desk/signalements/{reference}/transitions/",
            {"to_status": "acknowledged"},
            format="json",
        ).status_code
        == 201
    )
    stored.refresh_from_db()
    assert stored.status == "acknowledged"
    assert stored.history.latest("pk").to_status == "acknowledged"
    refused = agent.post(
        f"/api/v1/desk/signalements/{reference}/transitions/", {"to_status": "closed"}, format="json"
    )
    assert refused.status_code == 400 and "status" in refused.json()
    stored.refresh_from_db()
    assert stored.status == "acknowledged"
    assert (
        agent.post(
            f"/api/v1/desk/signalements/{reference}/messages/",
            {"text": "Note", "internal": True},
            format="json",
        ).status_code
        == 201
    )
    note = stored.comments.get()
    assert (note.text, note.is_internal, note.author.username) == ("Note", True, "agent")

    other = SignalementFactory(category=Signalement.objects.get(reference=reference).category)
    assert (
        agent.post(
            f"/api/v1/desk/signalements/{reference}/merge/", {"duplicates": [other.reference]}, format="json"
        ).status_code
        == 201
    )
    other.refresh_from_db()
    assert other.duplicate_of.reference == reference and other.status == "duplicate"
    assert agent.post(f"/api/v1/desk/signalements/{other.reference}/unmerge/").status_code == 204
    other.refresh_from_db()
    assert other.duplicate_of is None and other.status == "new"

    listing = agent.get("/api/v1/desk/signalements/", {"channel": "phone"}).json()
    assert [row["reference"] for row in listing["results"]] == [reference]


def test_a_web_channel_is_not_a_desk_channel(liege):
    response = client_for("agent").post(
        "/api/v1/desk/signalements/",
        {"channel": "web", "category": "dechets", "location": point_geojson(*PLACE_SAINT_LAMBERT)},
        format="json",
    )
    assert response.status_code == 400 and "channel" in response.json()


@pytest.mark.parametrize(
    ("username", "read", "move", "triage"),
    [
        ("agent", 200, 201, 200),
        ("admin", 200, 201, 200),
        ("planner", 200, 403, 403),
        ("crew-voirie", 200, 201, 403),
    ],
)
def test_the_permission_matrix_of_the_desk_api(liege, username, read, move, triage):
    signalement = SignalementFactory(category=Category.objects.get(slug="nid-de-poule"))
    client = client_for(username)
    url = f"/api/v1/desk/signalements/{signalement.reference}/"

    assert client.get(url).status_code == read
    assert client.post(url + "transitions/", {"to_status": "acknowledged"}, format="json").status_code == move
    assert client.patch(url, {"priority": "high"}, format="json").status_code == triage


def test_anonymous_and_citizens_get_nothing(liege):
    assert APIClient().get("/api/v1/desk/signalements/").status_code in (401, 403)
