"""The desk's queue (search, map legend, districts) and statistics (charts) in a real browser,
in French, on a desktop and a 390 px phone, axe-clean."""

from datetime import timedelta

import pytest
from django.utils import timezone

from signalements.models import StatusChange
from tests.browser import no_horizontal_scroll, shoot
from tests.conftest import SCREENS, _new_page
from tests.crew.test_crew_browser import log_in
from tests.desk.test_desk_browser import assert_accessible
from tests.factories import SignalementFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(params=["desktop", "phone"])
def screen(request, chromium, live_server, liege):
    context, page = _new_page(chromium, **SCREENS[request.param])
    page.base_url = live_server.url
    page.screen = request.param
    yield page
    context.close()


def test_the_queue_searches_shows_closed_reports_and_its_map_has_a_legend(screen):
    page = screen
    SignalementFactory(address="Boulevard d'Avroy 12", description="Nid-de-poule devant la boulangerie")
    closed = SignalementFactory(status="closed", address="Quai de la Batte 3", description="Tags sur le mur")
    SignalementFactory(deadline_at=timezone.now() - timedelta(days=1), status="acknowledged")
    log_in(page, "agent")
    page.goto(page.base_url + "/bureau/")
    page.wait_for_function("document.querySelectorAll('#queue-map path.leaflet-interactive').length === 2")
    page.wait_for_function("document.querySelectorAll('#queue-map .leaflet-districts-pane path').length > 0")
    legend = page.locator(".map-legend")
    assert "En retard" in legend.inner_text() and "Limite de quartier" in legend.inner_text()
    assert "2 signalements ouverts" in page.locator("#queue-caption").inner_text()
    if page.screen == "desktop":
        # Full width: the table is as wide as the window, less the page's padding.
        window = page.viewport_size["width"]
        assert page.locator("table.queue").bounding_box()["width"] > window - 100
    assert no_horizontal_scroll(page)
    assert_accessible(page)
    shoot(page, "queue")

    page.locator("#id_q").fill("batte")
    page.get_by_role("button", name="Filtrer").click()
    page.locator("#queue-caption", has_text="1 signalement trouvé, ouvert ou non").wait_for()
    assert closed.reference in page.locator("table.queue").inner_text()
    page.wait_for_function("document.querySelectorAll('#queue-map path.leaflet-interactive').length === 1")
    page.locator("#queue-map path.leaflet-interactive").first.click(force=True)
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert closed.category.name in popup.inner_text() and "Clôturé" in popup.inner_text()
    assert_accessible(page)
    shoot(page, "queue-search")


def test_the_statistics_draw_their_charts_beside_the_tables(screen):
    page = screen
    now = timezone.now()
    for days, hours in [(3, 5), (10, 30), (17, 50)]:
        report = SignalementFactory(created_at=now - timedelta(days=days), deadline_at=now)
        for status, after in [("acknowledged", 1), ("resolved", hours)]:
            StatusChange.objects.create(
                signalement=report,
                from_status=report.status,
                to_status=status,
                created_at=report.created_at + timedelta(hours=after),
            )
            report.status = status
            report.save(update_fields=["status"])
    log_in(page, "planner")
    page.goto(page.base_url + "/bureau/statistiques/")
    for chart in ("#chart-volumes", "#chart-resolve"):
        page.wait_for_function(
            """(selector) => {
                const canvas = document.querySelector(selector);
                if (!canvas || !canvas.width || !canvas.height) return false;
                const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
                for (let i = 3; i < pixels.length; i += 4) if (pixels[i]) return true;
                return false;
            }""",
            arg=chart,
        )
    assert page.locator("caption", has_text="Par canal").count() == 1
    assert page.locator("th", has_text="Canal").count() >= 1
    assert "dont l'historique est connu : 3" in page.locator("#timed-note").inner_text()
    assert no_horizontal_scroll(page)
    assert_accessible(page)
    shoot(page, "statistics")
