"""Moderation: contact details masked in what the public sees, staff review, hide, redact, approve."""

from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from cartography.models import Team
from signalements.bulk import BulkRow, signalements_bulk_load
from signalements.models import Category, Comment, Moderation, Photo, Signalement, StatusChange
from signalements.photos import photo_clean
from signalements.services import ReporterData, comment_add, signalement_submit
from signalements.trust.moderation import contact_details_find, contact_details_mask
from signalements.web.draft import SESSION_KEY

from .conftest import PLACE_SAINT_LAMBERT, jpeg_bytes

MASK = "[coordonnées masquées]"

CONTACTS = [
    "+32 475 12 34 56",
    "+32475123456",
    "0032 475 12 34 56",
    "0475/12.34.56",
    "0475 12 34 56",
    "0475-12-34-56",
    "0475123456",
    "04/221.22.11",
    "02 511 22 33",
    "06 12 34 56 78",
    "06.12.34.56.78",
    "+33 6 12 34 56 78",
    "+33 (0)6 12 34 56 78",
    "0033 6 12 34 56 78",
    "01 42 68 53 00",
    "+44 20 7946 0958",
    "jean.dupont@example.be",
    "marie+signalement@mail.example.fr",
    "pierre [at] example.org",
]

NOT_CONTACTS = [
    "Depuis le 12/03/2024, devant le 123 rue Saint-Gilles, 4000 Liège.",
    "Vu le 12.03.2024 et le 2024-03-15 vers 14h30.",
    "Voir le signalement S0004001 et S1000000.",
    "Position 50.6455, 5.5714 (ou 50.64551 5.57142).",
    "Entre les numéros 12-14 et 4020 Liège, depuis 2019-2024.",
    "Trois nids-de-poule de 30 cm sur 1,5 km, 4000 4020 4030.",
    "Lampadaire n° 1234567 éteint.",
    "IBAN BE71 0961 2345 6769 affiché sur le panneau.",
]


@pytest.mark.parametrize("contact", CONTACTS)
def test_the_filter_masks_each_way_of_writing_a_phone_or_an_e_mail(contact):
    text = f"Appelez-moi au {contact} svp, merci."
    assert contact_details_mask(text, allowed=frozenset()).text == f"Appelez-moi au {MASK} svp, merci."


@pytest.mark.parametrize("text", NOT_CONTACTS)
def test_the_filter_leaves_dates_numbers_references_and_coordinates(text):
    assert contact_details_find(text) == []
    assert contact_details_mask(text, allowed=frozenset()).text == text


def test_the_mask_is_in_the_texts_language():
    masked = contact_details_mask("bel 0475 12 34 56", language="nl", allowed=frozenset()).text
    assert masked == "bel [contactgegevens verborgen]"


@pytest.mark.django_db
def test_the_teams_public_contacts_stay_visible(liege):
    team = Team.objects.filter(public_phone__gt="").first() or Team.objects.first()
    Team.objects.filter(pk=team.pk).update(public_phone="04 221 22 11", public_email="voirie@liege.example")
    text = "Service voirie : 04/221.22.11, voirie@liege.example ; moi : 0475 12 34 56"
    assert (
        contact_details_mask(text).text
        == f"Service voirie : 04/221.22.11, voirie@liege.example ; moi : {MASK}"
    )


def _submit(description: str, **extra) -> Signalement:
    signalement, _created = signalement_submit(
        category=Category.objects.get(slug="dechets"),
        location=Point(*PLACE_SAINT_LAMBERT, srid=4326),
        description=description,
        reporter=ReporterData(email="citoyen@example.be"),
        **extra,
    )
    return signalement


LEAKY = "Sacs éventrés. Contact : jean.dupont@example.be ou 0475/12.34.56."
LEAKY_PUBLIC = f"Sacs éventrés. Contact : {MASK} ou {MASK}."


def client_for(username: str) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=get_user_model().objects.get(username=username))
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def _public_outputs(client, signalement: Signalement) -> str:
    """Every public output that could show the report's description, in one string."""
    lon, lat = PLACE_SAINT_LAMBERT
    pages = [
        client.get("/api/v1/signalements/", {"page_size": 1000}),
        client.get(f"/api/v1/signalements/{signalement.reference}/"),
        client.get("/api/v1/signalements/nearby/", {"lon": lon, "lat": lat, "category": "dechets"}),
        client.get(f"/signalements/{signalement.reference}/"),
    ]
    for page in pages:
        assert page.status_code == 200, page.content
    return "".join(page.content.decode() for page in pages)


def test_a_description_with_an_e_mail_and_a_phone_is_masked_in_every_public_output(liege):
    signalement = _submit(LEAKY)
    stored = Signalement.objects.get(pk=signalement.pk)
    assert stored.description == LEAKY  # kept for staff
    assert stored.public_description == LEAKY_PUBLIC
    assert stored.description_moderation == Moderation.FLAGGED

    public = _public_outputs(APIClient(), signalement)
    assert "jean.dupont@example.be" not in public and "12.34.56" not in public
    assert (
        APIClient().get(f"/api/v1/signalements/{signalement.reference}/").json()["description"]
        == LEAKY_PUBLIC
    )
    assert "Sacs éventrés. Contact : [coordonnées masquées]" in public  # on the public web page too

    desk = client_for("agent").get(f"/api/v1/desk/signalements/{signalement.reference}/").json()
    assert desk["description"] == LEAKY
    assert desk["public_description"] == LEAKY_PUBLIC and desk["description_moderation"] == "flagged"


def test_the_similar_step_shows_the_public_description(client, liege):
    _submit(LEAKY)
    session = client.session
    lon, lat = PLACE_SAINT_LAMBERT
    session[SESSION_KEY] = {"id": "draft", "photos": [], "lon": lon, "lat": lat, "category": "dechets"}
    session.save()
    page = client.get("/signaler/deja-signale/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Sacs éventrés. Contact : [coordonnées masquées]" in body
    assert "jean.dupont" not in body and "12.34.56" not in body


def test_the_reporter_sees_their_own_text_on_the_tracking_link(liege):
    signalement = _submit(LEAKY)
    tracked = APIClient().get(f"/api/v1/tracking/{signalement.tracking_token}/").json()
    assert tracked["description"] == LEAKY and tracked["public_description"] == LEAKY_PUBLIC


def test_a_clean_description_is_published_as_written(liege):
    signalement = Signalement.objects.get(pk=_submit("Sacs éventrés au 12 rue Léopold, 4000 Liège.").pk)
    assert signalement.public_description == signalement.description
    assert signalement.description_moderation == Moderation.PUBLISHED


def test_a_public_reply_is_masked_for_the_public_and_the_e_mails(liege):
    signalement = _submit("Sacs éventrés")
    comment_add(signalement=signalement, text="Le déclarant (0475 12 34 56) a été rappelé.")
    comment = Comment.objects.get(signalement=signalement)
    assert comment.public_text == f"Le déclarant ({MASK}) a été rappelé."
    assert comment.moderation == Moderation.FLAGGED
    page = APIClient().get(f"/signalements/{signalement.reference}/").content.decode()
    assert MASK in page and "0475 12 34 56" not in page


def test_bulk_loaded_descriptions_are_masked_and_flagged_like_submitted_ones(liege):
    category = Category.objects.get(slug="dechets")
    lon, lat = PLACE_SAINT_LAMBERT
    when = datetime(2025, 3, 1, 10, tzinfo=UTC)
    rows = [
        BulkRow(row=1, lon=lon, lat=lat, category_id=category.pk, created_at=when, description=LEAKY),
        BulkRow(
            row=2, lon=lon, lat=lat, category_id=category.pk, created_at=when, description="Sacs, 4000 Liège"
        ),
    ]
    assert signalements_bulk_load(rows, source="moderation-test").inserted == 2
    leaky, clean = Signalement.objects.filter(source="moderation-test").order_by("id")
    assert (leaky.description, leaky.public_description, leaky.description_moderation) == (
        LEAKY,
        LEAKY_PUBLIC,
        "flagged",
    )
    assert (clean.public_description, clean.description_moderation) == ("Sacs, 4000 Liège", "published")


def test_pre_moderation_holds_citizen_text_and_photos_until_approved(liege, settings):
    settings.SIGNALEMENT_MODERATION = "pre"
    photo = photo_clean(_upload(jpeg_bytes()))
    signalement = _submit("Sacs éventrés", photos=[photo])
    stored = Signalement.objects.get(pk=signalement.pk)
    assert (stored.public_description, stored.description_moderation) == ("", "pending")
    assert list(Photo.objects.filter(signalement=signalement).values_list("is_public", "moderation")) == [
        (False, "pending")
    ]
    assert APIClient().get(f"/api/v1/signalements/{signalement.reference}/").json()["description"] == ""
    staff = _submit("Appel au guichet", channel="counter")
    assert Signalement.objects.get(pk=staff.pk).description_moderation == "published"
    assert not StatusChange.objects.filter(signalement=signalement, is_public=False).exists()


def _upload(content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("photo.jpg", content, content_type="image/jpeg")
