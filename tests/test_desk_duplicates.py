"""Duplicates at the desk: a "duplicate" status only through a merge that names the master; the
report page and the groups page give an agent what a merge decision needs."""

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from signalements.models import Status
from signalements.services import signalement_transition
from signalements.workflow import ENTERED_BY_MERGE, TRANSITIONS

from .factories import SignalementFactory

User = get_user_model()


def api_as(username: str) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=User.objects.get(username=username))
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def test_no_status_change_leads_to_or_out_of_duplicate():
    assert all(Status.DUPLICATE not in targets for targets in TRANSITIONS.values())
    assert TRANSITIONS[Status.DUPLICATE] == frozenset()
    assert {Status.DUPLICATE} == ENTERED_BY_MERGE


@pytest.mark.parametrize("author", ["agent", None])
def test_the_transition_service_refuses_duplicate_for_anyone(liege, author):
    signalement = SignalementFactory(status="new")

    with pytest.raises(ValidationError) as refused:
        signalement_transition(
            signalement=signalement,
            to_status=Status.DUPLICATE,
            author=User.objects.get(username=author) if author else None,
        )

    assert "fusionnant" in " ".join(refused.value.messages)
    signalement.refresh_from_db()
    assert signalement.status == "new" and not signalement.history.exists()


def test_the_desk_status_form_offers_no_duplicate_and_refuses_one_posted(client, liege):
    signalement = SignalementFactory(status="acknowledged")
    client.force_login(User.objects.get(username="agent"))
    url = f"/bureau/signalements/{signalement.reference}/"

    page = client.get(url).content.decode()
    assert 'name="to_status"' in page and 'value="resolved"' in page
    assert 'value="duplicate"' not in page

    client.post(url, {"action": "transition", "to_status": "duplicate", "from_status": "acknowledged"})

    signalement.refresh_from_db()
    assert signalement.status == "acknowledged" and signalement.duplicate_of is None


def test_the_api_refuses_duplicate_with_a_400_that_points_to_the_merge(liege):
    signalement = SignalementFactory(status="new")

    response = api_as("agent").post(
        f"/api/v1/desk/signalements/{signalement.reference}/transitions/",
        {"to_status": "duplicate"},
        format="json",
    )

    assert response.status_code == 400
    messages = " ".join(response.json()["to_status"])
    assert "/api/v1/desk/signalements/MASTER/merge/" in messages and signalement.reference in messages
    signalement.refresh_from_db()
    assert signalement.status == "new"
