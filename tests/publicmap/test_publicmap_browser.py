"""The public map in Chromium, in French, on a desktop and a 390 px phone: cells and reports appear,
a filter changes them, a click shows a report's public details, the list shows what the map shows,
and no personal field reaches the page or any response."""

import os
from pathlib import Path

import pytest
from django.contrib.gis.geos import Point

from signalements.models import Category, ReporterContact
from tests.browser import axe_violations, tab_to
from tests.conftest import PLACE_SAINT_LAMBERT, SCREENS, _new_page, wait_for
from tests.factories import SignalementFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", "/tmp/signalements-screenshots"))
PERSONAL = ("Jeanne Secret", "jeanne.secret@example.org", "+32 470 99 88 77")
LON, LAT = PLACE_SAINT_LAMBERT


@pytest.fixture(params=list(SCREENS))
def screen(request, chromium, live_server, liege):
    context, page = _new_page(chromium, **SCREENS[request.param])
    page.base_url = live_server.url
    page.screen_name = request.param
    page.bodies = []

    def record(route):
        """Every answer of the site, kept to be searched for personal data; nothing from elsewhere."""
        if not route.request.url.startswith(live_server.url):
            route.abort()
            return
        response = route.fetch()
        page.bodies.append(response.body())
        route.fulfill(response=response)

    page.route("**/*", record)
    yield page
    context.close()


@pytest.fixture(autouse=True)
def no_basemap(settings):
    """Offline: the districts and reports on a plain background (the basemap is a setting)."""
    settings.PUBLIC_MAP_BASEMAP_URL = ""


@pytest.fixture
def seeded(liege):
    dechets, leaves = Category.objects.get(slug="dechets"), Category.objects.get(slug="feuilles-mortes")
    made = {
        "open": SignalementFactory(category=dechets, location=Point(LON, LAT, srid=4326)),
        "working": SignalementFactory(
            category=leaves, status="in_progress", location=Point(LON + 0.0006, LAT + 0.0003, srid=4326)
        ),
        "sensitive": SignalementFactory(
            category=Category.objects.get(slug="tag-injurieux"), location=Point(LON - 0.0005, LAT, srid=4326)
        ),
    }
    for report in made.values():
        ReporterContact.objects.create(
            signalement=report, name=PERSONAL[0], email=PERSONAL[1], phone=PERSONAL[2]
        )
    return made


def rendered(page, layer: str) -> list[dict]:
    return page.evaluate(
        """(layer) => document.getElementById("public-map").publicMap
            .queryRenderedFeatures({layers: [layer]}).map((f) => f.properties)""",
        layer,
    )


def map_ready(page) -> None:
    page.wait_for_selector("#public-map[data-ready=true]", state="attached")
    page.wait_for_function(
        """() => { const map = document.getElementById("public-map").publicMap;
                   return map.loaded() && map.areTilesLoaded(); }"""
    )


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}-{page.screen_name}.png", full_page=True)


def click_on(page, lon: float, lat: float) -> None:
    x, y = page.evaluate(
        """([lon, lat]) => { const map = document.getElementById("public-map").publicMap;
            const p = map.project([lon, lat]); const box = map.getCanvas().getBoundingClientRect();
            return [box.left + p.x, box.top + p.y]; }""",
        [lon, lat],
    )
    if page.screen_name == "phone":
        page.touchscreen.tap(x, y)
    else:
        page.mouse.click(x, y)


def test_the_public_map_from_the_city_to_a_report(screen, seeded):
    page = screen
    page.goto(page.base_url + "/")
    map_ready(page)
    wait_for(lambda: sum(d["count"] for d in rendered(page, "districts-fill")) >= 3, "district counts")
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    assert axe_violations(page) == []
    shot(page, "publicmap-city")

    page.goto(page.base_url + f"/?z=13.5&lat={LAT}&lon={LON}")
    map_ready(page)
    wait_for(lambda: sum(c["count"] for c in rendered(page, "cells")) == 2, "two cells' counts, no sensitive")

    page.goto(page.base_url + f"/?z=17&lat={LAT}&lon={LON}")
    map_ready(page)
    wait_for(lambda: len(rendered(page, "reports")) == 2, "the two public reports")
    drawn = {r["ref"] for r in rendered(page, "reports")}
    assert drawn == {seeded["open"].reference, seeded["working"].reference}
    shot(page, "publicmap-street")

    # A filter: no more reports in progress. The URL keeps it, with the view.
    page.locator("#map-filters-box summary").click()
    page.get_by_label("En cours").uncheck()
    wait_for(lambda: {r["ref"] for r in rendered(page, "reports")} == {seeded["open"].reference}, "filtered")
    assert "status=open" in page.url and "status=in_progress" not in page.url and "z=17" in page.url
    page.locator("#map-filters-box summary").click()

    click_on(page, LON, LAT)
    panel = page.locator("#map-panel")
    panel.get_by_role("heading", name=f"Signalement {seeded['open'].reference}").wait_for()
    assert "Déchets" in panel.inner_text() or seeded["open"].category.name in panel.inner_text()
    report_here = panel.get_by_role("link", name="Signaler un problème ici")
    assert "lat=50.6" in report_here.get_attribute("href")
    assert axe_violations(page) == []
    shot(page, "publicmap-detail")

    # The list of what the map shows: same filters, the map's view.
    page.get_by_role("link", name="Voir en liste").click()
    page.wait_for_url("**/carte/liste/**")
    listed = set(page.locator("tbody tr").evaluate_all("(rows) => rows.map((r) => r.dataset.reference)"))
    assert listed == {seeded["open"].reference}
    assert axe_violations(page) == []
    shot(page, "publicmap-list")

    text = page.content() + "".join(body.decode("utf-8", "replace") for body in page.bodies)
    assert any(b"reports" in body for body in page.bodies), "tiles were recorded"
    for value in (*PERSONAL, seeded["sensitive"].reference):
        assert value not in text, value


def test_the_list_is_usable_with_the_keyboard_alone(screen, seeded):
    page = screen
    page.goto(page.base_url + "/carte/liste/")
    tab_to(page, "thead a")  # the date, newest first: Enter puts the oldest first
    page.keyboard.press("Enter")
    page.wait_for_url("**sort=created**")
    assert page.locator("thead th[aria-sort=ascending]").inner_text().startswith("Signalé le")
    tab_to(page, f'tbody a[href="/signalements/{seeded["working"].reference}/"]')
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/signalements/{seeded['working'].reference}/")
    assert page.get_by_role("heading", level=1).inner_text() == f"Signalement {seeded['working'].reference}"


def test_a_crowded_street_shows_cells_at_zooms_16_and_17(screen, seeded, monkeypatch):
    """From zoom 16 a crowded tile is drawn as cells (from the counts at 16): the page draws them
    (the style puts no zoom bound on them), their counts add up to the public reports, no point is
    drawn."""
    from cartography.publicmap import selectors

    monkeypatch.setattr(selectors, "CROWDED", 1)  # the two public reports crowd their tile
    page = screen
    every_year = "status=open&status=in_progress&status=resolved&resolved_days=3650"
    for z in (16, 17):
        page.goto(page.base_url + f"/?z={z}&lat={LAT}&lon={LON}&{every_year}")
        map_ready(page)
        wait_for(lambda: sum(c["count"] for c in rendered(page, "cells")) == 2, f"counted cells at z{z}")
        assert rendered(page, "reports") == []
        shot(page, f"publicmap-crowded-z{z}")
    text = "".join(body.decode("utf-8", "replace") for body in page.bodies)
    for value in (*PERSONAL, *(report.reference for report in seeded.values())):
        assert value not in text, value
