"""Form-driven fuzzing of the HTML pages: whatever a client posts into a form's fields (text in
any script, control characters, very long strings, numbers as text, empty values, repeated
fields), no page answers a server error, and a refused write changed nothing.

Bounded so that the suite stays short: few examples per form, derandomized (the same examples on
every run, so a failure in CI is one that reproduces). Throttles are off here: the fuzzer must
reach the forms, not the 429 page."""

from urllib.parse import quote

import pytest
from django.contrib.auth import get_user_model
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from signalements.models import (
    Category,
    Comment,
    DuplicateGroup,
    Photo,
    ReporterContact,
    Signalement,
    Status,
    StatusChange,
    Support,
)
from signalements.trust.optin import confirmation_url
from tests.conftest import PLACE_SAINT_LAMBERT
from tests.factories import SignalementFactory

pytestmark = pytest.mark.fuzz

User = get_user_model()

FUZZ = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Text a browser can send: no lone surrogates (they cannot be encoded to UTF-8). Control
# characters are refused by a middleware before any form sees them (signalements.trust.guards):
# a few of them, rather than many, so that most requests reach the forms.
TEXT = st.text(st.characters(exclude_categories=["Cs", "Cc"], include_characters="\t\n\r"), max_size=40)
VALUE = st.one_of(
    TEXT,
    st.sampled_from(
        ["", " ", "\x00", "a\x07b", "0", "-1", "1e400", "NaN", "inf", "-0", "²", "٣", "1,5", "a;b;c", "None"]
    ),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    TEXT.filter(bool).map(lambda s: (s * 10000)[:20000]),
    st.dates().map(str),
)
FIELD_VALUE = st.one_of(VALUE, st.lists(VALUE, min_size=0, max_size=3))


def form(fields: dict[str, list | st.SearchStrategy]) -> st.SearchStrategy:
    """A form body: each field absent, fuzzed, or one of its meaningful values."""
    return st.fixed_dictionaries(
        {},
        optional={
            name: st.one_of(FIELD_VALUE, st.sampled_from(choices)) if choices else FIELD_VALUE
            for name, choices in fields.items()
        },
    )


def segment(known: list[str]) -> st.SearchStrategy:
    """A URL segment: a known one or fuzzed text, quoted as a browser would."""
    return st.one_of(st.sampled_from(known), TEXT.filter(bool)).map(lambda s: quote(s, safe=""))


def answered(response) -> None:
    assert response.status_code < 500, response.content[:500]


@pytest.fixture(autouse=True)
def no_throttles(settings):
    settings.SIGNALEMENT_THROTTLES_ENABLED = False


@pytest.fixture
def report(liege) -> Signalement:
    signalement = SignalementFactory(category=Category.objects.get(slug="nid-de-poule"))
    assert signalement.team.slug == "liege-voirie"
    StatusChange.objects.create(signalement=signalement, from_status="", to_status=Status.NEW)
    ReporterContact.objects.create(
        signalement=signalement, name="Reporter", email="reporter@example.org", wants_updates=True
    )
    return signalement


def footprint(signalement: Signalement) -> tuple:
    """What a write to a report changes, cheaply read back."""
    signalement.refresh_from_db()
    return (
        signalement.status,
        signalement.priority,
        signalement.team_id,
        signalement.category_id,
        signalement.support_count,
        StatusChange.objects.filter(signalement=signalement).count(),
        Comment.objects.filter(signalement=signalement).count(),
        Photo.objects.filter(signalement=signalement).count(),
        Support.objects.filter(signalement=signalement).count(),
    )


def logged_in(client, username: str):
    client.force_login(User.objects.get(username=username))
    return client


def draft_located(client) -> None:
    lon, lat = PLACE_SAINT_LAMBERT
    response = client.post("/signaler/lieu/", {"lon": lon, "lat": lat, "address": "Place Saint-Lambert"})
    assert response.status_code == 302


LOCATION = form(
    {
        "action": ["search", "continue", "back"],
        "lon": ["5.5714", "1000"],
        "lat": ["50.6455", "-91"],
        "address": ["place Saint-Lambert", "Féronstrée"],
        "place_choice": ["5.5714000,50.6455000", "x,y", "5,", "nan,nan"],
        "place_label": [],
        "district": ["1", "999999"],
        "place_description": ["devant l'école"],
    }
)
PROBLEM = form(
    {
        "action": ["back", "continue"],
        "category": ["nid-de-poule", "eclairage"],
        "description": [],
        "remove_photos": ["x.jpg", "../../etc/passwd"],
    }
)
CONTACT = form(
    {
        "action": ["back", "continue"],
        "contact_name": [],
        "show_name": ["on"],
        "contact_email": ["a@example.org"],
        "contact_phone": ["+32 4 123 45 67"],
        "wants_updates": ["on"],
    }
)


@FUZZ
@given(location=LOCATION, problem=PROBLEM, contact=CONTACT, back=st.booleans())
def test_the_citizen_report_steps_never_answer_a_server_error(
    client, liege, location, problem, contact, back
):
    before = Signalement.objects.count()
    answered(client.post("/signaler/lieu/", location))
    draft_located(client)
    response = client.post("/signaler/probleme/", problem)
    answered(response)
    if response.status_code != 302:  # on, with a category, so that the fuzzed contact is sent
        assert client.post("/signaler/probleme/", {"category": "nid-de-poule"}).status_code == 302
    answered(client.get("/signaler/deja-signale/", {"back": "1"} if back else {}))
    answered(client.post("/signaler/coordonnees/", contact))
    answered(client.get("/signaler/verifier/"))
    response = client.post("/signaler/verifier/")
    answered(response)
    if response.status_code != 302 or response.url != "/signaler/envoye/":
        assert Signalement.objects.count() == before
    answered(client.get("/signaler/envoye/"))
    answered(client.get("/signaler/recommencer/"))


@FUZZ
@given(reference=segment(["REF"]), body=form({"email": ["a@example.org"]}))
def test_backing_a_report_never_answers_a_server_error(client, report, reference, body):
    reference = report.reference if reference == "REF" else reference
    before = footprint(report)
    response = client.post(f"/signaler/soutenir/{reference}/", body)
    answered(response)
    if response.status_code != 200:
        assert footprint(report) == before


@FUZZ
@given(
    token=segment(["TOKEN"]),
    body=form(
        {
            "action": ["comment", "photo", "updates-on", "updates-off", "satisfaction"],
            "text": ["Merci"],
            "solved": ["yes", "no"],
            "rating": ["1", "5", "6"],
        }
    ),
    status=st.sampled_from([Status.NEW, Status.RESOLVED]),
)
def test_the_tracking_page_never_answers_a_server_error(client, report, token, body, status):
    Signalement.objects.filter(pk=report.pk).update(status=status)
    token = report.tracking_token if token == "TOKEN" else token
    answered(client.get(f"/suivi/{token}/"))
    before = footprint(report)
    response = client.post(f"/suivi/{token}/", body)
    answered(response)
    if response.status_code >= 400:
        assert footprint(report) == before


@FUZZ
@given(token=st.one_of(segment(["VALID"]), st.just("VALID")), post=st.booleans())
def test_the_email_confirmation_never_answers_a_server_error(client, report, token, post):
    if token == "VALID":
        url = confirmation_url(signalement_id=report.pk, email="reporter@example.org")
        token = url.rstrip("/").rsplit("/", 1)[1]
    response = (client.post if post else client.get)(f"/confirmer/{token}/")
    answered(response)


QUEUE_FILTERS = form(
    {
        "category": ["1"],
        "district": ["1"],
        "team": ["1"],
        "channel": ["web", "phone"],
        "status": ["new", "resolved"],
        "priority": ["normal", "high"],
        "overdue": ["on", "true"],
        "deadline_before": ["2025-01-01", "2025-02-30"],
        "page": ["2", "last", "0"],
    }
)


@FUZZ
@given(
    query=QUEUE_FILTERS,
    body=form({"action": ["acknowledge", "assign"], "team": ["1"], "selected": ["REF"]}),
)
def test_the_desk_queue_never_answers_a_server_error(client, report, query, body):
    logged_in(client, "agent")
    answered(client.get("/bureau/", query))
    answered(client.get("/bureau/carte.geojson", query))
    if body.get("selected") == "REF":
        body["selected"] = report.reference
    before = footprint(report)
    response = client.post("/bureau/", body)
    answered(response)
    if response.status_code != 302:
        assert footprint(report) == before


DETAIL = form(
    {
        "action": ["transition", "message", "triage", "unmerge", "other"],
        "from_status": ["new", "acknowledged"],
        "to_status": ["acknowledged", "resolved", "duplicate"],
        "text": ["Bonjour"],
        "internal": ["on"],
        "category": ["1", "nid-de-poule"],
        "priority": ["normal", "urgent"],
        "team": ["1"],
    }
)
MODERATION = form(
    {
        "target": ["description", "comment", "photo"],
        "id": ["1", "0"],
        "action": ["approve", "redact", "hide"],
        "text": ["version publique"],
        "next": ["list"],
    }
)


@FUZZ
@given(
    reference=segment(["REF"]),
    body=DETAIL,
    moderation=MODERATION,
    template=st.one_of(st.none(), VALUE),
)
def test_the_desk_report_page_never_answers_a_server_error(
    client, report, reference, body, moderation, template
):
    logged_in(client, "agent")
    reference = report.reference if reference == "REF" else reference
    answered(
        client.get(f"/bureau/signalements/{reference}/", {} if template is None else {"template": template})
    )
    answered(client.post(f"/bureau/signalements/{reference}/", body))
    answered(client.post(f"/bureau/signalements/{reference}/moderation/", moderation))


@FUZZ
@given(
    body=form(
        {
            "action": ["search", "save"],
            "channel": ["phone", "email", "counter", "web"],
            "category": ["1"],
            "lon": ["5.5714"],
            "lat": ["50.6455"],
            "address": ["Féronstrée"],
            "description": [],
            "contact_name": [],
            "contact_email": ["a@example.org"],
            "contact_phone": ["04 123 45 67"],
            "place": ["5.5714;50.6455;Place Saint-Lambert", ";;", "x;y;z"],
            "idempotency_key": [],
        }
    )
)
def test_registering_a_report_at_the_desk_never_answers_a_server_error(client, liege, body):
    logged_in(client, "agent")
    answered(client.get("/bureau/nouveau/"))
    answered(client.post("/bureau/nouveau/", body))


@pytest.fixture
def duplicate_group(report) -> DuplicateGroup:
    twin = SignalementFactory(category=report.category, location=report.location)
    group = DuplicateGroup.objects.create(category=report.category, signature="fuzz")
    group.members.set([report, twin])
    return group


@FUZZ
@given(
    query=form(
        {"start": ["2024-01-01", "2024-13-01"], "end": ["2025-01-01", "0001-01-01"], "format": ["csv"]}
    ),
    duplicates=form({"group": ["GROUP"], "action": ["dismiss", "merge"], "master": ["REF"]}),
    page=st.one_of(st.none(), VALUE),
)
def test_the_desk_statistics_moderation_and_duplicates_never_answer_a_server_error(
    client, report, duplicate_group, query, duplicates, page
):
    logged_in(client, "agent")
    answered(client.get("/bureau/statistiques/", query))
    answered(client.get("/bureau/moderation/", {} if page is None else {"page": page}))
    if duplicates.get("group") == "GROUP":
        duplicates["group"] = str(duplicate_group.pk)
    if duplicates.get("master") == "REF":
        duplicates["master"] = report.reference
    before = footprint(report)
    response = client.post("/bureau/doublons/", duplicates)
    answered(response)
    if response.status_code >= 400:
        assert footprint(report) == before


@FUZZ
@given(
    query=form(
        {
            "category": ["nid-de-poule"],
            "priority": ["high"],
            "status": ["acknowledged"],
            "district": ["1"],
            "deadline_before": ["2025-01-01"],
            "bbox": ["5.5,50.6,5.6,50.7", "1,2,3", "nan,nan,nan,nan"],
            "urgent_first": ["0", "1"],
            "format": ["geojson", "gpx", "csv", "print"],
        }
    ),
    body=form({"action": ["reset", "up:REF", "down:REF"], "order": ["REF"], "ref": ["REF"]}),
)
def test_the_crew_work_list_never_answers_a_server_error(client, report, query, body):
    logged_in(client, "crew-voirie")
    answered(client.get("/equipe/liege-voirie/", query))
    body = {
        k: [v.replace("REF", report.reference) for v in ([x] if isinstance(x, str) else x)]
        for k, x in body.items()
    }
    answered(client.post("/equipe/liege-voirie/", body))


@FUZZ
@given(
    reference=segment(["REF"]),
    body=form(
        {
            "outcome": ["start", "done", "cannot"],
            "note": ["fait"],
            "idempotency_key": ["k1"],
        }
    ),
)
def test_a_crew_stop_never_answers_a_server_error(client, report, reference, body):
    logged_in(client, "crew-voirie")
    reference = report.reference if reference == "REF" else reference
    answered(client.get(f"/equipe/liege-voirie/{reference}/"))
    before = footprint(report)
    response = client.post(f"/equipe/liege-voirie/{reference}/", body)
    answered(response)
    if response.status_code != 302:
        assert footprint(report) == before


@FUZZ
@given(body=form({"username": ["agent", "admin"], "password": [], "next": ["/admin/", "//evil.example"]}))
def test_the_admin_login_never_answers_a_server_error(client, liege, body):
    answered(client.post("/admin/login/", body))
