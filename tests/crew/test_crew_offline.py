"""Crews' updates sent again (offline queue, lost answer) are applied once; the offline worker."""

import threading
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from django.test import Client

from cartography.models import Team
from signalements.crew.services import crew_update_record
from signalements.models import CrewUpdate, Signalement, StatusChange
from tests.conftest import jpeg_bytes
from tests.crew.test_crews import near, pothole

OUTCOME_URL = "/api/v1/crew/liege-voirie/signalements/{}/outcome/"


@pytest.fixture
def voirie(liege) -> Team:
    return Team.objects.get(slug="liege-voirie")


@pytest.fixture
def crew(client, voirie):
    client.force_login(get_user_model().objects.get(username="crew-voirie"))
    return client


def resolved_rows(report: Signalement) -> int:
    return StatusChange.objects.filter(signalement=report, to_status="resolved").count()


def test_an_update_sent_twice_with_its_key_is_applied_once_and_answered_the_same(crew, voirie):
    report = pothole(near(100, 0))
    key = str(uuid.uuid4())

    def send():
        return crew.post(
            OUTCOME_URL.format(report.reference),
            {"outcome": "done", "note": "Rebouché", "photo": SimpleUploadedFile("p.jpg", jpeg_bytes())},
            HTTP_IDEMPOTENCY_KEY=key,
        )

    first, again = send(), send()

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    assert first.json()["status"] == "resolved" and first.json()["idempotency_key"] == key
    assert resolved_rows(report) == 1
    assert report.photos.count() == 1
    assert CrewUpdate.objects.filter(signalement=report).count() == 1


def test_the_item_page_form_applies_a_repeated_key_once(crew, voirie):
    report = pothole(near(100, 0))
    form = {"outcome": "cannot", "reason": "parked", "note": "Voiture garée", "idempotency_key": "form-1"}

    for _ in range(2):
        assert crew.post(f"/equipe/liege-voirie/{report.reference}/", form).status_code == 302

    assert report.comments.get().text.endswith("Voiture garée")
    assert StatusChange.objects.filter(signalement=report, to_status="acknowledged").count() == 1


def test_updates_without_a_key_are_each_applied(crew, voirie):
    report = pothole(near(100, 0))

    for _ in range(2):
        crew.post(
            OUTCOME_URL.format(report.reference), {"outcome": "cannot", "reason": "other", "note": "Bloqué"}
        )

    assert report.comments.count() == 2


def test_a_key_used_for_another_report_is_refused_with_a_clear_error(crew, voirie):
    first, second = pothole(near(100, 0)), pothole(near(200, 0))
    crew.post(OUTCOME_URL.format(first.reference), {"outcome": "start"}, HTTP_IDEMPOTENCY_KEY="k-1")

    response = crew.post(
        OUTCOME_URL.format(second.reference), {"outcome": "start"}, HTTP_IDEMPOTENCY_KEY="k-1"
    )

    assert response.status_code == 400
    assert "idempotency_key" in response.json()
    second.refresh_from_db()
    assert second.status == "new"


def test_bad_input_gets_per_field_messages(crew, voirie):
    report = pothole(near(100, 0))

    unknown = crew.post(OUTCOME_URL.format(report.reference), {"outcome": "maybe"})
    too_long = crew.post(
        OUTCOME_URL.format(report.reference), {"outcome": "done"}, HTTP_IDEMPOTENCY_KEY="k" * 129
    )

    assert unknown.status_code == 400 and "outcome" in unknown.json()
    assert too_long.status_code == 400 and "idempotency_key" in too_long.json()
    report.refresh_from_db()
    assert report.status == "new"


def test_an_empty_update_is_refused_and_leaves_no_trace(crew, voirie):
    report = pothole(near(100, 0))

    page = crew.post(f"/equipe/liege-voirie/{report.reference}/", {"note": "  "}, follow=True)

    assert "Rien à enregistrer" in page.content.decode()
    assert not CrewUpdate.objects.filter(signalement=report).exists()


def test_the_database_refuses_a_second_update_under_one_key(voirie):
    report = pothole(near(100, 0))
    fields = {"signalement": report, "team": voirie, "status": "new", "idempotency_key": "same"}
    CrewUpdate.objects.create(**fields)

    with pytest.raises(IntegrityError), transaction.atomic():
        CrewUpdate.objects.create(**fields)


def test_a_replay_from_the_browser_needs_the_csrf_token(voirie):
    report = pothole(near(100, 0))
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(get_user_model().objects.get(username="crew-voirie"))
    page = browser.get(f"/equipe/liege-voirie/{report.reference}/")
    token = browser.cookies["csrftoken"].value
    assert page.status_code == 200

    refused = browser.post(
        OUTCOME_URL.format(report.reference), {"outcome": "done"}, HTTP_IDEMPOTENCY_KEY="c-1"
    )
    accepted = browser.post(
        OUTCOME_URL.format(report.reference),
        {"outcome": "done"},
        HTTP_IDEMPOTENCY_KEY="c-1",
        HTTP_X_CSRFTOKEN=token,
    )

    assert refused.status_code == 403 and accepted.status_code == 201
    assert resolved_rows(report) == 1


def test_the_offline_worker_is_served_for_the_crew_pages(client, db):
    response = client.get("/equipe/sw.js")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/equipe/"
    assert "no-cache" in response["Cache-Control"]
    body = response.content.decode()
    assert "/static/signalements/crew-offline.js" in body and "/static/signalements/site.css" in body


@pytest.mark.django_db(transaction=True)
def test_two_resends_at_the_same_moment_apply_the_update_once(liege):
    report = pothole(near(100, 0))
    team = Team.objects.get(slug="liege-voirie")
    author = get_user_model().objects.get(username="crew-voirie")
    start = threading.Barrier(2)
    results = []

    def resend():
        try:
            start.wait()
            update, applied = crew_update_record(
                signalement=Signalement.objects.get(pk=report.pk),
                team=team,
                author=author,
                outcome="done",
                note="Rebouché",
                idempotency_key="same-moment",
            )
            results.append((update.pk, applied))
        finally:
            connection.close()

    threads = [threading.Thread(target=resend) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(applied for _, applied in results) == [False, True]
    assert len({pk for pk, _ in results}) == 1
    assert resolved_rows(report) == 1
