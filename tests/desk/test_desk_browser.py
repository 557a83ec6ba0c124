"""The desk in a real browser: every page passes axe-core (WCAG 2.1 AA) and works with the keyboard."""

from datetime import timedelta

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone

from signalements.desk.duplicates import duplicate_groups_propose
from signalements.intake.services import ReporterData, signalement_submit
from signalements.models import Category, ResponseTemplate, Signalement
from tests.browser import tab_to
from tests.conftest import PLACE_SAINT_LAMBERT
from tests.crew.test_crew_browser import log_in
from tests.factories import SignalementFactory
from tests.intake.test_citizen_browser import assert_accessible as assert_axe_passes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def assert_accessible(page) -> None:
    """axe-core finds no violation, and no id is used twice (axe only lists that "to review", yet a
    repeated id sends a label, and a screen reader, to the wrong field)."""
    assert_axe_passes(page)
    repeated = page.evaluate(
        """() => {
            const seen = {};
            document.querySelectorAll("[id]").forEach(e => seen[e.id] = (seen[e.id] || 0) + 1);
            return Object.keys(seen).filter(id => seen[id] > 1);
        }"""
    )
    assert repeated == [], f"{page.url}: repeated ids {repeated}"


@pytest.fixture
def desk(page):
    """An agent's browser, and a few reports: one overdue, two duplicates, one with a reporter."""
    log_in(page, "agent")
    SignalementFactory(deadline_at=timezone.now() - timedelta(days=1), status="acknowledged")
    SignalementFactory(location=Point(PLACE_SAINT_LAMBERT[0] + 0.0002, PLACE_SAINT_LAMBERT[1], srid=4326))
    report, _ = signalement_submit(
        category=Category.objects.get(slug="nid-de-poule"),
        location=Point(*PLACE_SAINT_LAMBERT, srid=4326),
        description="Trou profond",
        reporter=ReporterData(name="Jean Dupont", email="jean@example.org", phone="+32 470 11 22 33"),
    )
    ResponseTemplate.objects.create(
        title="Pris en charge",
        text="Le signalement {reference} est confié à {team}, joignable au {team_phone}.",
        category=report.category,
    )
    ResponseTemplate.objects.create(title="Merci", text="Merci pour votre signalement.")
    return page, report


def test_the_queue_list_and_its_map_are_accessible_and_the_bulk_action_works_by_keyboard(desk):
    page, report = desk
    page.goto(page.base_url + "/bureau/")
    page.wait_for_function("document.querySelectorAll('#queue-map path.leaflet-interactive').length === 3")
    assert_accessible(page)

    tab_to(page, f"#sel-{report.reference}")
    page.keyboard.press("Space")
    tab_to(page, "#bulk_action")
    page.locator("#bulk_action").select_option("acknowledge")
    tab_to(page, "fieldset.bulk button")
    page.keyboard.press("Enter")
    page.get_by_text("1 signalement(s) mis à jour.").wait_for()
    report.refresh_from_db()
    assert report.status == "acknowledged"
    assert_accessible(page)


def test_the_report_page_is_accessible_and_a_template_goes_into_the_reply_by_keyboard(desk):
    page, report = desk
    page.goto(page.base_url + f"/bureau/signalements/{report.reference}/")
    assert_accessible(page)

    tab_to(page, "#pick_template")
    page.locator("#pick_template").select_option(label="Pris en charge")
    tab_to(page, "#template-pick button")
    page.keyboard.press("Enter")

    reply = page.locator("#message_text")
    expected = f"Le signalement {report.reference} est confié à Voirie, joignable au +32 4 000 10 01."
    assert reply.input_value() == expected
    assert page.evaluate("document.activeElement.id") == "message_text"
    assert page.locator("#template-status").inner_text() == "Modèle inséré dans la réponse."
    assert "template=" not in page.url  # inserted in place, no reload
    page.keyboard.type(" Merci.")
    tab_to(page, "#reply button.primary")
    page.keyboard.press("Enter")

    page.get_by_text("Enregistré.").wait_for()
    assert report.comments.get().text == expected + " Merci."
    assert_accessible(page)


def test_the_register_page_is_accessible_and_works_by_keyboard(desk):
    page, _report = desk
    page.goto(page.base_url + "/bureau/nouveau/")
    page.wait_for_function("document.querySelector('#report-map .leaflet-overlay-pane path') !== null")
    assert_accessible(page)

    tab_to(page, "#id_channel")
    page.locator("#id_channel").select_option("phone")
    tab_to(page, "#id_contact_phone")
    page.keyboard.type("+32 470 55 66 77")
    tab_to(page, "#id_category")
    page.locator("#id_category").select_option(str(Category.objects.get(slug="depot-sauvage").pk))
    tab_to(page, "#id_address")
    page.keyboard.type("Feronstree")
    page.keyboard.press("Enter")  # the first submit button of the form: search
    page.locator(".pick-place").first.wait_for()
    assert_accessible(page)
    tab_to(page, ".pick-place")
    page.keyboard.press("Enter")
    page.get_by_text("Point placé :").wait_for()  # the first place found: a street of that name
    page.wait_for_function("document.querySelector('#report-map .leaflet-marker-icon') !== null")
    assert_accessible(page)
    tab_to(page, "button[value=save]")
    page.keyboard.press("Enter")

    page.get_by_text("enregistré").first.wait_for()
    created = Signalement.objects.get(reporter__phone="+32 470 55 66 77")
    assert created.channel == "phone" and created.district.code == "62063A"
    assert_accessible(page)


def test_the_duplicates_page_is_accessible_and_merges_by_keyboard(desk):
    page, _report = desk
    assert duplicate_groups_propose() == 1
    page.goto(page.base_url + "/bureau/doublons/")
    assert_accessible(page)

    tab_to(page, "input[name=master]")
    page.keyboard.press("ArrowDown")  # the second report becomes the master
    tab_to(page, "button[value=merge]")
    page.keyboard.press("Enter")

    page.get_by_text("Fusionné dans").wait_for()
    duplicate = Signalement.objects.get(status="duplicate")
    assert_accessible(page)

    page.goto(page.base_url + f"/bureau/signalements/{duplicate.reference}/")
    assert_accessible(page)
    tab_to(page, "button[value=unmerge]")
    page.keyboard.press("Enter")
    page.get_by_text("Enregistré.").wait_for()
    duplicate.refresh_from_db()
    assert duplicate.duplicate_of is None


def test_the_statistics_page_is_accessible(desk):
    page, _report = desk
    page.goto(page.base_url + "/bureau/statistiques/")
    assert_accessible(page)
    tab_to(page, "#start")
    tab_to(page, "form.filters a")
