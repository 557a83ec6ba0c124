"""The location step on a phone, in French: when the browser gives no position, the citizen is told
why and pointed to the other ways of placing the point."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser import axe_violations
from tests.conftest import jpeg_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("SCREENSHOT_DIR", "/tmp"))


@pytest.fixture
def phone390(chromium, live_server, liege):
    """A 390 px phone in French that has granted no permission: geolocation requests are refused."""
    context = chromium.new_context(
        locale="fr-BE",
        bypass_csp=True,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
        permissions=[],
    )
    page = context.new_page()
    page.route("**/tile.openstreetmap.org/**", lambda route: route.abort())
    page.set_default_timeout(30_000)
    page.base_url = live_server.url
    yield page
    context.close()


def _use_my_location(page) -> None:
    page.goto(page.base_url + "/signaler/lieu/")
    page.get_by_role("button", name="Utiliser ma position").click()


def test_a_refused_location_says_so_and_points_to_the_address_search(phone390):
    page = phone390
    _use_my_location(page)
    problem = page.locator("#locate-problem")
    page.wait_for_function("document.getElementById('locate-problem-text').textContent !== ''")
    assert problem.get_attribute("role") == "status"
    assert "Vous n’avez pas autorisé ce site à connaître votre position." in problem.inner_text()
    assert page.get_by_role("link", name="cherchez une adresse").is_visible()
    address = page.get_by_label("Adresse ou nom du lieu")
    assert page.evaluate("document.activeElement.name") == "address"
    assert "locate-problem-text" in address.get_attribute("aria-describedby")
    page.screenshot(path=str(SHOTS / "location-refused-fr-390.png"), full_page=True)
    assert axe_violations(page) == []

    page.get_by_role("link", name="ou choisissez le quartier").click()
    assert page.locator("#no-map").evaluate("(d) => d.open")
    assert page.get_by_label("Quartier").is_visible()


def test_a_browser_without_geolocation_is_told_too(phone390):
    page = phone390
    page.add_init_script("Object.defineProperty(navigator, 'geolocation', {value: undefined})")
    _use_my_location(page)
    assert "Ce navigateur ne peut pas donner votre position." in page.locator("#locate-problem").inner_text()
    assert page.evaluate("document.activeElement.name") == "address"


def test_the_refusal_is_translated(phone390):
    page = phone390
    page.goto(page.base_url + "/signaler/lieu/")
    page.evaluate("document.cookie = 'django_language=nl; path=/'")
    page.goto(page.base_url + "/signaler/lieu/")
    page.get_by_role("button", name="Mijn locatie gebruiken").click()
    page.wait_for_function("document.getElementById('locate-problem-text').textContent !== ''")
    assert (
        "U hebt deze site geen toegang tot uw locatie gegeven."
        in page.locator("#locate-problem").inner_text()
    )


def test_the_address_search_finds_a_street_with_its_accents(phone390):
    page = phone390
    page.goto(page.base_url + "/signaler/lieu/")
    page.get_by_label("Adresse ou nom du lieu").fill("vinave d ile")
    page.get_by_role("button", name="Chercher").click()
    page.get_by_label("Rue Vinâve d'Île").check()
    page.screenshot(path=str(SHOTS / "address-search-fr-390.png"), full_page=True)
    assert axe_violations(page) == []
    page.get_by_role("button", name="Continuer").click()
    page.wait_for_url("**/signaler/probleme/")

    page.goto(page.base_url + "/signaler/lieu/")
    page.get_by_label("Adresse ou nom du lieu").fill("boulevard d'Avroy")
    page.get_by_role("button", name="Chercher").click()
    assert page.get_by_label("Boulevard d'Avroy", exact=True).is_visible()


def test_a_missing_category_keeps_the_photo_on_a_phone(phone390, tmp_path):
    page = phone390
    photo = tmp_path / "trou.jpg"
    photo.write_bytes(jpeg_bytes())
    page.goto(page.base_url + "/signaler/lieu/")
    page.get_by_label("Adresse ou nom du lieu").fill("boulevard d'Avroy")
    page.get_by_role("button", name="Chercher").click()
    page.get_by_label("Boulevard d'Avroy", exact=True).check()
    page.get_by_role("button", name="Continuer").click()
    page.get_by_label("Description").fill("Trou profond devant le n° 12")
    page.get_by_label("Photos (jusqu'à 3)").set_input_files(str(photo))
    page.get_by_role("button", name="Continuer").click()

    assert page.get_by_text("Choisissez une catégorie.").first.is_visible()
    assert page.get_by_label("Description").input_value() == "Trou profond devant le n° 12"
    # The thumbnail is fetched after the page: wait for it to be drawn (a busy machine is slower).
    expect(page.get_by_role("img", name="Photo 1")).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_label("Nid-de-poule ou chaussée abîmée").check()
    page.get_by_role("button", name="Continuer").click()
    page.wait_for_url("**/signaler/**")
    assert "/signaler/probleme/" not in page.url
