"""Moderation: contact details masked in what the public sees, staff review, hide, redact, approve."""

from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from cartography.models import Team
from signalements.bulk import BulkRow, signalements_bulk_load
from signalements.desk.services import comment_add
from signalements.intake.services import ReporterData, signalement_submit
from signalements.models import Category, Comment, Moderation, Photo, Signalement, StatusChange
from signalements.photos import photo_clean
from signalements.trust.moderation import contact_details_find, contact_details_mask
from signalements.web.draft import SESSION_KEY
from tests.conftest import PLACE_SAINT_LAMBERT, jpeg_bytes

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


def staff(username: str):
    return get_user_model().objects.get(username=username)


def _moderate(client, signalement: Signalement, **data):
    return client.post(f"/api/v1/desk/signalements/{signalement.reference}/moderation/", data, format="json")


def _moderation_notes(signalement: Signalement) -> list[StatusChange]:
    return list(StatusChange.objects.filter(signalement=signalement, text__startswith="Modération"))


def test_hiding_a_description_empties_it_publicly_and_writes_who_did_it_in_the_history(liege):
    signalement = _submit(LEAKY)
    answer = _moderate(client_for("agent"), signalement, target="description", action="hide")
    assert answer.status_code == 200, answer.content
    stored = Signalement.objects.get(pk=signalement.pk)
    assert (stored.description, stored.public_description, stored.description_moderation) == (
        LEAKY,
        "",
        "hidden",
    )
    assert APIClient().get(f"/api/v1/signalements/{signalement.reference}/").json()["description"] == ""
    assert "Sacs éventrés" not in _public_outputs(APIClient(), signalement)
    [note] = _moderation_notes(signalement)
    assert note.author == staff("agent") and not note.is_public
    assert "Sacs" not in note.text and "0475" not in note.text
    desk = client_for("agent").get(f"/api/v1/desk/signalements/{signalement.reference}/").json()
    assert desk["description"] == LEAKY and desk["description_moderation"] == "hidden"


def test_redacting_publishes_the_moderators_text_and_approving_the_masked_original(liege):
    signalement = _submit(LEAKY)
    agent = client_for("agent")
    assert (
        _moderate(
            agent, signalement, target="description", action="redact", text="Sacs éventrés."
        ).status_code
        == 200
    )
    stored = Signalement.objects.get(pk=signalement.pk)
    assert (stored.public_description, stored.description_moderation) == ("Sacs éventrés.", "redacted")
    assert (
        APIClient().get(f"/api/v1/signalements/{signalement.reference}/").json()["description"]
        == "Sacs éventrés."
    )

    assert _moderate(agent, signalement, target="description", action="approve").status_code == 200
    stored = Signalement.objects.get(pk=signalement.pk)
    assert (stored.public_description, stored.description_moderation) == (LEAKY_PUBLIC, "approved")
    assert len(_moderation_notes(signalement)) == 2


def test_a_redaction_without_text_is_refused_with_a_message(liege):
    signalement = _submit(LEAKY)
    answer = _moderate(client_for("agent"), signalement, target="description", action="redact", text=" ")
    assert answer.status_code == 400 and "text" in answer.json()
    assert Signalement.objects.get(pk=signalement.pk).public_description == LEAKY_PUBLIC
    assert _moderation_notes(signalement) == []


def test_hiding_a_public_reply_removes_it_from_the_public_page_and_the_tracking_link(liege):
    signalement = _submit("Sacs éventrés")
    comment = comment_add(signalement=signalement, text="Nous passons demain matin.", author=staff("agent"))
    assert (
        "Nous passons demain matin."
        in APIClient().get(f"/signalements/{signalement.reference}/").content.decode()
    )
    answer = _moderate(client_for("agent"), signalement, target="comment", id=comment.pk, action="hide")
    assert answer.status_code == 200, answer.content
    assert Comment.objects.get(pk=comment.pk).moderation == "hidden"
    assert Comment.objects.get(pk=comment.pk).text == "Nous passons demain matin."
    assert "Nous passons" not in APIClient().get(f"/signalements/{signalement.reference}/").content.decode()
    tracked = APIClient().get(f"/api/v1/tracking/{signalement.tracking_token}/").json()
    assert tracked["messages"] == []
    assert len(_moderation_notes(signalement)) == 1


def test_an_internal_note_is_not_a_moderation_target(liege):
    signalement = _submit("Sacs éventrés")
    note = comment_add(signalement=signalement, text="interne", author=staff("agent"), is_internal=True)
    answer = _moderate(client_for("agent"), signalement, target="comment", id=note.pk, action="hide")
    assert answer.status_code == 400 and "id" in answer.json()


def _with_processed_photo(**extra) -> tuple[Signalement, Photo]:
    from signalements.intake.services import signalement_process

    signalement = _submit("Sacs éventrés", photos=[photo_clean(_upload(jpeg_bytes()))], **extra)
    signalement_process(signalement_id=signalement.pk)
    return signalement, Photo.objects.get(signalement=signalement)


def _photo_urls_in_public_outputs(signalement: Signalement, photo: Photo) -> list[str]:
    lon, lat = PLACE_SAINT_LAMBERT
    client = APIClient()
    outputs = (
        _public_outputs(client, signalement)
        + client.get(f"/api/v1/tracking/{signalement.tracking_token}/").content.decode()
        + client.get(f"/suivi/{signalement.tracking_token}/").content.decode()
    )
    return [url for url in (photo.image.url, photo.thumbnail.url) if url in outputs]


def test_a_hidden_photo_is_in_no_public_output_and_an_approved_one_comes_back(liege):
    signalement, photo = _with_processed_photo()
    assert _photo_urls_in_public_outputs(signalement, photo)  # shown before
    agent = client_for("agent")
    assert _moderate(agent, signalement, target="photo", id=photo.pk, action="hide").status_code == 200
    assert Photo.objects.filter(pk=photo.pk, is_public=False, moderation="hidden").exists()
    assert _photo_urls_in_public_outputs(signalement, photo) == []
    assert _moderate(agent, signalement, target="photo", id=photo.pk, action="approve").status_code == 200
    assert Photo.objects.filter(pk=photo.pk, is_public=True, moderation="approved").exists()
    assert len(_moderation_notes(signalement)) == 2


def test_a_photo_is_not_redacted(liege):
    signalement, photo = _with_processed_photo()
    answer = _moderate(
        client_for("agent"), signalement, target="photo", id=photo.pk, action="redact", text="x"
    )
    assert answer.status_code == 400 and "action" in answer.json()


@pytest.mark.parametrize("username", ["crew-proprete", "crew-voirie", "planner"])
def test_crews_and_planners_may_not_moderate_and_nothing_changes(liege, client, username):
    signalement, photo = _with_processed_photo()
    Signalement.objects.filter(pk=signalement.pk).update(description=LEAKY, public_description=LEAKY_PUBLIC)
    for data in (
        {"target": "description", "action": "hide"},
        {"target": "photo", "id": photo.pk, "action": "hide"},
    ):
        assert _moderate(client_for(username), signalement, **data).status_code in (403, 404)
        client.force_login(staff(username))
        page = client.post(f"/bureau/signalements/{signalement.reference}/moderation/", data)
        assert page.status_code == 403
    assert client.get("/bureau/moderation/").status_code == 403
    stored = Signalement.objects.get(pk=signalement.pk)
    assert (stored.public_description, stored.description_moderation) == (LEAKY_PUBLIC, "published")
    assert Photo.objects.filter(pk=photo.pk, is_public=True, moderation="published").exists()
    assert _moderation_notes(signalement) == []


def test_anonymous_visitors_may_not_moderate(liege, client):
    signalement, photo = _with_processed_photo()
    assert _moderate(APIClient(), signalement, target="photo", id=photo.pk, action="hide").status_code in (
        401,
        403,
    )
    page = client.post(
        f"/bureau/signalements/{signalement.reference}/moderation/",
        {"target": "photo", "id": photo.pk, "action": "hide"},
    )
    assert page.status_code == 302 and "login" in page["Location"]
    assert client.get("/bureau/moderation/").status_code == 302
    assert Photo.objects.filter(pk=photo.pk, is_public=True).exists()
    assert _moderation_notes(signalement) == []


def test_the_service_itself_refuses_a_crew_member(liege):
    from django.core.exceptions import PermissionDenied

    from signalements.trust.moderation import moderation_apply

    signalement = _submit(LEAKY)
    with pytest.raises(PermissionDenied):
        moderation_apply(
            signalement=signalement, target="description", action="hide", author=staff("crew-voirie")
        )
    assert Signalement.objects.get(pk=signalement.pk).description_moderation == "flagged"


def test_the_desk_lists_what_waits_and_its_forms_moderate(liege, client):
    flagged = _submit(LEAKY)
    clean = _submit("Rien à cacher")
    client.force_login(staff("agent"))
    listing = client.get("/bureau/moderation/").content.decode()
    assert flagged.reference in listing and clean.reference not in listing
    assert (
        LEAKY.split(" Contact")[0] in listing and "jean.dupont@example.be" in listing
    )  # the original, for staff

    page = client.post(
        f"/bureau/signalements/{flagged.reference}/moderation/",
        {"target": "description", "action": "redact", "text": "Sacs éventrés.", "next": "list"},
    )
    assert page.status_code == 302 and page["Location"] == "/bureau/moderation/"
    stored = Signalement.objects.get(pk=flagged.pk)
    assert (stored.public_description, stored.description_moderation) == ("Sacs éventrés.", "redacted")
    assert flagged.reference not in client.get("/bureau/moderation/").content.decode()
    [note] = _moderation_notes(flagged)
    assert note.author == staff("agent")
    detail = client.get(f"/bureau/signalements/{flagged.reference}/").content.decode()
    assert "jean.dupont@example.be" in detail and "Sacs éventrés." in detail


def test_pre_moderated_photos_and_texts_wait_in_the_list_then_approval_shows_them(liege, settings, client):
    settings.SIGNALEMENT_MODERATION = "pre"
    signalement, photo = _with_processed_photo()
    assert _photo_urls_in_public_outputs(signalement, photo) == []
    client.force_login(staff("agent"))
    assert signalement.reference in client.get("/bureau/moderation/").content.decode()
    agent = client_for("agent")
    assert _moderate(agent, signalement, target="photo", id=photo.pk, action="approve").status_code == 200
    assert _moderate(agent, signalement, target="description", action="approve").status_code == 200
    assert _photo_urls_in_public_outputs(signalement, photo)
    assert (
        APIClient().get(f"/api/v1/signalements/{signalement.reference}/").json()["description"]
        == "Sacs éventrés"
    )
    assert signalement.reference not in client.get("/bureau/moderation/").content.decode()


def test_a_public_status_text_is_masked_on_the_public_page_and_kept_in_the_history(liege):
    from signalements.desk.services import signalement_transition

    signalement = _submit("Sacs éventrés")
    signalement_transition(
        signalement=signalement,
        to_status="acknowledged",
        text="Rappelez M. X au 0475 12 34 56.",
        author=staff("agent"),
    )
    page = APIClient().get(f"/signalements/{signalement.reference}/").content.decode()
    assert f"Rappelez M. X au {MASK}." in page and "0475 12 34 56" not in page
    assert StatusChange.objects.filter(
        signalement=signalement, text="Rappelez M. X au 0475 12 34 56."
    ).exists()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_moderation_page_is_accessible_and_hides_a_description_by_keyboard(page):
    from tests.browser import tab_to
    from tests.crew.test_crew_browser import log_in
    from tests.desk.test_desk_browser import assert_accessible

    log_in(page, "agent")
    flagged = _submit(LEAKY)
    comment_add(signalement=flagged, text="Le déclarant (0475 12 34 56) est prévenu.", author=staff("agent"))
    page.goto(page.base_url + "/bureau/moderation/")
    assert_accessible(page)
    tab_to(page, "form.moderate button[value=hide]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert Signalement.objects.get(pk=flagged.pk).description_moderation == "hidden"
    page.goto(page.base_url + f"/bureau/signalements/{flagged.reference}/")
    assert_accessible(page)
