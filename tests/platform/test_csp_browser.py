"""Under the Content Security Policy every page still runs its maps and scripts: the browser reports
no violation."""

import pytest

from signalements.desk.duplicates import duplicate_groups_propose
from tests.crew.test_crew_browser import log_in
from tests.factories import SignalementFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation",
    (e) => window.cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline")));
"""


def violations_on(page, path: str, ready: str) -> list[str]:
    page.goto(page.base_url + path)
    page.wait_for_selector(ready, state="attached")
    page.wait_for_load_state("load")
    return page.evaluate("window.cspViolations")


def test_public_desk_crew_admin_and_documentation_pages_break_no_policy_rule(strict_page):
    page = strict_page
    page.context.add_init_script(RECORD_VIOLATIONS)
    report = SignalementFactory()
    SignalementFactory()  # the same place and category: a nearby report and a duplicate group
    duplicate_groups_propose()
    checked = {
        "/": "#public-map[data-ready=true]",
        f"/?z=17&lat={report.location.y}&lon={report.location.x}": "#public-map[data-ready=true]",
        "/carte/liste/": "table.report-list",
        "/signaler/lieu/": ".leaflet-container",
        f"/signalements/{report.reference}/": "main",
        "/api/docs/": ".swagger-ui",
    }
    found = {path: violations_on(page, path, ready) for path, ready in checked.items()}
    log_in(page, "admin")
    staff = {
        "/bureau/": "#queue-map.leaflet-container",
        f"/bureau/signalements/{report.reference}/": "#report-detail-map .leaflet-overlay-pane path",
        "/bureau/doublons/": ".group-map .leaflet-overlay-pane path",
        "/bureau/?q=avroy": "#queue-map.leaflet-container",
        "/bureau/statistiques/": "#chart-volumes",
        "/equipe/liege-voirie/": "#crew-map.leaflet-container",
        "/equipe/liege-voirie/?format=print": "#crew-map.leaflet-container",
        "/admin/signalements/signalement/": "#signalements-map path.leaflet-interactive",
    }
    found |= {path: violations_on(page, path, ready) for path, ready in staff.items()}
    assert {path: v for path, v in found.items() if v} == {}
