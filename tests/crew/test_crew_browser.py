"""A crew member marks an item done with a photo, from a phone, in a real browser."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point
from django.test import Client

from cartography.models import Team
from signalements.models import Category, CrewUpdate, StatusChange
from tests.browser import small_targets
from tests.conftest import PLACE_SAINT_LAMBERT, jpeg_bytes
from tests.factories import SignalementFactory
from tests.intake.test_citizen_browser import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def pothole_near_the_centre(**fields):
    """A new pothole report some 140 m east of place Saint-Lambert, in liege-voirie's zone."""
    return SignalementFactory(
        category=Category.objects.get(slug="nid-de-poule"),
        location=Point(PLACE_SAINT_LAMBERT[0] + 0.002, PLACE_SAINT_LAMBERT[1], srid=4326),
        **fields,
    )


def go_offline_seen(page) -> None:
    """Wait until the page itself sees the network gone: a tap before that would still send."""
    page.wait_for_function("() => !navigator.onLine")


def log_in(page, username: str) -> None:
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    session = client.cookies["sessionid"].value
    page.context.add_cookies([{"name": "sessionid", "value": session, "url": page.base_url}])


def test_a_crew_member_marks_an_item_done_with_a_photo_from_a_phone(phone, tmp_path):
    team = Team.objects.get(slug="liege-voirie")
    team.depot = Point(*PLACE_SAINT_LAMBERT, srid=4326)
    team.save()
    report = pothole_near_the_centre()
    log_in(phone, "crew-voirie")
    photo = tmp_path / "done.jpg"
    photo.write_bytes(jpeg_bytes(size=(800, 600)))

    phone.goto(phone.base_url + "/equipe/")
    phone.locator(".stop-link").first.wait_for()
    phone.wait_for_function("document.querySelector('#crew-map .stop-icon') !== null")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    assert_accessible(phone)
    phone.locator(".stop-link").first.click()

    phone.get_by_role("heading", name=f"{report.reference} – Nid-de-poule ou chaussée abîmée").wait_for()
    assert (
        phone.get_by_role("link", name="Y aller (application de navigation)")
        .get_attribute("href")
        .startswith("geo:")
    )
    assert_accessible(phone)
    phone.get_by_label("Note").fill("Rebouché à froid")
    phone.get_by_label("Photo").set_input_files(str(photo))
    phone.get_by_role("button", name="Fait").click()

    phone.get_by_text("Enregistré.").wait_for()
    report.refresh_from_db()
    assert report.status == "resolved" and report.photos.count() == 1
    assert "Rien à faire ici pour le moment." in phone.content()


def wait_until_kept(page, urls: list[str]) -> None:
    """Until the offline worker holds a copy of each URL (its copies are made in the background)."""
    for _ in range(100):
        kept = page.evaluate(
            "(urls) => Promise.all(urls.map((u) => caches.match(u, {ignoreVary: true}).then(Boolean)))", urls
        )
        if all(kept):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"not kept for offline use: {urls}")


def test_updates_made_offline_are_queued_then_applied_once_when_back_online(phone, tmp_path):
    team = Team.objects.get(slug="liege-voirie")
    team.depot = Point(*PLACE_SAINT_LAMBERT, srid=4326)
    team.save()
    report = pothole_near_the_centre()
    item_url = f"{phone.base_url}/equipe/liege-voirie/{report.reference}/"
    log_in(phone, "crew-voirie")

    phone.goto(phone.base_url + "/equipe/liege-voirie/")
    phone.wait_for_function("navigator.serviceWorker.controller !== null")
    map_data = phone.evaluate(
        "new URL(document.getElementById('crew-map').dataset.geojson, location.href).href"
    )
    wait_until_kept(phone, [phone.url, map_data, item_url])
    phone.goto(item_url)
    phone.context.set_offline(True)
    go_offline_seen(phone)

    phone.reload()  # from the copy the offline worker kept
    phone.get_by_text("Pas de réseau").wait_for()
    never_kept = (
        "fetch('/equipe/liege-voirie/?format=geojson&never=kept').then(() => 'network', () => 'none')"
    )
    assert phone.evaluate(never_kept) == "none"
    phone.get_by_label("Note").fill("Rebouché hors ligne")
    photo = tmp_path / "offline.jpg"
    photo.write_bytes(jpeg_bytes(size=(800, 600)))
    phone.get_by_label("Photo").set_input_files(str(photo))
    phone.get_by_role("button", name="Fait").click()
    phone.get_by_text("Enregistré sur ce téléphone").wait_for()
    phone.get_by_text("Une mise à jour attend d'être envoyée.").wait_for()
    report.refresh_from_db()
    assert report.status == "new"
    assert_accessible(phone)

    phone.goto(phone.base_url + "/equipe/liege-voirie/")
    phone.get_by_text("en attente d'envoi").wait_for()
    phone.wait_for_function("document.querySelector('#crew-map .stop-icon') !== null")  # kept map data
    assert_accessible(phone)
    phone.context.set_offline(False)

    phone.get_by_text("Mise à jour envoyée à").wait_for()
    report.refresh_from_db()
    assert report.status == "resolved" and report.photos.count() == 1
    rows = StatusChange.objects.filter(signalement=report, to_status="resolved")
    assert [r.text for r in rows] == ["Rebouché hors ligne"]
    update = CrewUpdate.objects.get(signalement=report)

    again = phone.evaluate(
        """async ([url, key]) => {
            const token = document.cookie.split("; ").find((c) => c.startsWith("csrftoken=")).split("=")[1];
            const body = new FormData();
            body.append("outcome", "done");
            body.append("note", "Rebouché hors ligne");
            const headers = {"X-CSRFToken": token, "Idempotency-Key": key};
            const response = await fetch(url, {method: "POST", body, headers});
            return [response.status, await response.json()];
        }""",
        [f"/api/v1/crew/liege-voirie/signalements/{report.reference}/outcome/", update.idempotency_key],
    )
    assert again[0] == 200 and again[1]["status"] == "resolved"
    assert rows.count() == 1 and CrewUpdate.objects.filter(signalement=report).count() == 1
    assert report.photos.count() == 1


def test_the_crew_pages_pass_axe_with_large_targets_on_a_phone(phone):
    report = pothole_near_the_centre(priority="urgent")
    log_in(phone, "crew-voirie")

    phone.goto(phone.base_url + "/equipe/liege-voirie/")
    phone.wait_for_function("document.querySelector('#crew-map .stop-icon') !== null")
    phone.get_by_text("Filtrer").click()
    assert_accessible(phone)
    assert small_targets(phone) == []

    phone.goto(f"{phone.base_url}/equipe/liege-voirie/{report.reference}/")
    assert_accessible(phone)
    assert small_targets(phone) == []

    phone.goto(phone.base_url + "/equipe/liege-voirie/?format=print")
    phone.wait_for_function("document.querySelector('#crew-map .stop-icon') !== null")
    assert_accessible(phone)
    assert small_targets(phone) == []


def test_an_update_whose_request_gets_no_answer_is_kept_then_sent(phone):
    report = pothole_near_the_centre()
    item_url = f"{phone.base_url}/equipe/liege-voirie/{report.reference}/"
    log_in(phone, "crew-voirie")
    phone.goto(item_url)

    def no_answer(route):  # the phone shows a network, the request goes nowhere
        return route.abort() if route.request.method == "POST" else route.fallback()

    phone.route(item_url, no_answer)
    phone.get_by_label("Note").fill("Cône posé")
    phone.get_by_role("button", name="Je commence").click()
    phone.get_by_text("Enregistré sur ce téléphone").wait_for()
    report.refresh_from_db()
    assert report.status == "new"

    phone.unroute(item_url)
    phone.reload()
    phone.get_by_text("Mise à jour envoyée à").wait_for()
    report.refresh_from_db()
    assert report.status == "in_progress"
    assert [c.text for c in report.comments.all()] == ["Cône posé"]


def test_an_update_the_server_refuses_shows_its_message(phone, tmp_path):
    report = pothole_near_the_centre()
    not_a_photo = tmp_path / "note.jpg"
    not_a_photo.write_text("pas une image")
    log_in(phone, "crew-voirie")
    phone.goto(f"{phone.base_url}/equipe/liege-voirie/{report.reference}/")

    phone.get_by_label("Photo").set_input_files(str(not_a_photo))
    phone.get_by_role("button", name="Fait").click()

    phone.get_by_text("Ce fichier n'est pas une image lisible").wait_for()
    report.refresh_from_db()
    assert report.status == "new" and not report.crew_updates.exists()


def test_a_waiting_update_is_sent_only_by_the_person_who_made_it(phone):
    report = pothole_near_the_centre()
    item_url = f"{phone.base_url}/equipe/liege-voirie/{report.reference}/"
    log_in(phone, "crew-voirie")
    phone.goto(item_url)
    phone.context.set_offline(True)
    go_offline_seen(phone)
    phone.get_by_role("button", name="Je commence").click()
    phone.get_by_text("Une mise à jour attend d'être envoyée.").wait_for()
    # The crew member closes the page: one left open (or kept by the browser's back-forward cache)
    # would rightly send its update under its own session as soon as the network returns.
    context = phone.context
    phone.close()
    context.set_offline(False)

    other = context.new_page()
    other.base_url = phone.base_url
    log_in(other, "agent")  # someone else on the same phone
    other.goto(item_url)
    other.wait_for_load_state("networkidle")
    assert other.get_by_text("Une mise à jour attend").count() == 0
    report.refresh_from_db()
    assert report.status == "new"

    log_in(other, "crew-voirie")
    other.goto(item_url)
    other.get_by_text("Mise à jour envoyée à").wait_for()
    report.refresh_from_db()
    assert report.status == "in_progress"
    assert report.history.get(to_status="in_progress").author.username == "crew-voirie"
