"""The planners' page in a real browser, in French, on a desktop and a 390 px phone: the map's four
layers and the chart drawn, the filters changing map and tables, the downloads parseable, axe-clean
and reachable by keyboard; the standalone folium report opened offline in Chromium."""

import csv
import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.browser import SHOTS, no_horizontal_scroll, shoot, tab_to
from tests.conftest import SCREENS, _new_page
from tests.crew.test_crew_browser import log_in
from tests.desk.test_desk_browser import assert_accessible
from tests.planning_data import planning_data_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
LEAVES = "category=feuilles-mortes&season=autumn"


@pytest.fixture(params=["desktop", "phone"])
def screen(request, chromium, live_server, liege):
    context, page = _new_page(chromium, accept_downloads=True, **SCREENS[request.param])
    page.base_url = live_server.url
    page.screen = request.param
    yield page
    context.close()


def map_ready(page) -> None:
    errors = page.locator(".error-summary")
    assert errors.count() == 0, errors.inner_text()
    page.wait_for_function("document.getElementById('planning-map').dataset.ready === 'true'")


def chart_drawn(page) -> None:
    page.wait_for_function(
        """() => {
            const canvas = document.getElementById("chart-monthly");
            if (!canvas || !canvas.width || !canvas.height) return false;
            const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
            for (let i = 3; i < pixels.length; i += 4) if (pixels[i]) return true;
            return false;
        }"""
    )


def test_the_planner_reads_the_map_chart_and_tables_and_filters_them(screen, liege):
    page = screen
    data = planning_data_create(liege)
    log_in(page, "planner")
    page.goto(f"{page.base_url}/planification/?{LEAVES}")
    map_ready(page)
    chart_drawn(page)
    planning_map = page.locator("#planning-map")
    assert planning_map.get_attribute("data-districts") == str(len(data.districts))
    assert planning_map.get_attribute("data-hotspots") == "3"  # the no-pattern cell is not drawn
    assert planning_map.get_attribute("data-recurring") == "2"
    assert planning_map.get_attribute("data-clusters") == "1"
    # Choropleth, hotspot cells, recurring places and the cluster's circle are drawn.
    assert page.locator("#planning-map .leaflet-districts-pane path").count() == len(data.districts)
    assert page.locator("#planning-map .leaflet-hotspots-pane path").count() == 3
    assert page.locator("#planning-map .leaflet-clusters-pane path").count() == 1
    assert page.locator(".leaflet-control-layers-overlays label").count() == 4
    assert page.locator(".hotspot-legend li").count() == 17
    assert page.locator(".hotspot-legend li").first.get_attribute("title")
    assert "2 lieux récurrents" in page.locator("#recurring-caption").inner_text()
    assert "Dernier calcul" in page.locator("#last-computed").inner_text()
    assert "taux" in page.locator(".bias-note").inner_text()
    assert no_horizontal_scroll(page)
    assert_accessible(page)
    shoot(page, "planning")

    page.select_option("#id_season", "winter")
    page.get_by_role("button", name="Afficher").click()
    page.wait_for_url("**season=winter**")
    map_ready(page)
    assert planning_map.get_attribute("data-recurring") == "0"
    assert "Aucun lieu récurrent" in page.locator("table.recurring").inner_text()
    assert page.locator("#id_season").input_value() == "winter"

    page.select_option("#id_season", "autumn")
    page.select_option("#id_category", "lampadaire-eteint")
    page.get_by_role("button", name="Afficher").click()
    page.wait_for_url("**category=lampadaire-eteint**")
    map_ready(page)
    assert planning_map.get_attribute("data-hotspots") == "0"
    assert planning_map.get_attribute("data-clusters") == "0"
    assert "Aucune alerte" in page.locator("table.clusters").inner_text()
    # The volumes of that category are none: every district counts 0.
    assert set(page.locator("table.volumes tbody tr td:nth-child(2)").all_inner_texts()) == {"0"}
    assert_accessible(page)


def test_on_a_phone_every_table_caption_is_read_whole_without_scrolling(chromium, live_server, liege):
    # A caption is as wide as its table: at 390 px most of "Volumes par quartier, automne…" lay
    # beyond the right edge of its scrolled region.
    context, page = _new_page(chromium, **SCREENS["phone"])
    page.base_url = live_server.url
    planning_data_create(liege)
    log_in(page, "planner")
    page.goto(f"{page.base_url}/planification/?{LEAVES}")
    captions = page.locator(".table-scroll caption")
    assert captions.count() == 5
    for i in range(captions.count()):
        caption = captions.nth(i)
        region = caption.locator("xpath=ancestor::div[contains(@class, 'table-scroll')]")
        box, frame = caption.bounding_box(), region.bounding_box()
        assert box["x"] >= frame["x"] and box["x"] + box["width"] <= frame["x"] + frame["width"] + 1, (
            caption.inner_text()
        )
    context.close()


def test_every_table_and_layer_downloads_and_parses(screen, liege):
    page = screen
    data = planning_data_create(liege)
    log_in(page, "planner")
    page.goto(f"{page.base_url}/planification/?{LEAVES}")
    links = page.locator(".downloads a")
    assert links.count() == 10  # 5 tables, 4 layers, the report
    for i in range(links.count()):
        link = links.nth(i)
        with page.expect_download() as info:
            link.click()
        download = info.value
        body = Path(download.path()).read_text(encoding="utf-8")
        name = download.suggested_filename
        if name.endswith(".csv"):
            rows = list(csv.reader(io.StringIO(body)))
            assert len(rows[0]) > 3, name
            if "volumes" in name:
                assert len(rows) == 1 + 2 * len(data.districts)
        elif name.endswith(".geojson"):
            assert json.loads(body)["type"] == "FeatureCollection", name
        else:
            assert name.endswith(".html") and "report-legend" in body
    assert_accessible(page)


def test_the_filters_and_downloads_are_reachable_by_keyboard(page, liege):
    planning_data_create(liege)
    log_in(page, "planner")
    page.goto(f"{page.base_url}/planification/?category=feuilles-mortes&season=winter")
    tab_to(page, "#id_season")
    page.keyboard.press("End")  # the last season
    tab_to(page, ".planning-filters button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url("**season=autumn**")  # autumn is the last season of the list
    page.locator("#recurring-caption", has_text="2 lieux").wait_for()
    tab_to(page, "#report-link", limit=200)


@pytest.mark.parametrize("role", ["crew-voirie", "anonymous"])
def test_crews_are_refused_and_visitors_sent_to_log_in(page, liege, role):
    if role != "anonymous":
        log_in(page, role)
    response = page.goto(f"{page.base_url}/planification/")
    if role == "anonymous":
        assert "login" in page.url and "next=" in page.url
        assert page.locator("#planning-map").count() == 0
    else:
        assert response.status == 403


def test_the_standalone_report_opens_offline_in_chromium_with_its_layers_and_legend(
    chromium, liege, tmp_path
):
    planning_data_create(liege)
    out = tmp_path / "report.html"
    call_command(
        "hotspot_report", category="feuilles-mortes", season="autumn", out=str(out), stdout=io.StringIO()
    )
    context = chromium.new_context(locale="fr-BE", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    requested = []

    def refuse(route):
        requested.append(route.request.url)
        route.abort()

    page.route("http*://**", refuse)  # no network: everything the report needs is in the file
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(out.as_uri())
    page.wait_for_function("document.querySelectorAll('.leaflet-overlay-pane path').length > 0")

    assert errors == []
    assert page.locator(".leaflet-control-layers-overlays label").count() == 4
    overlays = page.locator(".leaflet-control-layers-overlays").inner_text()
    for name in ("Quartiers", "Points chauds émergents", "Lieux récurrents", "Alertes précoces"):
        assert name in overlays
    legend = page.locator("#report-legend")
    assert legend.is_visible() and "point chaud persistant" in legend.inner_text()
    assert all("tile.openstreetmap.org" in url for url in requested), requested  # only the background
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "planning-report-desktop.png"))
    context.close()


def test_the_planning_page_breaks_no_content_security_policy_rule(strict_page, liege):
    """The map, its layers, the legends' colours and the chart under the site's real policy."""
    from tests.platform.test_csp_browser import RECORD_VIOLATIONS

    page = strict_page
    page.context.add_init_script(RECORD_VIOLATIONS)
    planning_data_create(liege)
    log_in(page, "planner")
    page.goto(f"{page.base_url}/planification/?{LEAVES}")
    page.locator("#planning-map[data-ready=true]").wait_for(state="attached")
    page.wait_for_load_state("load")

    assert page.evaluate("window.cspViolations") == []
    assert page.locator("#planning-map .leaflet-hotspots-pane path").count() == 3
    swatch = page.locator(".hotspot-legend .hc-persistent_hot").first
    assert swatch.evaluate("(e) => getComputedStyle(e).backgroundColor") == "rgb(222, 45, 38)"  # #de2d26
