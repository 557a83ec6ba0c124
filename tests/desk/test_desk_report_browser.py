"""The desk's report page and duplicate groups in a real browser, in French, on a desktop and a
390 px phone: photos, map, messages, a one-click merge, the oldest preselected, an undo from the
master; axe-core clean throughout."""

import os
from pathlib import Path

import pytest
from django.conf import settings

from tests.browser import axe_violations
from tests.conftest import SCREENS, _new_page
from tests.crew.test_crew_browser import log_in
from tests.desk.test_desk_duplicates import group, report  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("SCREENSHOTS_DIR", "/tmp/screenshots"))


@pytest.fixture(params=list(SCREENS))
def screen(request, chromium, live_server, liege):
    """A French browser on a desktop or a phone; uploaded photos served from the test's media
    directory (the test server serves static files only)."""
    context, page = _new_page(chromium, **SCREENS[request.param])
    page.base_url = live_server.url
    page.screen = request.param

    def media(route):
        path = Path(settings.MEDIA_ROOT) / route.request.url.split(settings.MEDIA_URL, 1)[1]
        route.fulfill(path=path) if path.is_file() else route.fulfill(status=404)

    page.route(f"**{settings.MEDIA_URL}**", media)
    yield page
    context.close()


def assert_usable(page, name: str) -> None:
    """axe-core finds nothing, nothing is wider than the screen; a screenshot to look at."""
    page.wait_for_load_state("load")
    assert axe_violations(page) == [], page.url
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url}: {width} px wide"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}-{page.screen}.png", full_page=True)


def test_the_report_page_shows_photos_map_messages_and_merges_a_nearby_report_in_one_click(screen, report):  # noqa: F811
    page, master, near = screen, report["master"], report["near"]
    log_in(page, "agent")

    page.goto(page.base_url + f"/bureau/signalements/{master.reference}/")

    # the district's outline, the report and its one nearby report
    page.wait_for_function(
        "document.querySelectorAll('#report-detail-map .leaflet-overlay-pane path').length === 3"
    )
    photos = page.locator(".photo-list img")
    assert photos.count() == 2
    page.wait_for_function(
        "Array.from(document.querySelectorAll('.photo-list img')).every(i => i.naturalWidth > 0)"
    )
    assert page.locator(".photo-list .badge").inner_text() == "non publique"
    messages = page.locator(".comments .meta")
    assert [messages.nth(i).locator("strong").inner_text() for i in range(3)] == [
        "Citoyen",
        "agent",
        "crew-voirie (équipe de terrain)",
    ]
    assert page.locator(".nearby-item").count() == 1
    assert "20 m" in page.locator(".nearby-item").inner_text()
    assert_usable(page, "desk-report")

    page.get_by_role("button", name=f"Fusionner {near.reference} ici").click()

    page.get_by_text(f"{near.reference} fusionné dans ce signalement.").wait_for()
    near.refresh_from_db()
    assert near.duplicate_of_id == master.pk
    assert page.locator(".nearby-item").count() == 0
    page.get_by_role("button", name=f"Annuler la fusion {near.reference}").wait_for()
    assert_usable(page, "desk-report-merged")


def test_the_groups_page_merges_into_the_oldest_preselected_and_the_master_undoes_one(screen, group):  # noqa: F811
    page = screen
    _group, oldest, newer, newest = group
    log_in(page, "agent")

    page.goto(page.base_url + "/bureau/doublons/")

    page.wait_for_function("document.querySelectorAll('.group-map .leaflet-overlay-pane path').length === 3")
    assert page.get_by_label(f"{oldest.reference} comme principal").is_checked()
    assert page.locator(".member img").count() == 1
    assert_usable(page, "desk-duplicates")

    page.get_by_role("button", name="Fusionner dans le signalement choisi").click()

    page.get_by_text(f"Fusionné dans {oldest.reference}.").wait_for()
    assert set(oldest.duplicates.values_list("pk", flat=True)) == {newer.pk, newest.pk}
    page.goto(page.base_url + f"/bureau/signalements/{oldest.reference}/")
    page.get_by_role("button", name=f"Annuler la fusion {newest.reference}").click()

    page.get_by_text("Enregistré.").wait_for()
    newest.refresh_from_db()
    assert newest.duplicate_of is None and newest.status == "new"
    assert page.get_by_role("button", name=f"Annuler la fusion {newer.reference}").is_visible()
    assert_usable(page, "desk-master-after-undo")
