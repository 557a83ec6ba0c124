"""Who may see and change what: every role against the pages, the REST API and the admin, reads
and writes, with the effect read back from the database (a refusal changed nothing, a success did
what it says) and no reporter contact where the role may not see it."""

import io
import math
from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from PIL import Image
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from signalements.desk.services import EditConflict, signalement_transition, signalement_triage
from signalements.models import Category, Comment, Photo, ReporterContact, Signalement, Status, StatusChange
from tests.conftest import jpeg_bytes
from tests.factories import SignalementFactory

User = get_user_model()

# The reporter's contact, searched for in every answer a role may not see it in.
EMAIL, PHONE, NAME = "reporter.private@example.org", "+32 470 11 22 33", "Reporter Privé"

ROLES = ["anonymous", "crew-voirie", "crew-proprete", "planner", "agent", "admin"]
SEES_CONTACT = {"agent", "admin"}
READS_EVERY_REPORT = {"planner", "agent", "admin"}


@dataclass
class Snapshot:
    status: str
    priority: str
    team_id: int | None
    category_id: int
    history: int
    comments: int

    @classmethod
    def of(cls, signalement: Signalement) -> "Snapshot":
        signalement.refresh_from_db()
        return cls(
            signalement.status,
            signalement.priority,
            signalement.team_id,
            signalement.category_id,
            StatusChange.objects.filter(signalement=signalement).count(),
            Comment.objects.filter(signalement=signalement).count(),
        )


@pytest.fixture
def pothole(liege) -> Signalement:
    """A report of the road team (crew-voirie's), with a reporter's contact."""
    signalement = SignalementFactory(category=Category.objects.get(slug="nid-de-poule"))
    assert signalement.team.slug == "liege-voirie"
    StatusChange.objects.create(signalement=signalement, from_status="", to_status=Status.NEW)
    ReporterContact.objects.create(signalement=signalement, name=NAME, email=EMAIL, phone=PHONE)
    return signalement


def web_client(client, role: str):
    if role != "anonymous":
        client.force_login(User.objects.get(username=role))
    return client


def api_client(role: str) -> APIClient:
    client = APIClient()
    if role != "anonymous":
        token, _ = Token.objects.get_or_create(user=User.objects.get(username=role))
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def in_scope(role: str) -> bool:
    return role in READS_EVERY_REPORT or role == "crew-voirie"


# --- reads ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_the_desk_page_of_a_report_shows_it_to_its_scope_and_the_contact_to_agents(client, pothole, role):
    response = web_client(client, role).get(f"/bureau/signalements/{pothole.reference}/")

    if role == "anonymous":
        assert response.status_code == 302
    elif role == "crew-proprete":
        assert response.status_code == 404
    else:
        assert response.status_code == 200
    body = response.content.decode()
    for private in (EMAIL, PHONE, NAME):
        assert (private in body) == (role in SEES_CONTACT), private


@pytest.mark.parametrize("role", ROLES)
def test_the_desk_api_shows_the_contact_only_to_roles_that_may_see_it(pothole, role):
    client = api_client(role)
    detail = client.get(f"/api/v1/desk/signalements/{pothole.reference}/")
    listing = client.get("/api/v1/desk/signalements/")

    if role == "anonymous":
        assert detail.status_code in (401, 403) and listing.status_code in (401, 403)
        return
    assert detail.status_code == (200 if in_scope(role) else 404)
    assert listing.status_code == 200
    assert (pothole.reference in listing.content.decode()) == in_scope(role)
    for body in (detail.content.decode(), listing.content.decode()):
        for private in (EMAIL, PHONE, NAME):
            assert (private in body) == (role in SEES_CONTACT and in_scope(role)), (private, body[:200])
    if in_scope(role):
        reporter = detail.json().get("reporter") or detail.json().get("properties", {}).get("reporter")
        assert (reporter is not None) == (role in SEES_CONTACT)


@pytest.mark.parametrize("role", ROLES)
def test_no_public_answer_carries_the_contact(client, pothole, role):
    """The public list, detail and page, whoever asks."""
    api = api_client(role)
    answers = [
        api.get("/api/v1/signalements/"),
        api.get(f"/api/v1/signalements/{pothole.reference}/"),
        web_client(client, role).get(f"/signalements/{pothole.reference}/"),
    ]
    for response in answers:
        assert response.status_code == 200
        body = response.content.decode()
        for private in (EMAIL, PHONE, NAME):
            assert private not in body


def test_a_crew_reads_sensitive_reports_of_other_teams_nowhere(liege):
    sensitive = Category.objects.filter(is_sensitive=True).first()
    assert sensitive is not None, "the demo has a sensitive category"
    report = SignalementFactory(category=sensitive)
    crew = "crew-voirie" if report.team.slug != "liege-voirie" else "crew-proprete"
    client = api_client(crew)

    assert client.get(f"/api/v1/signalements/{report.reference}/").status_code == 404
    assert report.reference not in client.get("/api/v1/signalements/?page_size=1000").content.decode()
    assert api_client("agent").get(f"/api/v1/signalements/{report.reference}/").status_code == 200


# --- writes through the desk API --------------------------------------------------------------

API_WRITES = {
    # name: (method, path suffix, body, what changes when allowed)
    "triage-priority": ("patch", "", {"priority": "urgent"}, "priority"),
    "triage-team": ("patch", "", {"team": "liege-proprete-nord"}, "team"),
    "transition": ("post", "transitions/", {"to_status": "acknowledged"}, "status"),
    "message": ("post", "messages/", {"text": "Note", "internal": True}, "comments"),
}
# Who may, for a report of the road team.
API_ALLOWED = {
    "triage-priority": {"agent", "admin"},
    "triage-team": {"agent", "admin"},
    "transition": {"agent", "admin", "crew-voirie"},
    "message": {"agent", "admin", "crew-voirie"},
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("write", list(API_WRITES))
def test_desk_api_writes_follow_the_policy_and_a_refusal_changes_nothing(pothole, role, write):
    method, suffix, body, effect = API_WRITES[write]
    before = Snapshot.of(pothole)

    response = getattr(api_client(role), method)(
        f"/api/v1/desk/signalements/{pothole.reference}/{suffix}", body, format="json"
    )

    after = Snapshot.of(pothole)
    if role in API_ALLOWED[write]:
        assert response.status_code in (200, 201), response.content
        if effect == "priority":
            assert after.priority == "urgent" and after.history == before.history + 1
        elif effect == "team":
            assert pothole.team.slug == "liege-proprete-nord" and after.history == before.history + 1
        elif effect == "status":
            assert after.status == "acknowledged" and after.history == before.history + 1
        else:
            assert after.comments == before.comments + 1
    else:
        assert response.status_code in (401, 403, 404), response.content
        assert after == before


@pytest.mark.parametrize("role", ["crew-voirie", "agent"])
@pytest.mark.parametrize(
    ("suffix", "body"),
    [
        ("transitions/", {"priority": "urgent"}),
        ("messages/", {"team": "liege-proprete-nord"}),
        ("messages/", {"category": "dechets"}),
    ],
)
def test_no_triage_through_the_transition_or_message_addresses(pothole, role, suffix, body):
    """The side doors: PATCH on the transition and message addresses is no triage for anyone."""
    before = Snapshot.of(pothole)

    response = api_client(role).patch(
        f"/api/v1/desk/signalements/{pothole.reference}/{suffix}", body, format="json"
    )

    assert response.status_code in (403, 405)
    assert Snapshot.of(pothole) == before


def test_a_crew_changes_only_field_work_statuses(pothole):
    client = api_client("crew-voirie")
    url = f"/api/v1/desk/signalements/{pothole.reference}/transitions/"

    assert client.post(url, {"to_status": "rejected"}, format="json").status_code == 403
    assert client.post(url, {"to_status": "duplicate"}, format="json").status_code == 403
    assert Snapshot.of(pothole).status == "new"
    assert client.post(url, {"to_status": "in_progress"}, format="json").status_code == 201
    assert Snapshot.of(pothole).status == "in_progress"


# --- writes through the desk pages ------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_desk_page_triage_is_for_agents_and_written_to_the_history(client, pothole, role):
    before = Snapshot.of(pothole)

    response = web_client(client, role).post(
        f"/bureau/signalements/{pothole.reference}/",
        {"action": "triage", "category": pothole.category_id, "priority": "urgent", "team": ""},
    )

    after = Snapshot.of(pothole)
    if role in ("agent", "admin"):
        assert response.status_code == 302
        assert after.priority == "urgent" and after.history == before.history + 1
        note = StatusChange.objects.filter(signalement=pothole).latest("pk")
        assert "Urgente" in note.text or "urgent" in note.text.lower()
    else:
        assert response.status_code in (302, 403, 404)
        assert after == before


def test_two_agents_moving_one_report_get_one_success_and_one_conflict(client, pothole):
    client.force_login(User.objects.get(username="agent"))
    url = f"/bureau/signalements/{pothole.reference}/"
    # Both agents opened the page while the report was new.
    first = client.post(url, {"action": "transition", "from_status": "new", "to_status": "acknowledged"})
    second = client.post(
        url, {"action": "transition", "from_status": "new", "to_status": "rejected"}, follow=True
    )

    assert first.status_code == 302
    assert Snapshot.of(pothole).status == "acknowledged"
    assert "entre-temps" in second.content.decode()
    assert StatusChange.objects.filter(signalement=pothole, to_status="rejected").count() == 0


def test_the_api_answers_a_conflict_with_409_and_writes_nothing(pothole):
    client = api_client("agent")
    url = f"/api/v1/desk/signalements/{pothole.reference}/transitions/"
    assert (
        client.post(url, {"to_status": "acknowledged", "from_status": "new"}, format="json").status_code
        == 201
    )
    before = Snapshot.of(pothole)

    response = client.post(url, {"to_status": "rejected", "from_status": "new"}, format="json")

    assert response.status_code == 409
    assert "status" in response.json()
    assert Snapshot.of(pothole) == before


def test_the_services_refuse_a_role_whatever_the_adapter(pothole):
    """The policy lives in the services: a new page or endpoint cannot forget it."""
    crew = User.objects.get(username="crew-voirie")
    other_crew = User.objects.get(username="crew-proprete")
    planner = User.objects.get(username="planner")
    before = Snapshot.of(pothole)

    with pytest.raises(PermissionDenied):
        signalement_triage(signalement=pothole, priority="urgent", author=crew)
    with pytest.raises(PermissionDenied):
        signalement_transition(signalement=pothole, to_status="acknowledged", author=other_crew)
    with pytest.raises(PermissionDenied):
        signalement_transition(signalement=pothole, to_status="acknowledged", author=planner)
    assert Snapshot.of(pothole) == before
    with pytest.raises(EditConflict):
        signalement_transition(
            signalement=pothole, to_status="acknowledged", author=crew, from_status="planned"
        )


# --- the admin --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["crew-voirie", "crew-proprete", "planner"])
def test_the_admin_changes_nothing_for_crews_and_planners(client, pothole, role):
    client.force_login(User.objects.get(username=role))
    url = f"/admin/signalements/signalement/{pothole.pk}/change/"
    before = Snapshot.of(pothole)

    page = client.get(url)
    posted = client.post(url, {"priority": "urgent", "status": "resolved", "description": "réécrit"})

    assert page.status_code in (302, 403) or EMAIL not in page.content.decode()
    assert posted.status_code in (302, 403)
    assert Snapshot.of(pothole) == before
    pothole.refresh_from_db()
    assert pothole.description != "réécrit"


def test_crews_find_no_report_model_in_the_admin(client, liege):
    client.force_login(User.objects.get(username="crew-voirie"))
    assert client.get("/admin/signalements/signalement/").status_code == 403


def _admin_form(client, signalement, **changes) -> dict:
    """The change form's current values, as a browser would post them back."""
    page = client.get(f"/admin/signalements/signalement/{signalement.pk}/change/")
    assert page.status_code == 200
    data = {
        "category": signalement.category_id,
        "priority": signalement.priority,
        "team": signalement.team_id or "",
    }
    for inline in page.context["inline_admin_formsets"]:
        fs = inline.formset
        for field in fs.management_form:
            data[field.html_name] = field.value()
        for form in fs.forms:
            for name in form.fields:
                value = form[name].value()
                if value is not None and not isinstance(value, bool):
                    data[form.add_prefix(name)] = value
                elif value is True:
                    data[form.add_prefix(name)] = "on"
    data.update(changes)
    return data


def test_an_agents_admin_triage_goes_through_the_service_and_the_status_stays(client, pothole):
    client.force_login(User.objects.get(username="agent"))
    before = Snapshot.of(pothole)
    data = _admin_form(client, pothole, priority="high", status="resolved")

    response = client.post(f"/admin/signalements/signalement/{pothole.pk}/change/", data)

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    after = Snapshot.of(pothole)
    assert after.priority == "high" and after.status == before.status == "new"
    assert after.history == before.history + 1


def _gps_photo() -> bytes:
    return jpeg_bytes(size=(80, 60), gps=(5.57, 50.64))


def test_a_photo_uploaded_in_the_admin_loses_its_exif_and_gps(client, pothole):
    client.force_login(User.objects.get(username="agent"))
    data = _admin_form(client, pothole)
    data.update(
        {
            "photos-TOTAL_FORMS": "1",
            "photos-INITIAL_FORMS": "0",
            "photos-0-is_public": "on",
            "photos-0-image": io.BytesIO(_gps_photo()),
        }
    )
    data["photos-0-image"].name = "camera.jpg"

    response = client.post(f"/admin/signalements/signalement/{pothole.pk}/change/", data)

    assert response.status_code == 302, response.context["errors"] if response.context else response
    photo = Photo.objects.get(signalement=pothole)
    with photo.image.open("rb") as stored, Image.open(stored) as image:
        assert not image.getexif(), "no EXIF tag survives"
        assert image.format == "JPEG"


def test_a_fake_image_is_refused_in_the_admin(client, pothole):
    client.force_login(User.objects.get(username="agent"))
    data = _admin_form(client, pothole)
    fake = io.BytesIO(b"<?php echo 'not an image'; ?>")
    fake.name = "photo.jpg"
    data.update({"photos-TOTAL_FORMS": "1", "photos-INITIAL_FORMS": "0", "photos-0-image": fake})

    response = client.post(f"/admin/signalements/signalement/{pothole.pk}/change/", data)

    assert response.status_code == 200  # the form again, with the photo's error
    assert not Photo.objects.filter(signalement=pothole).exists()


def test_migrate_gives_each_role_exactly_its_permissions_again(liege):
    """A database made before crews lost the admin gets the new policy at its next migrate."""
    from django.contrib.auth.models import Group, Permission
    from django.core.management import call_command

    crew = Group.objects.get(name="crew")
    crew.permissions.add(Permission.objects.get(codename="change_signalement"))

    call_command("migrate", verbosity=0)

    assert not crew.permissions.exists()
    assert Group.objects.get(name="agent").permissions.filter(codename="view_reportercontact").exists()
    assert not Group.objects.get(name="planner").permissions.filter(codename="view_reportercontact").exists()


# --- the crews' pages, exports and API --------------------------------------------------------

CREW_READS = [
    "/equipe/liege-voirie/",
    "/equipe/liege-voirie/?format=geojson",
    "/equipe/liege-voirie/?format=gpx",
    "/equipe/liege-voirie/?format=csv",
    "/equipe/liege-voirie/?format=print",
    "/equipe/liege-voirie/{ref}/",
    "/api/v1/crew/liege-voirie/worklist/",
]
# The road team's work: its crew, and the desk's agents and administrators who stand in for it.
CREW_WORK = {"crew-voirie", "agent", "admin"}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path", CREW_READS)
def test_a_teams_work_list_and_exports_open_to_that_team_only_without_contacts(client, pothole, role, path):
    path = path.format(ref=pothole.reference)
    response = api_client(role).get(path) if path.startswith("/api/") else web_client(client, role).get(path)

    if role in CREW_WORK:
        assert response.status_code == 200
        assert pothole.reference in response.content.decode()
    else:
        assert response.status_code in (302, 401, 403)
    for private in (EMAIL, PHONE, NAME):
        assert private not in response.content.decode()


@pytest.mark.parametrize("role", ROLES)
def test_a_crew_outcome_is_recorded_only_for_the_teams_own_work(client, pothole, role):
    before = Snapshot.of(pothole)

    web = web_client(client, role).post(
        f"/equipe/liege-voirie/{pothole.reference}/", {"outcome": "start", "idempotency_key": f"web-{role}"}
    )
    api = api_client(role).post(
        f"/api/v1/crew/liege-voirie/signalements/{pothole.reference}/outcome/",
        {"outcome": "start"},
        format="json",
    )

    after = Snapshot.of(pothole)
    if role in CREW_WORK:
        assert web.status_code == 302 and api.status_code in (200, 201)
        assert after.status == "in_progress"
        assert after.history == before.history + 1  # the second start is a note, not a second change
    else:
        assert web.status_code in (302, 403) and api.status_code in (401, 403)
        assert after == before


def test_hiding_a_photo_in_the_admin_is_moderation_with_its_history(client, pothole):
    from django.core.files.base import ContentFile

    photo = Photo.objects.create(
        signalement=pothole, image=ContentFile(jpeg_bytes(), name="photo.jpg"), is_public=True
    )
    client.force_login(User.objects.get(username="agent"))
    before = Snapshot.of(pothole)
    data = _admin_form(client, pothole)
    data.pop("photos-0-is_public", None)  # unticked

    response = client.post(f"/admin/signalements/signalement/{pothole.pk}/change/", data)

    assert response.status_code == 302
    photo.refresh_from_db()
    assert photo.is_public is False
    assert Snapshot.of(pothole).history == before.history + 1


# --- every address, every role ----------------------------------------------------------------


def _every_get_path(pothole: Signalement) -> list[str]:
    """Every address of the site with its parameters filled for the road team's report: the
    citizen's and the public's, the desk's, the crews', the API, and the admin's report pages."""
    from django.urls import URLResolver, get_resolver

    n = 2**16  # the public map's tile (z/x/y) that holds the report, at the zoom of points
    lon, lat = pothole.location.x, pothole.location.y
    values = {
        "reference": pothole.reference,
        "slug": "liege-voirie",
        "index": "0",
        "path": "none.jpg",
        "z": "16",
        "x": str(int((lon + 180) / 360 * n)),
        "y": str(int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)),
    }

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            else:
                yield prefix + str(pattern.pattern)

    paths = []
    for route in walk(get_resolver().url_patterns):
        if route.startswith(("admin/", "^media")) or "<str:token>" in route:
            continue  # the admin is below; a private link is its reporter's own page
        for name, value in values.items():
            route = route.replace(f"<str:{name}>", value).replace(f"<slug:{name}>", value)
            route = route.replace(f"<int:{name}>", value)
        assert "<" not in route, route
        paths.append("/" + route)
    admin = f"/admin/signalements/signalement/{pothole.pk}"
    return [*paths, "/admin/signalements/signalement/", f"{admin}/change/", f"{admin}/history/"]


@pytest.mark.parametrize("role", ROLES)
def test_no_address_shows_a_contact_to_a_role_without_the_right_nor_fails(client, pothole, role):
    web_client(client, role)
    leaks, failures = [], []
    for path in _every_get_path(pothole):
        response = client.get(path)
        if response.status_code >= 500:
            failures.append((path, response.status_code))
        body = b"".join(response.streaming_content) if response.streaming else response.content
        if role not in SEES_CONTACT and any(p.encode() in body for p in (EMAIL, PHONE, NAME)):
            leaks.append(path)
    assert failures == []
    assert leaks == []


def test_contact_details_typed_in_texts_are_masked_for_roles_without_contacts(client, pothole):
    """A reporter who writes their phone in the description or a message: planners and crews read
    the public version, agents the original."""
    from signalements.desk.services import comment_add
    from signalements.trust.moderation import description_public_version

    text = f"Trou profond, rappelez-moi au {PHONE} ou {EMAIL}"
    public = description_public_version(description=text, channel="web", language="fr")
    Signalement.objects.filter(pk=pothole.pk).update(description=text, public_description=public.text)
    comment_add(signalement=pothole, text=f"Mon numéro : {PHONE}", from_citizen=True)
    pages = [f"/bureau/signalements/{pothole.reference}/", f"/equipe/liege-voirie/{pothole.reference}/"]

    for role in ("planner", "crew-voirie", "agent"):
        client.force_login(User.objects.get(username=role))
        bodies = [
            client.get(path).content.decode() for path in pages if role != "planner" or "bureau" in path
        ]
        bodies.append(
            api_client(role).get(f"/api/v1/desk/signalements/{pothole.reference}/").content.decode()
        )
        for body in bodies:
            assert "Trou profond" in body
        if role == "agent":
            assert PHONE in bodies[0] and EMAIL in bodies[0]
        else:
            assert all(PHONE not in body and EMAIL not in body for body in bodies), role


@pytest.mark.parametrize("role", ["agent", "planner", "crew-voirie"])
def test_the_desk_menu_offers_only_the_pages_the_role_may_open(client, liege, role):
    client.force_login(User.objects.get(username=role))
    page = client.get("/bureau/").content.decode()
    for path in (
        "/bureau/nouveau/",
        "/bureau/doublons/",
        "/bureau/moderation/",
        "/bureau/statistiques/",
        "/planification/",
    ):
        offered = f'href="{path}"' in page
        assert offered == (client.get(path).status_code == 200), path
    # The site's menu: the crews' pages are for crews and the desk that stands in for them.
    assert ('href="/equipe/"' in page) == (role != "planner")


def test_an_unknown_action_on_the_desk_page_is_a_bad_request_not_a_refusal(client, pothole):
    client.force_login(User.objects.get(username="agent"))
    before = Snapshot.of(pothole)

    response = client.post(f"/bureau/signalements/{pothole.reference}/", {"action": "explode"})

    assert response.status_code == 400
    assert Snapshot.of(pothole) == before
