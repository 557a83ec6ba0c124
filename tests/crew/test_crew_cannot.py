"""A crew's "cannot be done" carries a reason, reaches the desk, and leaves the crew's list until the
desk answers it; the crew knows before sending that a "done" note is public."""

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from cartography.models import Team
from signalements.crew.worklists import work_list
from signalements.desk.services import signalement_transition, signalement_triage
from signalements.models import CrewUpdate, Signalement
from tests.crew.test_crews import near, pothole

pytestmark = pytest.mark.django_db

OUTCOME_API = "/api/v1/crew/liege-voirie/signalements/{}/outcome/"


@pytest.fixture
def voirie(liege) -> Team:
    team = Team.objects.get(slug="liege-voirie")
    team.depot = near(0, 0)
    team.save()
    return team


def logged_in(username: str, language: str = "fr") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.cookies["django_language"] = language
    client.force_login(get_user_model().objects.get(username=username))
    return client


def user(username: str):
    return get_user_model().objects.get(username=username)


def references(team: Team) -> list[str]:
    return [stop.signalement.reference for stop in work_list(team=team)]


def test_cannot_without_a_reason_is_refused_beside_the_field_and_the_note_is_kept(voirie):
    report = pothole(near(100, 0), status="planned")
    crew = logged_in("crew-voirie")

    response = crew.post(
        f"/equipe/liege-voirie/{report.reference}/", {"outcome": "cannot", "note": "Camion de déménagement"}
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="reason-error"' in html and "Choisissez pourquoi ce n&#x27;est pas possible." in html
    assert ">Camion de déménagement</textarea>" in html
    report.refresh_from_db()
    assert report.status == "planned" and not CrewUpdate.objects.exists() and not report.comments.exists()
    assert references(voirie) == [report.reference]


def test_other_needs_the_reason_written_in_the_note(voirie):
    report = pothole(near(100, 0), status="planned")

    response = logged_in("crew-voirie").post(
        f"/equipe/liege-voirie/{report.reference}/", {"outcome": "cannot", "reason": "other"}
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="note-error"' in html and "Écrivez la raison dans la note." in html
    assert '<option value="other" selected>' in html
    assert not CrewUpdate.objects.exists()


def test_cannot_with_a_reason_leaves_the_list_and_reaches_the_desk(voirie):
    report = pothole(near(100, 0), status="planned")
    other = pothole(near(200, 0))

    response = logged_in("crew-voirie").post(
        f"/equipe/liege-voirie/{report.reference}/",
        {"outcome": "cannot", "reason": "parked", "note": "Voiture garée dessus"},
    )

    assert response.status_code == 302
    update = CrewUpdate.objects.get()
    assert update.cannot_reason == "parked"
    report.refresh_from_db()
    assert report.crew_return_id == update.pk
    assert references(voirie) == [other.reference]
    assert report.reference not in logged_in("crew-voirie").get("/equipe/liege-voirie/").content.decode()

    desk = logged_in("agent")
    queue = desk.get("/bureau/").content.decode()
    assert "Renvoyé par l'équipe : Un véhicule est garé dessus" in queue
    row = queue[queue.index(f">{report.reference}</a>") :].split("</tr>")[0]
    assert "Renvoyé par" in row
    detail = desk.get(f"/bureau/signalements/{report.reference}/").content.decode()
    assert 'id="crew-return"' in detail and "Voiture garée dessus" in detail
    assert "Impossible : Un véhicule est garé dessus – Voiture garée dessus" in detail  # its internal note


def test_the_desk_answering_by_a_status_change_puts_the_stop_back(voirie):
    report = pothole(near(100, 0), status="planned")
    logged_in("crew-voirie").post(
        f"/equipe/liege-voirie/{report.reference}/", {"outcome": "cannot", "reason": "danger"}
    )
    assert references(voirie) == []

    signalement_transition(signalement=report, to_status="planned", author=user("agent"))

    assert references(voirie) == [report.reference]
    assert "Renvoyé par" not in logged_in("agent").get("/bureau/").content.decode()


def test_the_desk_answering_by_an_assignment_puts_the_stop_on_the_new_teams_list(voirie):
    report = pothole(near(100, 0), status="planned")
    logged_in("crew-voirie").post(
        f"/equipe/liege-voirie/{report.reference}/", {"outcome": "cannot", "reason": "equipment"}
    )
    other_team = Team.objects.exclude(pk=voirie.pk).filter(is_active=True).first()

    signalement_triage(signalement=report, team=other_team, author=user("agent"))

    assert Signalement.objects.get(pk=report.pk).crew_return_id is None


def test_the_work_list_filters_returned_stops_in_its_one_query(voirie):
    for dx in (100, 200, 300):
        pothole(near(dx, 0), status="planned")
    returned = pothole(near(400, 0), status="planned")
    with CaptureQueriesContext(connection) as before:
        assert len(work_list(team=voirie)) == 4
    logged_in("crew-voirie").post(
        f"/equipe/liege-voirie/{returned.reference}/", {"outcome": "cannot", "reason": "not_found"}
    )

    with CaptureQueriesContext(connection) as after:
        assert returned.reference not in references(voirie) and len(references(voirie)) == 3

    assert len(after) == 2 * len(before)  # references() ran twice, each as many queries as before


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("fr", "Choisissez pourquoi ce n'est pas possible."),
        ("en", "Choose why it cannot be done."),
        ("nl", "Kies waarom het niet kan."),
    ],
)
def test_the_api_refuses_cannot_without_a_reason_per_field_in_each_language(voirie, language, message):
    report = pothole(near(100, 0), status="planned")
    api = APIClient(HTTP_ACCEPT_LANGUAGE=language)
    api.force_authenticate(user("crew-voirie"))

    response = api.post(
        OUTCOME_API.format(report.reference), {"outcome": "cannot", "note": "x"}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"reason": [message]}
    assert not CrewUpdate.objects.exists()


def test_the_api_records_the_reason(voirie):
    report = pothole(near(100, 0), status="planned")
    api = APIClient()
    api.force_authenticate(user("crew-voirie"))

    response = api.post(
        OUTCOME_API.format(report.reference), {"outcome": "cannot", "reason": "private"}, format="json"
    )

    assert response.status_code == 201 and response.json()["cannot_reason"] == "private"
    assert references(voirie) == []


def test_the_database_refuses_an_unknown_reason_or_a_reason_without_cannot(voirie):
    report = pothole(near(100, 0))
    for outcome, reason in (("cannot", "bored"), ("done", "parked")):
        with pytest.raises(IntegrityError), transaction.atomic():
            CrewUpdate.objects.create(
                signalement=report, team=voirie, outcome=outcome, cannot_reason=reason, status="new"
            )


@pytest.mark.parametrize(
    ("language", "hint"),
    [
        ("fr", "Avec « Fait », cette note est publiée : le déclarant et le public la lisent."),
        ("en", "With “Done”, this note is published: the reporter and the public read it."),
        ("nl", "Met „Klaar” wordt deze notitie gepubliceerd: de melder en het publiek lezen ze."),
    ],
)
def test_the_crew_is_told_before_sending_that_a_done_note_is_public(voirie, language, hint):
    report = pothole(near(100, 0))

    html = (
        logged_in("crew-voirie", language).get(f"/equipe/liege-voirie/{report.reference}/").content.decode()
    )

    assert f'<html lang="{language}"' in html
    assert hint.replace("'", "&#x27;") in html
    assert 'id="note-hint"' in html
    assert 'aria-describedby="note-hint"' in html.split('value="done"')[1].split(">")[0]
