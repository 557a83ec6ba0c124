"""Open data: the exports parse back, carry the public fields only, follow the public list's
filters, leave sensitive reports out as points (counted per district only), and the daily dump
is served at stable addresses with its validators."""

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pyogrio
import pytest
from django.contrib.gis.geos import Point

from signalements.models import Category, Comment, ReporterContact, Signalement, Status
from signalements.opendata.selectors import EXPORT_FIELDS, PROPERTY_NAMES
from signalements.opendata.tasks import opendata_dump
from signalements.trust.moderation import description_public_version
from tests.conftest import PLACE_SAINT_LAMBERT
from tests.factories import SignalementFactory

LON, LAT = PLACE_SAINT_LAMBERT
NAME, EMAIL, PHONE = "Josiane Privée", "josiane.privee@example.org", "+32 470 99 88 77"
INTERNAL = "Note interne : voisin procédurier"
SENSITIVE_TEXT = "Insulte visant M. Dupont"


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.fixture
def reports(liege):
    """A pothole whose reporter left name, e-mail and phone (also typed in the description), an
    old resolved rubbish report, and a sensitive report."""
    text = f"Trou profond devant chez moi, appelez-moi au {PHONE}"
    public = description_public_version(description=text, channel="web", language="fr")
    pothole = SignalementFactory(
        category=Category.objects.get(slug="nid-de-poule"),
        description=text,
        public_description=public.text,
        address="Place Saint-Lambert",
    )
    ReporterContact.objects.create(signalement=pothole, name=NAME, email=EMAIL, phone=PHONE)
    Comment.objects.create(signalement=pothole, text=INTERNAL, is_internal=True)
    rubbish = SignalementFactory(
        location=Point(LON + 0.002, LAT, srid=4326),
        status=Status.RESOLVED,
        created_at=datetime(2025, 3, 10, 12, tzinfo=UTC),
    )
    insult = SignalementFactory(
        category=Category.objects.get(slug="tag-injurieux"),
        location=Point(LON + 0.0001, LAT, srid=4326),
        description=SENSITIVE_TEXT,
        public_description=SENSITIVE_TEXT,
    )
    return pothole, rubbish, insult


def assert_no_private(body: bytes) -> None:
    for private in (NAME, EMAIL, PHONE, INTERNAL, SENSITIVE_TEXT, "tracking", "idempotency"):
        assert private.encode() not in body, private


def test_the_geojson_export_parses_back_with_the_public_fields_only(client, reports):
    pothole, rubbish, insult = reports

    response = client.get("/donnees/export/signalements.geojson")

    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "application/geo+json"
    assert 'rel="license"' in response["Link"]
    body = body_of(response)
    assert_no_private(body)
    collection = json.loads(body)
    assert collection["type"] == "FeatureCollection"
    assert collection["licence"]["name"]
    features = {feature["id"]: feature for feature in collection["features"]}
    assert set(features) == {pothole.reference, rubbish.reference}
    feature = features[pothole.reference]
    assert feature["geometry"] == {"type": "Point", "coordinates": [LON, LAT]}
    assert tuple(feature["properties"]) == PROPERTY_NAMES
    properties = feature["properties"]
    assert properties["category"] == "nid-de-poule" and properties["category_group"] == "voirie"
    assert properties["status"] == "new" and properties["status_open"] is True
    assert properties["district_code"] == pothole.district.code
    assert properties["address"] == "Place Saint-Lambert"
    assert properties["description"].startswith("Trou profond") and PHONE not in properties["description"]
    assert datetime.fromisoformat(properties["created_at"]).utcoffset() is not None
    assert features[rubbish.reference]["properties"]["status_open"] is False


def test_the_csv_export_parses_back_with_the_dictionarys_columns(client, reports):
    pothole, rubbish, _insult = reports

    response = client.get("/donnees/export/signalements.csv")

    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    body = body_of(response)
    assert_no_private(body)
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert list(rows[0]) == [field.name for field in EXPORT_FIELDS]
    by_reference = {row["reference"]: row for row in rows}
    assert set(by_reference) == {pothole.reference, rubbish.reference}
    row = by_reference[pothole.reference]
    assert float(row["longitude"]) == pytest.approx(LON) and float(row["latitude"]) == pytest.approx(LAT)
    assert row["status_open"] == "true" and row["support_count"] == "0"
    assert datetime.fromisoformat(row["created_at"]).utcoffset() == timedelta(0)


def test_the_geopackage_export_reads_back_in_gis_tools(client, reports, tmp_path):
    pothole, rubbish, _insult = reports

    response = client.get("/donnees/export/signalements.gpkg")

    assert response.status_code == 200
    body = body_of(response)
    assert_no_private(body)
    path = tmp_path / "export.gpkg"
    path.write_bytes(body)
    frame = pyogrio.read_dataframe(path, layer="signalements")
    assert frame.crs.to_epsg() == 4326
    assert set(frame["reference"]) == {pothole.reference, rubbish.reference}
    assert list(frame.columns) == [*PROPERTY_NAMES, "geometry"]
    point = frame.loc[frame["reference"] == pothole.reference, "geometry"].iloc[0]
    assert (point.x, point.y) == pytest.approx((LON, LAT))


def test_an_empty_selection_is_still_a_valid_file_in_every_format(client, reports, tmp_path):
    params = {"created_before": "2000-01-01T00:00:00Z"}
    assert json.loads(body_of(client.get("/donnees/export/signalements.geojson", params)))["features"] == []
    assert body_of(client.get("/donnees/export/signalements.csv", params)).decode().count("\n") == 1
    path = tmp_path / "empty.gpkg"
    path.write_bytes(body_of(client.get("/donnees/export/signalements.gpkg", params)))
    assert len(pyogrio.read_dataframe(path)) == 0


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"category": "nid-de-poule"}, {"pothole"}),
        ({"group": "proprete"}, {"rubbish"}),
        ({"status": "resolved"}, {"rubbish"}),
        ({"status": ["new", "resolved"]}, {"pothole", "rubbish"}),
        ({"created_before": "2025-12-31T00:00:00Z"}, {"rubbish"}),
        ({"created_after": "2026-01-01T00:00:00+01:00"}, {"pothole"}),
        ({"category": "tag-injurieux"}, set()),
    ],
)
def test_exports_take_the_public_lists_filters(client, reports, params, expected):
    pothole, rubbish, _insult = reports
    names = {pothole.reference: "pothole", rubbish.reference: "rubbish"}

    collection = json.loads(body_of(client.get("/donnees/export/signalements.geojson", params)))
    rows = list(
        csv.DictReader(io.StringIO(body_of(client.get("/donnees/export/signalements.csv", params)).decode()))
    )

    assert {names[f["id"]] for f in collection["features"]} == expected
    assert {names[row["reference"]] for row in rows} == expected


def test_the_district_filter_selects_by_district(client, reports):
    pothole, _rubbish, _insult = reports
    collection = json.loads(
        body_of(client.get("/donnees/export/signalements.geojson", {"district": pothole.district_id}))
    )
    assert pothole.reference in {f["id"] for f in collection["features"]}
    assert all(f["properties"]["district_code"] == pothole.district.code for f in collection["features"])


@pytest.mark.parametrize(
    "path",
    [
        "/donnees/export/signalements.geojson",
        "/donnees/export/signalements.csv",
        "/donnees/export/signalements.gpkg",
        "/donnees/export/signalements-quartiers-mois.csv",
    ],
)
def test_a_bad_filter_is_a_400_naming_the_field(client, reports, path):
    response = client.get(path, {"category": "pas-une-categorie", "created_after": "hier"})

    assert response.status_code == 400
    assert set(response.json()) == {"category", "created"}


def test_the_monthly_summary_counts_sensitive_reports_per_district_only(client, reports):
    pothole, rubbish, insult = reports

    response = client.get("/donnees/export/signalements-quartiers-mois.csv")

    assert response.status_code == 200
    body = response.content
    assert insult.reference.encode() not in body and SENSITIVE_TEXT.encode() not in body
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert list(rows[0]) == [
        "territory",
        "district_code",
        "district_name",
        "month",
        "reports",
        "open",
        "resolved",
        "rejected",
        "duplicate",
    ]
    this_month = datetime.now(UTC).astimezone().strftime("%Y-%m")
    current = [r for r in rows if r["district_code"] == pothole.district.code and r["month"] == this_month]
    # the pothole and the insult, same district, this month: the sensitive one counted
    assert pothole.district_id == insult.district_id
    assert [int(current[0]["reports"]), int(current[0]["open"])] == [2, 2]
    old = [r for r in rows if r["month"] == "2025-03"]
    assert [(int(r["reports"]), int(r["resolved"])) for r in old] == [(1, 1)]
    assert sum(int(r["reports"]) for r in rows) == Signalement.objects.count()


def test_the_daily_dump_is_served_at_stable_addresses_with_validators(client, reports, settings, tmp_path):
    pothole, _rubbish, insult = reports
    settings.OPENDATA_DUMP_DIR = tmp_path / "dump"
    assert client.get("/donnees/complet/signalements.geojson").status_code == 404

    opendata_dump.run()

    for name in (
        "signalements.geojson",
        "signalements.csv",
        "signalements.gpkg",
        "signalements-quartiers-mois.csv",
    ):
        response = client.get(f"/donnees/complet/{name}")
        assert response.status_code == 200, name
        assert response["ETag"] and response["Last-Modified"]
        body = body_of(response)
        assert_no_private(body)
        assert insult.reference.encode() not in body
        again = client.get(f"/donnees/complet/{name}", HTTP_IF_NONE_MATCH=response["ETag"])
        assert again.status_code == 304
        since = client.get(f"/donnees/complet/{name}", HTTP_IF_MODIFIED_SINCE=response["Last-Modified"])
        assert since.status_code == 304
    collection = json.loads(body_of(client.get("/donnees/complet/signalements.geojson")))
    assert pothole.reference in {f["id"] for f in collection["features"]}
    assert not list((tmp_path / "dump").glob(".*partial"))


def test_the_daily_dump_is_scheduled_and_a_worker_knows_it():
    from django.conf import settings

    from config.celery import app

    name = settings.CELERY_BEAT_SCHEDULE["opendata-daily-dump"]["task"]
    assert name == "signalements.opendata.tasks.opendata_dump"
    app.loader.import_default_modules()  # what a worker does at start (CELERY_IMPORTS)
    assert name in app.tasks


@pytest.mark.parametrize(
    ("language", "words"),
    [("fr", "Dictionnaire des données"), ("en", "Data dictionary"), ("nl", "Datawoordenboek")],
)
def test_the_open_data_pages_list_every_field_in_each_language(client, liege, language, words):
    client.cookies["django_language"] = language
    page = client.get("/donnees/").content.decode()
    dictionary = client.get("/donnees/dictionnaire/").content.decode()

    assert words in page and words in dictionary
    for field in EXPORT_FIELDS:
        assert f"<code>{field.name}</code>" in dictionary
    assert "/donnees/complet/signalements.geojson" in page and "/open311/v2/discovery.json" in page


def test_every_page_links_to_open_data(client, liege):
    assert 'href="/donnees/"' in client.get("/signaler/", follow=True).content.decode()


def test_exports_read_the_reports_in_one_query_whatever_their_number(
    client, reports, django_assert_max_num_queries
):
    for n in range(30):
        SignalementFactory(location=Point(LON + 0.0001 * n, LAT, srid=4326))

    with django_assert_max_num_queries(4):
        geojson = body_of(client.get("/donnees/export/signalements.geojson"))
    with django_assert_max_num_queries(4):
        table = body_of(client.get("/donnees/export/signalements.csv"))

    assert len(json.loads(geojson)["features"]) == 32
    assert table.decode().count("\n") == 33
