"""In Chromium, in French, on a desktop and a 390 px phone: the header shows who is signed in and
signs out; a refusal is a page of the site that says what to do instead."""

import os
from pathlib import Path

import pytest

from tests.browser import axe_violations
from tests.conftest import SCREENS, _new_page
from tests.crew.test_crew_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", "/tmp/signalements-screenshots"))

VIEWPORTS = SCREENS


@pytest.fixture(params=list(VIEWPORTS))
def screen(request, chromium, live_server, liege):
    context, page = _new_page(chromium, **VIEWPORTS[request.param])
    page.base_url = live_server.url
    page.screen_name = request.param
    yield page
    context.close()


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}-{page.screen_name}.png", full_page=True)


def scrolls_sideways(page, selector: str = "html") -> bool:
    """Wider than the layout viewport (innerWidth would grow with the content on a phone)."""
    return page.evaluate(
        "(s) => document.querySelector(s).scrollWidth > document.documentElement.clientWidth", selector
    )


def test_the_header_shows_the_agent_and_logs_out(screen):
    page = screen
    log_in(page, "agent")
    page.goto(page.base_url + "/bureau/")

    account = page.locator("header .account")
    assert account.locator(".account-name").inner_text() == "Connecté : agent"
    assert not scrolls_sideways(page, "header")  # the queue below is the queue's own business
    shot(page, "header-agent")
    account.get_by_role("button", name="Se déconnecter").click()

    page.wait_for_url(page.base_url + "/")
    assert page.locator("header .account").count() == 0
    page.goto(page.base_url + "/bureau/")
    assert "/admin/login/" in page.url


def test_a_planner_refused_the_registration_form_gets_a_page_of_the_site(screen):
    page = screen
    log_in(page, "planner")
    response = page.goto(page.base_url + "/bureau/nouveau/")

    assert response.status == 403
    assert page.locator("h1").inner_text() == "Accès refusé"
    assert page.locator("header .account-name").inner_text() == "Connecté : planner"
    assert page.get_by_role("link", name="Aller à la file du bureau").get_attribute("href") == "/bureau/"
    assert axe_violations(page) == []
    assert not scrolls_sideways(page)
    shot(page, "403-planner")

    page.get_by_role("button", name="Se connecter avec un autre compte").click()
    page.wait_for_url("**/admin/login/?next=/bureau/nouveau/")
    page.fill("#id_username", "agent")
    assert page.locator("#id_password").count() == 1
