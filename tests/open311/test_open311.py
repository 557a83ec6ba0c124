"""Open311 GeoReport v2: discovery, services, service definitions, requests (GET with filters,
limits and the page extension; POST with an API key through the citizen intake), a request by
id, tokens, and mySociety's servicerequestupdates; both formats, every required field, the
standard's error bodies and codes, and never a reporter's contact in an answer."""

import json
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

import pytest
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point
from django.core.files.base import ContentFile
from rest_framework.authtoken.models import Token

from signalements.desk.services import signalement_transition
from signalements.models import Category, Comment, Photo, ReporterContact, Signalement, Status, StatusChange
from tests.conftest import PLACE_SAINT_LAMBERT, jpeg_bytes
from tests.factories import SignalementFactory

LON, LAT = PLACE_SAINT_LAMBERT
NAME, EMAIL, PHONE = "Josiane Privée", "josiane.privee@example.org", "+32 470 99 88 77"
INTERNAL = "Note interne : voisin procédurier"
BASE = "/open311/v2"
REQUEST_FIELDS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]


def parse(response, fmt: str):
    """The answer as Python data: JSON as is; XML as a list of dicts (one per item element) or a
    dict, children's text only."""
    if fmt == "json":
        assert response["Content-Type"].startswith("application/json")
        return json.loads(response.content)
    assert response["Content-Type"].startswith("text/xml")
    root = ElementTree.fromstring(response.content)

    def value(element):
        children = list(element)
        if not children:
            return element.text or ""
        if all(child.tag == children[0].tag for child in children) and len(children) > 1:
            return [value(child) for child in children]
        return {child.tag: value(child) for child in children}

    if root.tag in ("discovery", "service_definition"):
        return {child.tag: value(child) for child in root}
    return [{child.tag: value(child) for child in item} for item in root]


def api_key(username: str = "open311-client") -> str:
    user, _ = get_user_model().objects.get_or_create(username=username)
    return Token.objects.get_or_create(user=user)[0].key


@pytest.fixture
def reports(liege):
    agent = get_user_model().objects.get(username="agent")
    pothole = SignalementFactory(
        category=Category.objects.get(slug="nid-de-poule"),
        description=f"Trou, appelez-moi au {PHONE}",
        public_description="Trou, appelez-moi au [coordonnées masquées]",
        address="Place Saint-Lambert",
    )
    StatusChange.objects.create(signalement=pothole, from_status="", to_status=Status.NEW)
    ReporterContact.objects.create(signalement=pothole, name=NAME, email=EMAIL, phone=PHONE)
    Photo.objects.create(signalement=pothole, image=ContentFile(jpeg_bytes(), name="p.jpg"), is_public=True)
    signalement_transition(
        signalement=pothole, to_status=Status.ACKNOWLEDGED, author=agent, text="Vu, on arrive"
    )
    Comment.objects.create(signalement=pothole, author=agent, text=INTERNAL, is_internal=True)
    Comment.objects.create(
        signalement=pothole, author=agent, text="Réparation mardi", public_text="Réparation mardi"
    )
    old = SignalementFactory(
        location=Point(LON + 0.002, LAT, srid=4326),
        status=Status.RESOLVED,
        created_at=datetime.now(UTC) - timedelta(days=200),
    )
    insult = SignalementFactory(
        category=Category.objects.get(slug="tag-injurieux"), location=Point(LON + 0.0001, LAT, srid=4326)
    )
    pothole.refresh_from_db()
    return pothole, old, insult


def assert_no_private(response) -> None:
    for private in (NAME, EMAIL, PHONE, INTERNAL):
        assert private.encode() not in response.content, private


# --- discovery and services -------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_discovery_names_the_endpoint_and_its_formats(client, liege, fmt):
    response = client.get(f"{BASE}/discovery.{fmt}")

    assert response.status_code == 200
    data = parse(response, fmt)
    assert data["changeset"] and data["contact"] and data["key_service"]
    endpoints = data["endpoints"] if fmt == "json" else [data["endpoints"]["endpoint"]]
    endpoint = endpoints[0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2/") and endpoint["type"] == "production"
    formats = endpoint["formats"] if fmt == "json" else endpoint["formats"]
    assert set(formats) == {"text/xml", "application/json"}


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_services_are_the_active_categories_with_every_field(client, liege, fmt):
    services = parse(client.get(f"{BASE}/services.{fmt}"), fmt)

    codes = {service["service_code"] for service in services}
    assert codes == set(Category.objects.filter(is_active=True).values_list("slug", flat=True))
    pothole = next(s for s in services if s["service_code"] == "nid-de-poule")
    assert set(pothole) == {
        "service_code",
        "service_name",
        "description",
        "metadata",
        "type",
        "keywords",
        "group",
    }
    assert pothole["metadata"] in (False, "false") and pothole["type"] == "realtime"
    assert pothole["service_name"] == Category.objects.get(slug="nid-de-poule").name


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_service_definition_has_no_attributes_and_an_unknown_service_is_404(client, liege, fmt):
    known = client.get(f"{BASE}/services/nid-de-poule.{fmt}")
    unknown = client.get(f"{BASE}/services/pas-un-service.{fmt}")

    assert known.status_code == 200
    definition = parse(known, fmt)
    assert definition["service_code"] == "nid-de-poule" and definition["attributes"] in ([], "")
    assert unknown.status_code == 404
    assert parse(unknown, fmt) == [
        {"code": 404 if fmt == "json" else "404", "description": "service_code: unknown 'pas-un-service'"}
    ]


# --- requests GET -----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_requests_have_every_field_and_no_personal_data(client, reports, fmt):
    pothole, old, insult = reports

    response = client.get(f"{BASE}/requests.{fmt}")

    assert response.status_code == 200
    assert_no_private(response)
    items = parse(response, fmt)
    ids = [item["service_request_id"] for item in items]
    assert ids == [pothole.reference]  # the old one is out of the 90 days, the insult never shown
    item = items[0]
    assert list(item) == REQUEST_FIELDS
    assert item["status"] == "open" and item["service_code"] == "nid-de-poule"
    assert item["status_notes"] == "Vu, on arrive"
    assert item["description"] == "Trou, appelez-moi au [coordonnées masquées]"
    assert item["agency_responsible"] == pothole.team.name
    assert float(item["lat"]) == pytest.approx(LAT) and float(item["long"]) == pytest.approx(LON)
    assert item["media_url"].startswith("http://testserver/media/photos/")
    for name in ("requested_datetime", "updated_datetime"):
        assert datetime.fromisoformat(item[name]).utcoffset() is not None


def test_status_maps_the_workflow_to_open_and_closed(client, reports):
    pothole, old, _insult = reports
    window = {
        "start_date": (datetime.now(UTC) - timedelta(days=80)).isoformat(),
        "end_date": datetime.now(UTC).isoformat(),
    }
    Signalement.objects.filter(pk=old.pk).update(created_at=datetime.now(UTC) - timedelta(days=3))

    closed = client.get(f"{BASE}/requests.json", {**window, "status": "closed"}).json()
    opened = client.get(f"{BASE}/requests.json", {**window, "status": "open"}).json()
    both = client.get(f"{BASE}/requests.json", {**window, "status": "open,closed"}).json()

    assert [r["service_request_id"] for r in closed] == [old.reference]
    assert [r["service_request_id"] for r in opened] == [pothole.reference]
    assert len(both) == 2


def test_date_filters_select_on_the_request_date(client, reports):
    pothole, old, _insult = reports
    created = old.created_at

    inside = client.get(
        f"{BASE}/requests.json",
        {
            "start_date": (created - timedelta(days=1)).isoformat(),
            "end_date": (created + timedelta(days=1)).isoformat(),
        },
    ).json()
    from_start = client.get(
        f"{BASE}/requests.json", {"start_date": (created - timedelta(days=1)).isoformat()}
    ).json()

    assert [r["service_request_id"] for r in inside] == [old.reference]
    assert [r["service_request_id"] for r in from_start] == [old.reference]  # 90 days from the start


def test_service_request_id_overrides_the_other_filters(client, reports):
    pothole, old, insult = reports

    found = client.get(
        f"{BASE}/requests.json",
        {"service_request_id": f"{pothole.reference},{old.reference},{insult.reference}", "status": "open"},
    ).json()

    assert {r["service_request_id"] for r in found} == {pothole.reference, old.reference}


def test_service_code_filters_by_category(client, reports):
    pothole, _old, _insult = reports
    assert [
        r["service_request_id"]
        for r in client.get(f"{BASE}/requests.json", {"service_code": "nid-de-poule,dechets"}).json()
    ] == [pothole.reference]
    assert client.get(f"{BASE}/requests.json", {"service_code": "dechets"}).json() == []


def test_the_page_extension_and_the_1000_limit(client, reports, settings):
    pothole, _old, _insult = reports
    more = [SignalementFactory(created_at=datetime.now(UTC) - timedelta(minutes=n)) for n in range(1, 5)]
    newest_first = [pothole, *more]

    first = client.get(f"{BASE}/requests.json", {"page_size": 2}).json()
    second = client.get(f"{BASE}/requests.json", {"page_size": 2, "page": 2}).json()
    third = client.get(f"{BASE}/requests.json", {"page_size": 2, "page": 3}).json()
    settings.OPEN311_MAX_REQUESTS = 3
    capped = client.get(f"{BASE}/requests.json").json()
    too_big = client.get(f"{BASE}/requests.json", {"page_size": 4})

    refs = [s.reference for s in newest_first]
    assert [r["service_request_id"] for r in first + second + third] == refs
    assert len(capped) == 3
    assert too_big.status_code == 400


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start_date": "hier"}, "start_date: not a W3C date-time"),
        ({"end_date": "2026-13-45T00:00:00Z"}, "end_date: not a W3C date-time"),
        (
            {"start_date": "2026-02-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"},
            "start_date: after end_date",
        ),
        (
            {"start_date": "2025-01-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"},
            "end_date: the range may not span more than 90 days",
        ),
        ({"status": "pending"}, "status: open or closed"),
        ({"service_code": "pas-un-service"}, "service_code: unknown"),
        ({"page": "0"}, "page: a positive whole number"),
        ({"page_size": "x"}, "page_size: a positive whole number"),
    ],
)
def test_bad_request_parameters_are_400_in_the_standard_error_body(client, reports, fmt, params, message):
    response = client.get(f"{BASE}/requests.{fmt}", params)

    assert response.status_code == 400
    errors = parse(response, fmt)
    assert errors and all(str(error["code"]) == "400" for error in errors)
    assert any(error["description"].startswith(message) for error in errors), errors


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_request_by_id_and_404_for_unknown_or_sensitive(client, reports, fmt):
    pothole, old, insult = reports

    found = client.get(f"{BASE}/requests/{pothole.reference}.{fmt}")
    old_found = client.get(f"{BASE}/requests/{old.reference}.{fmt}")
    hidden = client.get(f"{BASE}/requests/{insult.reference}.{fmt}")
    unknown = client.get(f"{BASE}/requests/S9999999.{fmt}")

    assert found.status_code == 200 and old_found.status_code == 200
    assert_no_private(found)
    item = parse(found, fmt)[0]
    assert list(item) == REQUEST_FIELDS and item["service_request_id"] == pothole.reference
    assert parse(old_found, fmt)[0]["status"] == "closed"
    for response in (hidden, unknown):
        assert response.status_code == 404
        assert str(parse(response, fmt)[0]["code"]) == "404"


# --- requests POST ----------------------------------------------------------------------------


def post_body(**overrides) -> dict:
    return {
        "api_key": api_key(),
        "service_code": "nid-de-poule",
        "lat": str(LAT),
        "long": str(LON),
        "description": "Nid-de-poule profond",
        "email": EMAIL,
        "first_name": "Josiane",
        "last_name": "Privée",
        "phone": PHONE,
        "attributes[WHISPER]": "ignored",
        **overrides,
    }


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_post_goes_through_intake_and_keeps_the_contact_private(client, liege, fmt):
    response = client.post(f"{BASE}/requests.{fmt}", post_body())

    assert response.status_code == 201, response.content
    item = parse(response, fmt)[0]
    assert set(item) == {"service_request_id", "service_notice", "account_id"}
    signalement = Signalement.objects.get(reference=item["service_request_id"])
    assert signalement.channel == "api" and signalement.category.slug == "nid-de-poule"
    assert signalement.district_id is not None and signalement.team_id is not None  # located
    assert signalement.history.count() == 1
    reporter = signalement.reporter
    assert (reporter.name, reporter.email, reporter.phone) == ("Josiane Privée", EMAIL, PHONE)
    read = client.get(f"{BASE}/requests/{signalement.reference}.{fmt}")
    assert read.status_code == 200
    assert_no_private(read)


def test_a_post_by_address_string_is_placed_by_the_local_geocoder(client, liege):
    from cartography.geocoding import get_geocoder

    found = get_geocoder().search("Place Saint-Lambert", limit=1)
    assert found, "the Liège demo's gazetteer knows the square"
    body = post_body(address_string="Place Saint-Lambert")
    del body["lat"], body["long"]

    response = client.post(f"{BASE}/requests.json", body)

    assert response.status_code == 201, response.content
    signalement = Signalement.objects.get(reference=response.json()[0]["service_request_id"])
    assert signalement.address == "Place Saint-Lambert"
    assert (signalement.location.x, signalement.location.y) == pytest.approx((found[0].lon, found[0].lat))


def test_a_post_with_a_photo_gives_a_media_url(client, liege):
    from django.core.files.uploadedfile import SimpleUploadedFile

    body = post_body(media=SimpleUploadedFile("p.jpg", jpeg_bytes(), content_type="image/jpeg"))
    response = client.post(f"{BASE}/requests.json", body)

    assert response.status_code == 201, response.content
    reference = response.json()[0]["service_request_id"]
    assert client.get(f"{BASE}/requests/{reference}.json").json()[0]["media_url"].endswith(".jpg")


def test_a_repeated_post_with_its_idempotency_key_returns_the_first_request(client, liege):
    first = client.post(f"{BASE}/requests.json", post_body(), HTTP_IDEMPOTENCY_KEY="open311-retry-1")
    second = client.post(f"{BASE}/requests.json", post_body(), HTTP_IDEMPOTENCY_KEY="open311-retry-1")
    other = client.post(
        f"{BASE}/requests.json", post_body(description="Autre"), HTTP_IDEMPOTENCY_KEY="open311-retry-1"
    )

    assert first.status_code == 201 and second.status_code == 200
    assert first.json() == second.json()
    assert other.status_code == 422
    assert Signalement.objects.filter(channel="api").count() == 1


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"service_code": ""}, "service_code: required"),
        ({"service_code": "pas-un-service"}, "service_code: unknown"),
        ({"lat": "", "long": ""}, "lat/long: required, or address_string"),
        ({"lat": "nord"}, "lat: not a number"),
        ({"long": "200"}, "long: between -180 and 180"),
        ({"lat": "48.85", "long": "2.35"}, "lat/long: "),  # Paris: outside Liège's territory
        ({"lat": "", "long": "", "address_string": "Zzzyx inconnue"}, "address_string: no such place"),
        ({"email": "pas-une-adresse"}, "email: not an e-mail address"),
        ({"description": "x" * 5001}, "description: at most 5000"),
    ],
)
def test_a_bad_post_is_400_per_field_and_stores_nothing(client, liege, fmt, overrides, message):
    response = client.post(f"{BASE}/requests.{fmt}", post_body(**overrides))

    assert response.status_code == 400, response.content
    errors = parse(response, fmt)
    assert any(error["description"].startswith(message) for error in errors), errors
    assert not Signalement.objects.exists()


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("key", [None, "not-a-key", "inactive"])
def test_a_post_without_a_valid_api_key_is_403(client, liege, fmt, key):
    body = post_body()
    if key is None:
        del body["api_key"]
    elif key == "inactive":
        body["api_key"] = api_key("retired-client")
        get_user_model().objects.filter(username="retired-client").update(is_active=False)
    else:
        body["api_key"] = key

    response = client.post(f"{BASE}/requests.{fmt}", body)

    assert response.status_code == 403
    assert str(parse(response, fmt)[0]["code"]) == "403"
    assert not Signalement.objects.exists()


def test_posts_are_throttled_per_api_key_like_the_citizen_api(client, liege, settings):
    settings.SIGNALEMENT_THROTTLE_RATES = {**settings.SIGNALEMENT_THROTTLE_RATES, "submit": "2/hour"}
    answers = [
        client.post(f"{BASE}/requests.json", post_body(description=f"n° {n}")).status_code for n in range(3)
    ]
    other_client = client.post(f"{BASE}/requests.json", post_body(api_key=api_key("other-app"))).status_code

    assert answers == [201, 201, 429]
    assert other_client == 201


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_tokens_give_the_request_id(client, reports, fmt):
    pothole, _old, insult = reports

    found = client.get(f"{BASE}/tokens/{pothole.reference}.{fmt}")
    unknown = client.get(f"{BASE}/tokens/nope.{fmt}")

    assert found.status_code == 200
    assert parse(found, fmt) == [{"service_request_id": pothole.reference, "token": pothole.reference}]
    assert unknown.status_code == 404


# --- servicerequestupdates (mySociety) --------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_updates_are_public_status_changes_and_replies_never_internal_notes(client, reports, fmt):
    pothole, _old, insult = reports
    agent = get_user_model().objects.get(username="agent")
    signalement_transition(signalement=insult, to_status=Status.ACKNOWLEDGED, author=agent, text="Sensible")

    response = client.get(f"{BASE}/servicerequestupdates.{fmt}")

    assert response.status_code == 200
    assert_no_private(response)
    assert b"Sensible" not in response.content
    updates = parse(response, fmt)
    assert [(u["service_request_id"], u["description"], u["status"]) for u in updates] == [
        (pothole.reference, "Vu, on arrive", "open"),
        (pothole.reference, "Réparation mardi", "open"),
    ]
    for update in updates:
        assert set(update) == {
            "update_id",
            "service_request_id",
            "status",
            "updated_datetime",
            "description",
            "media_url",
        }
        assert datetime.fromisoformat(update["updated_datetime"]).utcoffset() is not None


def test_updates_take_a_date_window_and_pages(client, reports):
    pothole, _old, _insult = reports
    later = datetime.now(UTC) + timedelta(days=1)

    none_yet = client.get(f"{BASE}/servicerequestupdates.json", {"start_date": later.isoformat()}).json()
    first = client.get(f"{BASE}/servicerequestupdates.json", {"page_size": 1}).json()
    second = client.get(f"{BASE}/servicerequestupdates.json", {"page_size": 1, "page": 2}).json()
    bad = client.get(f"{BASE}/servicerequestupdates.json", {"end_date": "demain"})

    assert none_yet == []
    assert [u["description"] for u in first + second] == ["Vu, on arrive", "Réparation mardi"]
    assert bad.status_code == 400 and bad.json()[0]["code"] == 400


def test_a_page_of_requests_and_updates_reads_a_few_queries_whatever_its_size(
    client, reports, django_assert_max_num_queries
):
    for n in range(20):
        SignalementFactory(location=Point(LON + 0.0001 * n, LAT, srid=4326))

    with django_assert_max_num_queries(3):
        found = client.get(f"{BASE}/requests.json").json()
    with django_assert_max_num_queries(4):
        client.get(f"{BASE}/servicerequestupdates.xml")

    assert len(found) == 21
