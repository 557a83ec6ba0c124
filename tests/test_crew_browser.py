"""A crew member marks an item done with a photo, from a phone, in a real browser."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point
from django.test import Client

from cartography.models import Team
from signalements.models import Category

from .conftest import PLACE_SAINT_LAMBERT, jpeg_bytes
from .factories import SignalementFactory
from .test_citizen_browser import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, username: str) -> None:
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    session = client.cookies["sessionid"].value
    page.context.add_cookies([{"name": "sessionid", "value": session, "url": page.base_url}])


def test_a_crew_member_marks_an_item_done_with_a_photo_from_a_phone(phone, tmp_path):
    team = Team.objects.get(slug="liege-voirie")
    team.depot = Point(*PLACE_SAINT_LAMBERT, srid=4326)
    team.save()
    report = SignalementFactory(
        category=Category.objects.get(slug="nid-de-poule"),
        location=Point(PLACE_SAINT_LAMBERT[0] + 0.002, PLACE_SAINT_LAMBERT[1], srid=4326),
    )
    log_in(phone, "crew-voirie")
    photo = tmp_path / "done.jpg"
    photo.write_bytes(jpeg_bytes(size=(800, 600)))

    phone.goto(phone.base_url + "/equipe/")
    phone.locator(".stop-link").first.wait_for()
    phone.wait_for_function("document.querySelector('#crew-map .stop-icon') !== null")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    assert_accessible(phone)
    phone.locator(".stop-link").first.click()

    phone.get_by_role("heading", name=f"{report.reference} – Nid-de-poule ou chaussée abîmée").wait_for()
    assert (
        phone.get_by_role("link", name="Y aller (application de navigation)")
        .get_attribute("href")
        .startswith("geo:")
    )
    assert_accessible(phone)
    phone.get_by_label("Note").fill("Rebouché à froid")
    phone.get_by_label("Photo").set_input_files(str(photo))
    phone.get_by_role("button", name="Fait").click()

    phone.get_by_text("Enregistré.").wait_for()
    report.refresh_from_db()
    assert report.status == "resolved" and report.photos.count() == 1
    assert "Rien à faire ici pour le moment." in phone.content()
