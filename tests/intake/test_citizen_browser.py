"""The citizen's path in a real browser: map click, keyboard only, duplicates, back, tracking, phone."""

import re

import pytest
from django.contrib.gis.geos import Point

from cartography.models import Place
from signalements.desk.services import comment_add, signalement_transition
from signalements.intake.services import ReporterData, signalement_submit
from signalements.models import Category, Comment, Notification, Signalement, Support
from tests.browser import axe_violations, tab_to
from tests.conftest import PLACE_SAINT_LAMBERT

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def assert_accessible(page) -> None:
    violations = axe_violations(page)
    assert violations == [], f"{page.url}: {violations}"


def _saint_lambert_place() -> Point:
    """Where the local geocoder puts "Saint-Lambert" (the statistical sector of that name)."""
    return Place.objects.get(territory__slug="liege", name="Saint-Lambert").point


def litter_at_saint_lambert(page) -> None:
    """Place by address search, category "litter": the steps before the nearby reports."""
    page.goto(page.base_url + "/signaler/lieu/")
    page.get_by_label("Adresse ou nom du lieu").fill("Saint-Lambert")
    page.get_by_role("button", name="Chercher").click()
    page.get_by_label("Saint-Lambert").first.check()
    page.get_by_role("button", name="Continuer").click()
    page.get_by_label("Déchets et salissures").check()
    page.get_by_role("button", name="Continuer").click()


def place_pin_by_map(page) -> None:
    page.goto(page.base_url + "/signaler/")
    page.wait_for_function("document.querySelector('#report-map .leaflet-overlay-pane path') !== null")
    box = page.locator("#report-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_function("document.querySelector('input[name=lon]').value !== ''")
    assert "Point placé" in page.locator("#map-status").inner_text()


def test_a_full_report_by_map_click(page):
    place_pin_by_map(page)
    assert_accessible(page)
    page.get_by_role("button", name="Continuer").click()

    page.get_by_label("Déchets et salissures").check()
    page.get_by_label("Description").fill("Sacs poubelles éventrés sur le trottoir")
    assert_accessible(page)
    page.get_by_role("button", name="Continuer").click()

    page.get_by_label("E-mail").fill("habitant@example.org")
    assert_accessible(page)
    page.get_by_role("button", name="Continuer").click()

    page.get_by_role("heading", name="Vérifiez avant d'envoyer").wait_for()
    assert "Sacs poubelles éventrés" in page.locator("dl.summary").inner_text()
    assert_accessible(page)
    page.get_by_role("button", name="Envoyer le signalement").click()

    page.get_by_text("Merci, votre signalement est envoyé").wait_for()
    assert_accessible(page)
    signalement = Signalement.objects.get()
    assert page.locator(".reference strong").inner_text() == signalement.reference
    assert signalement.channel == "web" and signalement.category.slug == "dechets"
    assert signalement.reporter.email == "habitant@example.org"
    assert Notification.objects.filter(signalement=signalement, kind="submitted").count() == 1

    page.locator("#tracking-link").click()
    page.get_by_role("heading", name=f"Signalement {signalement.reference}").wait_for()
    assert_accessible(page)


def test_the_no_map_path_with_the_keyboard_only(page):
    page.goto(page.base_url + "/signaler/lieu/")
    tab_to(page, "#id_address")
    page.keyboard.type("Feronstree")
    page.keyboard.press("Enter")  # the first button of the form: search
    page.get_by_text("Choisissez le bon lieu").wait_for()
    assert_accessible(page)
    tab_to(page, "input[name=place_choice]")
    page.keyboard.press("Space")
    tab_to(page, "button[value=continue]")
    page.keyboard.press("Enter")

    page.get_by_role("heading", name="Quel est le problème ?").wait_for()
    tab_to(page, "#category-filter")
    page.keyboard.type("feuilles")
    tab_to(page, "#cat-feuilles-mortes")
    page.keyboard.press("Space")
    tab_to(page, "#id_description")
    page.keyboard.type("Tas de feuilles glissant devant l'école")
    tab_to(page, "button[value=continue]")
    page.keyboard.press("Enter")

    page.get_by_role("heading", name="Vos coordonnées (facultatif)").wait_for()
    tab_to(page, "button[value=continue]")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Vérifiez avant d'envoyer").wait_for()
    tab_to(page, "button.primary")
    page.keyboard.press("Enter")

    page.get_by_text("Merci, votre signalement est envoyé").wait_for()
    signalement = Signalement.objects.get()
    assert signalement.category.slug == "feuilles-mortes"
    assert signalement.address == "Feronstree"
    assert signalement.district.code == "62063A"


def test_the_district_and_description_path_without_any_address(page):
    page.goto(page.base_url + "/signaler/lieu/")
    page.get_by_text("Je ne trouve pas l'adresse").click()
    page.get_by_label("Quartier").select_option(label="Chênée")
    page.get_by_label("Décrivez le lieu").fill("Sentier le long de la Vesdre, près du pont")
    page.get_by_role("button", name="Continuer").click()

    page.get_by_role("heading", name="Quel est le problème ?").wait_for()
    page.get_by_label("Dépôt sauvage, objet abandonné").check()
    page.get_by_role("button", name="Continuer").click()
    page.get_by_role("heading", name="Vos coordonnées (facultatif)").wait_for()
    page.get_by_role("button", name="Continuer").click()
    page.get_by_role("heading", name="Vérifiez avant d'envoyer").wait_for()
    place = page.locator("dl.summary dd").first.inner_text()
    assert "(Chênée)" in place and "Sentier le long de la Vesdre, près du pont" in place
    page.get_by_role("button", name="Envoyer le signalement").click()
    page.get_by_text("Merci, votre signalement est envoyé").wait_for()

    signalement = Signalement.objects.get()
    assert signalement.location_is_approximate
    assert signalement.district.name == "Chênée"
    assert signalement.place_description == "Sentier le long de la Vesdre, près du pont"


def test_nearby_reports_are_offered_and_me_too_backs_one(page):
    existing, _ = signalement_submit(
        category=Category.objects.get(slug="dechets"), location=_saint_lambert_place(), description="Déjà vu"
    )
    litter_at_saint_lambert(page)

    page.get_by_role("heading", name="Ce problème est-il déjà signalé ?").wait_for()
    assert existing.reference in page.content()
    assert_accessible(page)
    page.get_by_label("E-mail (facultatif), pour être prévenu").fill("voisin@example.org")
    page.get_by_role("button", name=re.compile(f"Moi aussi.*{existing.reference}")).click()

    page.get_by_text("Merci, votre soutien est enregistré").wait_for()
    assert_accessible(page)
    existing.refresh_from_db()
    assert existing.support_count == 1
    assert Support.objects.get(signalement=existing).email == "voisin@example.org"
    assert Signalement.objects.count() == 1


def test_sending_anyway_records_the_likely_duplicates(page):
    existing, _ = signalement_submit(
        category=Category.objects.get(slug="dechets"), location=_saint_lambert_place()
    )
    litter_at_saint_lambert(page)
    page.get_by_role("link", name="Non, c'est un autre problème : continuer").click()
    page.get_by_role("button", name="Continuer").click()
    page.get_by_role("button", name="Envoyer le signalement").click()
    page.get_by_text("Merci, votre signalement est envoyé").wait_for()

    new = Signalement.objects.exclude(pk=existing.pk).get()
    assert list(new.duplicate_candidates.values_list("candidate_id", flat=True)) == [existing.pk]


def test_going_back_never_loses_what_was_typed(page):
    place_pin_by_map(page)
    page.get_by_role("button", name="Continuer").click()
    page.get_by_label("Nid-de-poule ou chaussée abîmée").check()
    page.get_by_label("Description").fill("Trou profond au milieu de la rue")
    page.get_by_role("button", name="Retour").click()  # the page's own back button

    page.get_by_role("heading", name="Où est le problème ?").wait_for()
    page.get_by_role("button", name="Continuer").click()
    assert page.get_by_label("Description").input_value() == "Trou profond au milieu de la rue"
    assert page.get_by_label("Nid-de-poule ou chaussée abîmée").is_checked()
    page.get_by_role("button", name="Continuer").click()
    page.get_by_label("Nom", exact=True).fill("Jeanne")
    page.get_by_role("button", name="Continuer").click()
    # Going back while the review is still being committed detaches Chromium's page from Playwright.
    page.get_by_role("heading", name="Vérifiez avant d'envoyer").wait_for()

    page.go_back()  # the browser's back button, from the review to the contact step
    page.get_by_role("heading", name="Vos coordonnées (facultatif)").wait_for()
    assert page.get_by_label("Nom", exact=True).input_value() == "Jeanne"
    page.go_back()
    page.get_by_role("heading", name="Quel est le problème ?").wait_for()
    assert page.get_by_label("Description").input_value() == "Trou profond au milieu de la rue"


def test_the_tracking_page_after_a_status_change(page, mailoutbox):
    signalement, _ = signalement_submit(
        category=Category.objects.get(slug="lampadaire-eteint"),
        location=Point(*PLACE_SAINT_LAMBERT, srid=4326),
        reporter=ReporterData(email="habitant@example.org"),
    )
    signalement_transition(
        signalement=signalement, to_status="planned", text="Intervention prévue jeudi matin."
    )
    comment_add(
        signalement=signalement, text="Note interne : pièce commandée chez le fournisseur", is_internal=True
    )
    comment_add(signalement=signalement, text="Merci pour votre patience.")

    page.goto(page.base_url + f"/suivi/{signalement.tracking_token}/")

    text = page.locator("main").inner_text()
    assert "Planifié" in text and "Intervention prévue jeudi matin." in text
    assert "Éclairage public" in text and "+32 4 000 10 06" in text
    assert "Merci pour votre patience." in text
    assert "pièce commandée" not in text
    assert_accessible(page)

    page.get_by_label("Votre message").fill("La lampe clignote aussi la nuit.")
    page.get_by_role("button", name="Envoyer le message").click()
    page.get_by_text("Votre message est ajouté.").wait_for()
    assert Comment.objects.filter(signalement=signalement, from_citizen=True).count() == 1

    signalement_transition(signalement=signalement, to_status="resolved", text="Lampe remplacée.")
    page.reload()
    page.get_by_text("Oui", exact=True).click()
    page.get_by_label("4").check()
    page.get_by_role("button", name="Envoyer mon avis").click()
    page.get_by_text("Merci pour votre réponse.").wait_for()
    assert_accessible(page)
    signalement.refresh_from_db()
    assert (signalement.satisfaction.solved, signalement.satisfaction.rating) == (True, 4)


def test_another_token_gives_404(page):
    signalement, _ = signalement_submit(
        category=Category.objects.get(slug="dechets"), location=Point(*PLACE_SAINT_LAMBERT, srid=4326)
    )
    response = page.goto(page.base_url + f"/suivi/{signalement.tracking_token[:-1]}x/")
    assert response.status == 404


def test_the_home_and_public_pages_are_accessible(page):
    signalement, _ = signalement_submit(
        category=Category.objects.get(slug="dechets"), location=Point(*PLACE_SAINT_LAMBERT, srid=4326)
    )
    page.goto(page.base_url + "/")
    assert_accessible(page)
    page.goto(page.base_url + f"/signalements/{signalement.reference}/")
    assert_accessible(page)


def test_a_report_from_a_phone(phone):
    phone.goto(phone.base_url + "/signaler/")
    phone.wait_for_function("document.querySelector('#report-map .leaflet-overlay-pane path') !== null")
    box = phone.locator("#report-map").bounding_box()
    phone.touchscreen.tap(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    phone.wait_for_function("document.querySelector('input[name=lon]').value !== ''")
    for _ in range(4):
        assert phone.evaluate("document.documentElement.scrollWidth") <= 360, phone.url
        assert_accessible(phone)
        if "probleme" in phone.url:
            phone.get_by_label("Poubelle publique pleine").check()
        if "verifier" in phone.url:
            break
        phone.get_by_role("button", name="Continuer").click()
        phone.wait_for_load_state()
    phone.get_by_role("button", name="Envoyer le signalement").click()
    phone.get_by_text("Merci, votre signalement est envoyé").wait_for()
    phone.wait_for_load_state("load")  # measure with the style sheet applied
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    assert Signalement.objects.get().category.slug == "poubelle-pleine"
