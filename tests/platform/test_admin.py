"""Administrators manage reference data with map widgets and see reports on a map."""

import re

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.functional import Promise

from cartography.models import District, Team, WorkZone
from signalements.models import Category
from tests.factories import SignalementFactory


@pytest.fixture
def admin_client(client, liege):
    client.force_login(get_user_model().objects.get(username="admin"))
    return client


@pytest.mark.parametrize(
    "model",
    [
        "cartography/territory",
        "cartography/district",
        "cartography/team",
        "cartography/workzone",
        "signalements/category",
        "signalements/categorygroup",
        "signalements/signalement",
    ],
)
def test_every_reference_list_opens(admin_client, model):
    assert admin_client.get(f"/admin/{model}/").status_code == 200


def test_district_and_work_zone_forms_have_a_leaflet_map(admin_client):
    district = District.objects.filter(layer="districts").first()
    zone = WorkZone.objects.first()

    for url in (
        f"/admin/cartography/district/{district.pk}/change/",
        f"/admin/cartography/workzone/{zone.pk}/change/",
        "/admin/cartography/team/add/",
    ):
        page = admin_client.get(url).content.decode()
        assert "leaflet" in page.lower()
        # No script or style from another host (a CSP nonce may hold any letters: look at URLs).
        assert not re.search(r'(?:src|href)="(?:https?:)?//', page)


def test_category_form_has_the_three_languages(admin_client):
    page = admin_client.get("/admin/signalements/category/add/").content.decode()

    assert 'name="name_fr"' in page and 'name="name_en"' in page and 'name="name_nl"' in page


def test_the_report_list_has_a_map_of_the_filtered_selection(admin_client):
    leaves = SignalementFactory(category=Category.objects.get(slug="feuilles-mortes"))
    other = SignalementFactory()
    query = f"?category__id__exact={leaves.category_id}"

    page = admin_client.get(f"/admin/signalements/signalement/{query}")
    assert 'id="signalements-map"' in page.content.decode()
    data = admin_client.get(f"/admin/signalements/signalement/map-data/{query}").json()
    references = {feature["properties"]["reference"] for feature in data["features"]}
    assert leaves.reference in references and other.reference not in references
    assert data["features"][0]["geometry"]["type"] == "Point"


def test_the_report_list_and_form_show_district_names_without_their_outlines(admin_client):
    report = SignalementFactory()
    for url in ("/admin/signalements/signalement/", f"/admin/signalements/signalement/{report.pk}/change/"):
        with CaptureQueriesContext(connection) as queries:
            page = admin_client.get(url).content.decode()

        assert report.district.name in page, url
        reads = [q["sql"] for q in queries.captured_queries if '"signalements_signalement"' in q["sql"]]
        assert reads and not [sql for sql in reads if '"cartography_district"."geom"' in sql], url


def test_reports_cannot_be_added_raw_in_the_admin(admin_client):
    assert admin_client.get("/admin/signalements/signalement/add/").status_code == 403


def test_a_planner_cannot_edit_teams(client, liege):
    client.force_login(get_user_model().objects.get(username="planner"))
    team = Team.objects.first()

    assert client.get(f"/admin/cartography/team/{team.pk}/change/").status_code == 200  # may look
    response = client.post(f"/admin/cartography/team/{team.pk}/change/", {"name": "Hacked"})
    assert response.status_code == 403
    team.refresh_from_db()
    assert team.name != "Hacked"


def _models_the_admin_shows() -> set:
    shown = set()
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label in ("cartography", "signalements"):
            shown |= {model, *(inline.model for inline in model_admin.inlines)}
    return shown


def test_every_field_the_admin_shows_has_a_translatable_label():
    """Else the admin shows a label made from the field's name, in English whatever the language."""
    untranslated = [
        f"{model.__name__}.{field.name}"
        for model in _models_the_admin_shows()
        for field in model._meta.get_fields()
        if not field.auto_created
        and (
            not isinstance(field.verbose_name, Promise)
            or (getattr(field, "help_text", "") and not isinstance(field.help_text, Promise))
        )
    ]
    assert untranslated == []


@pytest.mark.parametrize(
    ("language", "labels"),
    [
        ("fr", ["Équipe :", "Zone :", "Catégories :"]),
        ("en", ["Team:", "Zone:", "Categories:"]),
        ("nl", ["Ploeg:", "Zone:", "Categorieën:"]),
    ],
)
def test_the_work_zone_form_speaks_the_admins_language(admin_client, language, labels):
    zone = WorkZone.objects.first()

    page = admin_client.get(
        f"/admin/cartography/workzone/{zone.pk}/change/", headers={"Accept-Language": language}
    ).content.decode()

    page = page.replace("\N{NO-BREAK SPACE}", " ")  # French puts one before the colon
    for label in labels:
        assert f">{label}</label>" in page


def test_the_admin_offers_no_deletion_of_reports(admin_client):
    signalement = SignalementFactory()
    signalement.history.create(from_status="", to_status="new")

    change = admin_client.get(f"/admin/signalements/signalement/{signalement.pk}/change/").content.decode()
    listed = admin_client.get("/admin/signalements/signalement/").content.decode()
    delete = admin_client.post(f"/admin/signalements/signalement/{signalement.pk}/delete/", {"post": "yes"})
    bulk = admin_client.post(
        "/admin/signalements/signalement/",
        {"action": "delete_selected", "_selected_action": [signalement.pk], "post": "yes"},
    )

    assert f"/signalement/{signalement.pk}/delete/" not in change and "delete_selected" not in listed
    assert delete.status_code == 403
    assert bulk.status_code in (200, 302)
    assert signalement.history.count() == 1
