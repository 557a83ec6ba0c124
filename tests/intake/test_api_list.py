"""GET /api/v1/signalements/: public GeoJSON, filters, pagination; the other read endpoints."""

from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cartography.models import District, Team
from signalements.models import Category, ReporterContact
from tests.factories import SignalementFactory

URL = "/api/v1/signalements/"
GLAIN = Point(5.5372, 50.6465, srid=4326)  # western Liège, sub-municipality 62063K


@pytest.fixture
def reports(liege):
    dechets, leaves, lamp = (
        Category.objects.get(slug=s) for s in ("dechets", "feuilles-mortes", "lampadaire-eteint")
    )
    made = {
        "centre_new": SignalementFactory(category=dechets, created_at=datetime(2025, 10, 20, tzinfo=UTC)),
        "centre_leaves": SignalementFactory(
            category=leaves, status="acknowledged", created_at=datetime(2025, 11, 5, tzinfo=UTC)
        ),
        "glain_lamp": SignalementFactory(
            category=lamp, location=GLAIN, status="resolved", created_at=datetime(2026, 1, 15, tzinfo=UTC)
        ),
    }
    sensitive = Category.objects.get(slug="tag-injurieux")
    made["hidden"] = SignalementFactory(category=sensitive, created_at=datetime(2026, 2, 1, tzinfo=UTC))
    ReporterContact.objects.create(
        signalement=made["centre_new"],
        name="Jeanne Secret",
        email="jeanne@example.org",
        phone="+32 470 99 88 77",
    )
    return made


def _refs(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {feature["id"] for feature in response.json()["features"]}


def test_the_list_is_a_paginated_geojson_feature_collection(client, reports):
    body = client.get(URL).json()

    assert body["type"] == "FeatureCollection"
    assert body["count"] == 3
    feature = body["features"][0]
    assert feature["type"] == "Feature"
    assert feature["geometry"]["type"] == "Point"
    assert feature["id"].startswith("S")
    assert {"status", "category", "category_name", "district_name", "team_name", "created_at"} <= set(
        feature["properties"]
    )


def test_the_public_list_has_no_personal_data_and_no_sensitive_report(client, reports):
    text = client.get(URL).content.decode()

    assert "Jeanne" not in text and "jeanne@example.org" not in text and "99 88 77" not in text
    assert reports["hidden"].reference not in text
    assert reports["centre_new"].tracking_token not in text
    assert client.get(f"{URL}{reports['hidden'].reference}/").status_code == 404


def test_staff_see_sensitive_reports(client, reports):
    client.force_login(get_user_model().objects.get(username="agent"))

    assert reports["hidden"].reference in _refs(client.get(URL))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"category": "dechets"}, {"centre_new"}),
        ({"category": ["dechets", "lampadaire-eteint"]}, {"centre_new", "glain_lamp"}),
        ({"status": "resolved"}, {"glain_lamp"}),
        ({"status": ["new", "acknowledged"]}, {"centre_new", "centre_leaves"}),
        ({"created_after": "2025-11-01T00:00:00Z"}, {"centre_leaves", "glain_lamp"}),
        (
            {"created_after": "2025-11-01T00:00:00Z", "created_before": "2025-12-31T00:00:00Z"},
            {"centre_leaves"},
        ),
        ({"bbox": "5.53,50.64,5.545,50.65"}, {"glain_lamp"}),
        ({"bbox": "5.56,50.64,5.58,50.65", "category": "feuilles-mortes"}, {"centre_leaves"}),
    ],
)
def test_filters(client, reports, query, expected):
    assert _refs(client.get(URL, query)) == {reports[name].reference for name in expected}


def test_filter_by_district_and_team(client, reports):
    glain = District.objects.get(layer="districts", code="62063K")
    hyper = Team.objects.get(slug="liege-hypercentre")

    assert _refs(client.get(URL, {"district": glain.pk})) == {reports["glain_lamp"].reference}
    assert _refs(client.get(URL, {"team": hyper.pk})) == {reports["centre_new"].reference}


def test_bad_filters_get_a_400(client, reports):
    assert client.get(URL, {"category": "nope"}).status_code == 400
    assert client.get(URL, {"status": "bogus"}).status_code == 400
    assert client.get(URL, {"created_after": "yesterday"}).status_code == 400
    assert client.get(URL, {"bbox": "1,2,3"}).status_code == 400


def test_pagination(client, reports):
    first = client.get(URL, {"page_size": 2}).json()
    second = client.get(first["next"]).json()

    assert len(first["features"]) == 2 and len(second["features"]) == 1
    assert first["count"] == 3


@pytest.mark.parametrize("language", ["fr", "nl"])
def test_the_number_of_queries_does_not_grow_with_the_rows(
    client, liege, language, django_assert_max_num_queries
):
    # In Dutch too: a category name the list did not read would cost a query per feature.
    leaves = Category.objects.get(slug="feuilles-mortes")
    SignalementFactory.create_batch(5, category=leaves)
    with django_assert_max_num_queries(4) as few:
        client.get(URL, HTTP_ACCEPT_LANGUAGE=language)
    SignalementFactory.create_batch(40, category=leaves)
    with django_assert_max_num_queries(len(few.captured_queries)):
        body = client.get(URL, HTTP_ACCEPT_LANGUAGE=language).json()

    assert body["count"] == 45
    assert {f["properties"]["category_name"] for f in body["features"]} == {
        getattr(leaves, f"name_{language}")
    }


def test_a_feature_carries_the_stored_point_exactly(client, liege):
    report = SignalementFactory(location=Point(5.573412345678901, 50.6401234567891, srid=4326))

    (feature,) = client.get(URL).json()["features"]

    assert feature["id"] == report.reference
    assert feature["geometry"] == {"type": "Point", "coordinates": [5.573412345678901, 50.6401234567891]}


def _report_queries(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if '"signalements_signalement"' in q["sql"]]


PUBLIC_QUERY = {"status": ["new", "acknowledged"], "category": ["dechets", "feuilles-mortes"]}


@pytest.mark.parametrize(
    ("username", "url", "query", "expected"),
    [
        (None, URL, PUBLIC_QUERY, {"centre_new", "centre_leaves"}),
        ("agent", URL, PUBLIC_QUERY, {"centre_new", "centre_leaves"}),
        ("agent", "/api/v1/desk/signalements/", {"status": "acknowledged"}, {"centre_leaves"}),
    ],
)
def test_a_filtered_page_neither_sorts_every_match_nor_reads_district_outlines(
    client, reports, username, url, query, expected
):
    # DISTINCT (django-filter's default for a multiple choice) made the database sort every match,
    # with its district's outline, before it could cut the page: 3 s for one page at 1M reports.
    if username:
        client.force_login(get_user_model().objects.get(username=username))
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, query)

    assert response.status_code == 200, response.content
    text = response.content.decode()
    assert {name for name, report in reports.items() if report.reference in text} == expected
    assert "Liège – Meuse Nord" in text  # the district's name is still there
    sql = _report_queries(queries)
    assert sql, "the list read no report"
    assert not [s for s in sql if "DISTINCT" in s.upper()]
    assert not [s for s in sql if '"cartography_district"."geom"' in s]


def test_detail_by_reference(client, reports):
    body = client.get(f"{URL}{reports['glain_lamp'].reference}/").json()

    assert body["district"]["code"] == "62063K"
    assert body["team"]["name"] == "Éclairage public"
    assert "tracking_token" not in body


def test_categories_are_listed_in_the_requested_language(client, liege):
    french = {c["slug"]: c for c in client.get("/api/v1/categories/").json()}
    english = {
        c["slug"]: c["name"]
        for c in client.get("/api/v1/categories/", headers={"Accept-Language": "en"}).json()
    }
    dutch = {
        c["slug"]: c["name"]
        for c in client.get("/api/v1/categories/", headers={"Accept-Language": "nl"}).json()
    }

    assert french["feuilles-mortes"]["name"] == "Feuilles mortes"
    assert french["trottoir-verglace"]["group"] == "voirie"
    assert english["feuilles-mortes"] == "Dead leaves"
    assert dutch["trottoir-verglace"] == "Gladde stoep of weg"


def test_districts_and_territories_are_geojson(client, liege):
    districts = client.get("/api/v1/districts/", {"territory": "liege", "layer": "districts"}).json()
    sectors = client.get("/api/v1/districts/", {"territory": "liege", "layer": "sectors"}).json()
    territories = client.get("/api/v1/territories/").json()

    assert len(districts["features"]) == 12
    assert {f["properties"]["territory"] for f in sectors["features"]} == {"liege"}
    assert districts["features"][0]["geometry"]["type"] == "MultiPolygon"
    assert len(sectors["features"]) == 184
    assert [f["properties"]["slug"] for f in territories["features"]] == ["liege"]


def test_the_district_list_does_not_read_its_territorys_outline_for_each_district(client, liege):
    with CaptureQueriesContext(connection) as queries:
        sectors = client.get("/api/v1/districts/", {"layer": "sectors"}).json()

    assert len(sectors["features"]) == 184
    assert {f["properties"]["territory"] for f in sectors["features"]} == {"liege"}
    assert not [q for q in queries.captured_queries if '"cartography_territory"."geom"' in q["sql"]]


def test_the_api_root_links_every_entry_point(client, liege):
    links = client.get("/api/v1/").json()

    assert set(links) >= {"signalements", "categories", "districts", "territories", "teams", "schema", "docs"}
    assert links["signalements"] == "http://testserver/api/v1/signalements/"
    for key, url in links.items():
        answer = client.get(url)
        # nearby, locate and geocode want their parameters: a 400 that says which, not a 404
        assert answer.status_code == (400 if key in {"nearby", "locate", "geocode"} else 200), (key, url)


def test_geocode_answers_places_of_the_territory_with_their_coordinates(client, liege):
    answer = client.get("/api/v1/geocode/", {"q": "Saint-Lambert", "territory": "liege"})

    assert answer.status_code == 200
    first = answer.json()[0]
    assert set(first) == {"label", "lon", "lat", "kind", "territory"}
    assert first["territory"] == "liege" and first["kind"] in {"street", "place", "district"}
    assert "Saint-Lambert" in first["label"]
    assert District.objects.filter(geom__contains=Point(first["lon"], first["lat"], srid=4326)).exists()
