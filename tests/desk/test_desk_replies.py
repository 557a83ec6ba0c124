"""Response templates: those that apply to a report, filled with its details, on the page and in the API."""

import html

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from signalements.desk.responses import PLACEHOLDERS, response_template_render, response_templates_for
from signalements.models import Category, ResponseTemplate
from tests.desk.test_desk_api import client_for
from tests.factories import SignalementFactory

FILLED = "Bonjour, le signalement {reference} ({category}) est confié à {team} ({team_phone}). {unknown}"


@pytest.fixture
def report(liege):
    return SignalementFactory(category=Category.objects.get(slug="nid-de-poule"), address="Feronstrée 1")


@pytest.fixture
def templates(report):
    other = Category.objects.get(slug="dechets")
    return {
        "filled": ResponseTemplate.objects.create(
            title="Pris en charge", text=FILLED, category=report.category
        ),
        "any": ResponseTemplate.objects.create(title="Merci", text="Merci pour {reference}."),
        "resolved": ResponseTemplate.objects.create(
            title="Réparé", text="Réparé à {address}.", status="resolved"
        ),
        "closed": ResponseTemplate.objects.create(title="Clôturé", text="Clôturé.", status="closed"),
        "other": ResponseTemplate.objects.create(title="Déchets", text="Ramassés.", category=other),
    }


def test_placeholders_are_filled_with_the_reports_details(report, templates):
    text = response_template_render(template=templates["filled"], signalement=report)

    assert text == (
        f"Bonjour, le signalement {report.reference} (Nid-de-poule ou chaussée abîmée) est confié à "
        "Voirie (+32 4 000 10 01). {unknown}"
    )
    assert (
        response_template_render(template=templates["resolved"], signalement=report)
        == "Réparé à Feronstrée 1."
    )


def test_the_templates_of_the_category_and_the_status_now_or_next_apply(report, templates):
    applying = set(response_templates_for(signalement=report).values_list("title", flat=True))

    assert applying == {"Pris en charge", "Merci", "Réparé"}  # a new report may be resolved, not closed


def test_the_admin_help_text_documents_every_placeholder():
    help_text = str(ResponseTemplate._meta.get_field("text").help_text)
    assert all(f"{{{name}}}" in help_text for name in PLACEHOLDERS)


def test_without_javascript_choosing_a_template_reloads_the_page_with_the_reply_filled(
    client, report, templates
):
    client.force_login(get_user_model().objects.get(username="agent"))
    url = f"/bureau/signalements/{report.reference}/"

    page = client.get(url).content.decode()
    assert 'id="template-pick"' in page and "Déchets" not in page.split('id="template-pick"')[1][:2000]
    filled = html.unescape(client.get(url, {"template": templates["filled"].pk}).content.decode())
    assert f"le signalement {report.reference} (Nid-de-poule" in filled.split('id="message_text"')[1][:400]

    refused = client.get(url, {"template": templates["other"].pk})
    assert refused.status_code == 200
    refused = html.unescape(refused.content.decode())
    assert "Ce modèle ne s'applique pas à ce signalement." in refused
    assert ">\n</textarea>" in refused.split('id="message_text"')[1][:200]


def test_the_api_lists_the_templates_of_a_report_with_their_text_filled(report, templates):
    response = client_for("planner").get(f"/api/v1/desk/signalements/{report.reference}/templates/")

    assert response.status_code == 200
    by_title = {row["title"]: row for row in response.json()}
    assert set(by_title) == {"Pris en charge", "Merci", "Réparé"}
    assert by_title["Merci"] == {
        "id": templates["any"].pk,
        "title": "Merci",
        "category": None,
        "status": "",
        "text": f"Merci pour {report.reference}.",
    }
    assert by_title["Pris en charge"]["category"] == "nid-de-poule"
    assert APIClient().get(f"/api/v1/desk/signalements/{report.reference}/templates/").status_code in (
        401,
        403,
    )
