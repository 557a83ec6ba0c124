"""The crew's map and its "cannot be done" in a real browser, in the site's three languages: French
and Dutch once put the depot 70 km away (a decimal comma) and the stops in one blob."""

import math

import pytest
from django.contrib.gis.geos import Point

from cartography.models import Team
from signalements.models import Category, CrewUpdate
from tests.conftest import PLACE_SAINT_LAMBERT
from tests.crew.test_crew_browser import log_in
from tests.factories import SignalementFactory
from tests.intake.test_citizen_browser import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LON, LAT = PLACE_SAINT_LAMBERT
HEADINGS = {"fr": "arrêts", "nl": "stops", "en": "stops"}


def in_language(page, language: str) -> None:
    """The site's own choice (the language cookie its switch sets) wins over the browser's fr-BE."""
    page.context.add_cookies([{"name": "django_language", "value": language, "url": page.base_url}])


def potholes_over_liege() -> list:
    """One stop next to the depot (place Saint-Lambert), the others one to two kilometres away."""
    pothole = Category.objects.get(slug="nid-de-poule")
    offsets = [(0.0005, 0.0003), (0.02, 0.004), (-0.012, -0.009), (0.006, -0.013)]
    return [
        SignalementFactory(category=pothole, location=Point(LON + dx, LAT + dy, srid=4326), status="planned")
        for dx, dy in offsets
    ]


def depot_at_saint_lambert() -> None:
    team = Team.objects.get(slug="liege-voirie")
    team.depot = Point(LON, LAT, srid=4326)
    team.save()


def centres(page, selector: str) -> list[tuple[float, float]]:
    return [
        tuple(c)
        for c in page.evaluate(
            """(s) => Array.from(document.querySelectorAll(s)).map((e) => {
                const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })""",
            selector,
        )
    ]


@pytest.mark.parametrize("language", ["fr", "nl", "en"])
@pytest.mark.parametrize("device", ["page", "phone"])
def test_the_crew_map_spreads_the_stops_around_the_real_depot(request, device, language, tmp_path):
    browser_page = request.getfixturevalue(device)
    if device == "phone":
        browser_page.set_viewport_size({"width": 390, "height": 844})
    depot_at_saint_lambert()
    reports = potholes_over_liege()
    log_in(browser_page, "crew-voirie")
    in_language(browser_page, language)

    browser_page.goto(browser_page.base_url + "/equipe/liege-voirie/")
    browser_page.wait_for_function(
        f"document.querySelectorAll('#crew-map .stop-icon').length === {len(reports)}"
        " && document.querySelector('#crew-map .depot-marker') !== null"
    )
    browser_page.wait_for_function(
        "!document.querySelector('#crew-map .leaflet-zoom-anim')"
    )  # fitBounds has settled
    assert browser_page.locator("html").get_attribute("lang") == language
    assert HEADINGS[language] in browser_page.locator("h1").inner_text()

    box = browser_page.locator("#crew-map").bounding_box()
    stops = centres(browser_page, "#crew-map .stop-icon")
    (depot,) = centres(browser_page, "#crew-map .depot-marker")
    xs, ys = [x for x, _ in stops], [y for _, y in stops]
    # Spread over the map, not a blob: the stops span a good part of its width or height.
    assert max(max(xs) - min(xs), max(ys) - min(ys)) > 0.4 * min(box["width"], box["height"]), stops
    # The depot shows at place Saint-Lambert: next to the stop 50 m from it, inside the map.
    nearest = min(math.dist(depot, stop) for stop in stops)
    assert nearest < 0.1 * min(box["width"], box["height"]), (depot, stops)
    assert (
        box["x"] <= depot[0] <= box["x"] + box["width"] and box["y"] <= depot[1] <= box["y"] + box["height"]
    )
    assert_accessible(browser_page)
    if device == "phone":
        browser_page.screenshot(path=str(tmp_path / f"crew-list-{language}.png"), full_page=True)


def test_cannot_be_done_needs_a_reason_then_leaves_the_list_for_the_desk_on_a_phone(phone):
    depot_at_saint_lambert()
    report, *others = potholes_over_liege()
    log_in(phone, "crew-voirie")
    in_language(phone, "fr")

    phone.goto(f"{phone.base_url}/equipe/liege-voirie/{report.reference}/")
    assert phone.locator("html").get_attribute("lang") == "fr"
    phone.get_by_text("Avec « Fait », cette note est publiée").wait_for()
    phone.get_by_label("Note").fill("Camionnette de livraison garée sur le trou")
    phone.get_by_role("button", name="Impossible à faire").click()

    phone.get_by_text("Choisissez pourquoi ce n'est pas possible.").wait_for()
    assert phone.get_by_label("Note").input_value() == "Camionnette de livraison garée sur le trou"
    assert not CrewUpdate.objects.exists()
    assert_accessible(phone)

    phone.get_by_label("Si c'est impossible : pourquoi ?").select_option(label="Un véhicule est garé dessus")
    phone.get_by_role("button", name="Impossible à faire").click()
    phone.get_by_text("Enregistré.").wait_for()
    assert phone.url.endswith("/equipe/liege-voirie/")
    assert phone.locator(f".stop[data-reference='{report.reference}']").count() == 0
    assert phone.locator(".stop").count() == len(others)
    assert CrewUpdate.objects.get().cannot_reason == "parked"

    log_in(phone, "agent")
    phone.goto(phone.base_url + "/bureau/")
    row = phone.locator("tr", has=phone.get_by_role("link", name=report.reference))
    assert "Renvoyé par l'équipe : Un véhicule est garé dessus" in row.inner_text()
    assert_accessible(phone)


def test_offline_cannot_without_a_reason_is_not_queued(phone):
    depot_at_saint_lambert()
    report = potholes_over_liege()[0]
    log_in(phone, "crew-voirie")
    in_language(phone, "fr")
    phone.goto(f"{phone.base_url}/equipe/liege-voirie/{report.reference}/")
    phone.context.set_offline(True)
    phone.wait_for_function("() => !navigator.onLine")

    phone.get_by_role("button", name="Impossible à faire").click()

    phone.wait_for_function("() => document.getElementById('reason').validationMessage !== ''")
    assert phone.evaluate("document.getElementById('reason').validationMessage") == (
        "Choisissez pourquoi ce n'est pas possible."
    )
    assert phone.get_by_text("Une mise à jour attend").count() == 0

    phone.get_by_label("Si c'est impossible : pourquoi ?").select_option("not_found")
    phone.get_by_role("button", name="Impossible à faire").click()
    phone.get_by_text("Une mise à jour attend d'être envoyée.").wait_for()
    phone.context.set_offline(False)
    phone.get_by_text("Mise à jour envoyée à").wait_for()
    assert CrewUpdate.objects.get().cannot_reason == "not_found"
