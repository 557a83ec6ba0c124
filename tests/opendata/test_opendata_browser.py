"""The open data pages in Chromium, in French, on a desktop and a phone: no WCAG 2.1 AA violation,
nothing wider than the screen, the footer's link reaches them, and their links work."""

import os

import pytest

from tests.browser import axe_violations

SCREENSHOTS = os.environ.get("OPENDATA_SCREENSHOTS")  # a folder: keep the pages' pictures there


def overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


@pytest.mark.browser
@pytest.mark.parametrize("device", ["page", "phone"])
@pytest.mark.parametrize("path", ["/donnees/", "/donnees/dictionnaire/"])
def test_the_open_data_pages_are_accessible_on_a_desktop_and_a_phone(request, device, path):
    page = request.getfixturevalue(device)
    if device == "page":
        page.set_viewport_size({"width": 1280, "height": 900})
    else:
        page.set_viewport_size({"width": 390, "height": 844})

    page.goto(page.base_url + path)

    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.locator("h1").inner_text() in ("Données ouvertes", "Dictionnaire des données")
    assert axe_violations(page) == []
    assert overflow(page) <= 0
    if SCREENSHOTS:
        name = path.strip("/").replace("/", "-")
        page.screenshot(path=f"{SCREENSHOTS}/{name}-{device}.png", full_page=True)


@pytest.mark.browser
def test_the_footer_leads_to_the_downloads(page):
    page.goto(page.base_url + "/signaler/")
    page.locator("footer").get_by_role("link", name="Données ouvertes").click()
    page.wait_for_url("**/donnees/")

    with page.expect_download() as download:
        page.get_by_role("link", name="CSV", exact=True).click()
    assert download.value.suggested_filename.endswith(".csv")
    page.get_by_role("link", name="Dictionnaire des données").click()
    page.wait_for_url("**/donnees/dictionnaire/")
    assert page.locator("table code", has_text="reference").count() == 1
