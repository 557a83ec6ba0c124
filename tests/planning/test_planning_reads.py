"""The planners' reads of the analysis tables: who may open them, what the page, the CSV and GeoJSON
downloads, the API and the folium report say for a selection, and bad filters answered with 400."""

import csv
import io
import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import GEOSGeometry
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from cartography.planning import selectors
from cartography.planning.forms import PlanningFilterForm
from cartography.planning.models import HotspotPlace
from tests.planning_data import planning_data_create

User = get_user_model()
LEAVES = "category=feuilles-mortes&season=autumn"
PAGES = [
    "/planification/",
    "/planification/rapport.html",
    *(f"/planification/{t}.csv" for t in ("volumes", "classes", "hotspots", "recurring", "clusters")),
    *(f"/planification/{layer}.geojson" for layer in ("districts", "hotspots", "recurring", "clusters")),
]
API = [
    f"/api/v1/planning/{name}/" for name in ("volumes", "hotspots", "recurring-places", "clusters", "runs")
]
MAY_PLAN = {"planner", "agent", "admin"}


@pytest.fixture
def data(liege):
    return planning_data_create(liege)


def _api(role: str) -> APIClient:
    client = APIClient()
    if role != "anonymous":
        token, _ = Token.objects.get_or_create(user=User.objects.get(username=role))
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.mark.parametrize("role", ["anonymous", "crew-voirie", "crew-proprete", "planner", "agent", "admin"])
def test_planning_pages_and_api_open_to_planners_agents_and_admins_only(client, data, role):
    if role != "anonymous":
        client.force_login(User.objects.get(username=role))
    for path in PAGES:
        response = client.get(f"{path}?{LEAVES}")
        if role in MAY_PLAN:
            assert response.status_code == 200, path
        elif role == "anonymous":
            assert response.status_code == 302 and "next=" in response["Location"], path
        else:
            assert response.status_code == 403, path
    for path in API:
        response = _api(role).get(path)
        assert response.status_code == (200 if role in MAY_PLAN else 403), (path, role)


@pytest.mark.parametrize("role", ["planner", "agent", "crew-voirie"])
def test_the_menus_offer_the_planning_page_to_the_roles_that_may_open_it(client, liege, role):
    client.force_login(User.objects.get(username=role))
    page = client.get("/").content.decode()
    offered = 'href="/planification/"' in page
    assert offered == (role in MAY_PLAN)
    assert offered == (client.get("/planification/").status_code == 200)


def test_the_empty_state_says_the_analyses_have_not_run_and_how_to_run_them(client, liege):
    client.force_login(User.objects.get(username="planner"))
    body = client.get("/planification/").content.decode()
    assert "pas encore tourné" in body
    assert "planning_compute" in body


def test_the_layers_are_offered_by_their_names_not_their_keys(client, data):
    client.force_login(User.objects.get(username="planner"))
    body = client.get(f"/planification/?{LEAVES}&layer=sectors").content.decode()

    select = body.split('name="layer"', 1)[1].split("</select>", 1)[0]
    assert '<option value="districts">Anciennes communes</option>' in select
    assert '<option value="sectors" selected>Secteurs statistiques</option>' in select
    summary = body.split('id="selection-summary">', 1)[1].split("</p>", 1)[0]
    assert summary.rstrip().endswith("· Secteurs statistiques")


def test_the_page_shows_the_selection_tables_and_when_it_was_computed(client, data):
    client.force_login(User.objects.get(username="planner"))
    response = client.get(f"/planification/?{LEAVES}&years=2024")
    body = response.content.decode()

    assert "Dernier calcul des analyses" in body
    assert "pas encore tourné" not in body
    first = data.districts[0]
    # The first district has 10 reports in autumn 2024, doubled from 2023 (+100 %).
    row = body.split(f'<th scope="row">{first.name}</th>', 1)[1].split("</tr>", 1)[0]
    assert "<td>10</td>" in row and "+100 %" in row and "75 %" in row
    assert "point chaud persistant" in body
    assert "42" in body.split('id="recurring-caption"', 1)[1]  # rank 1's usual first week (41 + 1)
    assert "2 lieux récurrents" in body
    assert "1 grappe de signalements" in body
    config = json.loads(
        body.split('id="planning-map-config" type="application/json">', 1)[1].split("</script>")[0]
    )
    assert config["layers"]["districts"].startswith("/planification/districts.geojson?")
    assert "category=feuilles-mortes" in config["layers"]["hotspots"]


def test_months_the_last_run_did_not_cover_are_blank_not_zero(client, data):
    # The current month is left out of a run: drawn as 0, it read as a fall to nothing.
    data.runs["volumes"].parameters = {
        "window": {"start": "2023-01-01", "end": "2024-12-01", "time_zone": "Europe/Brussels"}
    }
    data.runs["volumes"].save()
    client.force_login(User.objects.get(username="planner"))

    response = client.get(f"/planification/?{LEAVES}&years=2024")

    series = response.context["chart_data"]["series"]
    assert [s["year"] for s in series] == [2024]
    months = [sum_of_month(data, 9), sum_of_month(data, 10), sum_of_month(data, 11), None]
    assert series[0]["counts"][:8] == [0] * 8 and series[0]["counts"][8:] == months
    chart = json.loads(
        response.content.decode()
        .split('id="planning-chart-data" type="application/json">')[1]
        .split("</script>")[0]
    )
    assert chart["series"][0]["counts"][11] is None
    row = response.content.decode().split('<th scope="row">2024</th>')[1].split("</tr>")[0]
    assert row.count("—") == 1 and "hors de la période analysée" in row


def sum_of_month(data, month: int) -> int:
    """The leaves' reports of every district in a month of autumn 2024 (see planning_data)."""
    share = {9: 0.2, 10: 0.5, 11: 0.3}[month]
    return sum(round(10 * (i + 1) * share) for i in range(len(data.districts)))


def test_the_api_sends_geometries_as_postgis_wrote_them_to_six_decimals(data):
    client = _api("planner")
    for path in ("hotspots", "recurring-places", "clusters"):
        features = client.get(f"/api/v1/planning/{path}/").json()["features"]
        assert features, path
        decimals = re.findall(r"\.(\d+)", json.dumps([f["geometry"]["coordinates"] for f in features]))
        assert decimals and max(len(d) for d in decimals) <= 6, path
    place = client.get("/api/v1/planning/hotspots/", {"kind": "district"}).json()["features"][0]
    stored = HotspotPlace.objects.get(pk=place["id"]).geom
    sent = GEOSGeometry(json.dumps(place["geometry"]), srid=4326)
    assert sent.geom_type == stored.geom_type and sent.num_coords == stored.num_coords
    assert sent.equals_exact(stored, tolerance=1e-6)


def test_the_filters_change_the_tables(client, data):
    client.force_login(User.objects.get(username="planner"))
    autumn = client.get(f"/planification/?{LEAVES}").content.decode()
    winter = client.get("/planification/?category=feuilles-mortes&season=winter").content.decode()
    assert "2 lieux récurrents" in autumn
    assert "Aucun lieu récurrent pour cette sélection" in winter
    lights = client.get("/planification/?category=lampadaire-eteint&season=autumn").content.decode()
    assert "Aucune alerte pour cette sélection" in lights


def test_the_choropleth_classes_the_districts_by_natural_breaks(data):
    form = PlanningFilterForm({"category": "feuilles-mortes", "season": "autumn", "years": ["2024"]})
    assert form.is_valid(), form.errors
    choropleth = selectors.district_rows(form.selection())

    assert len(choropleth.bins) == 5 and choropleth.method == "fisher_jenks"
    values = [row.value for row in choropleth.rows]
    assert sorted(values) == [5.0 * (i + 1) for i in range(len(data.districts))]  # per km²: count / 2
    # Classes grow with the values, and the top class holds the largest.
    by_value = sorted(choropleth.rows, key=lambda row: row.value)
    assert [row.klass for row in by_value] == sorted(row.klass for row in by_value)
    assert by_value[-1].klass == 4 and by_value[0].klass == 0


def test_every_table_downloads_as_csv_with_the_selections_rows(client, data):
    client.force_login(User.objects.get(username="planner"))
    volumes = list(
        csv.DictReader(io.StringIO(client.get(f"/planification/volumes.csv?{LEAVES}").content.decode()))
    )
    assert len(volumes) == 2 * len(data.districts)  # two autumns
    first = next(r for r in volumes if r["district_code"] == data.districts[0].code and r["year"] == "2024")
    assert first["count"] == "10" and first["change_vs_previous_year"] == "1.0"
    recurring = list(
        csv.DictReader(io.StringIO(client.get(f"/planification/recurring.csv?{LEAVES}").content.decode()))
    )
    assert [r["rank"] for r in recurring] == ["1", "2"]
    assert recurring[0]["years_hot"] == "2022 2023 2024" and recurring[0]["action_week_from"] == "40"
    classes = list(
        csv.DictReader(io.StringIO(client.get(f"/planification/classes.csv?{LEAVES}").content.decode()))
    )
    assert len(classes) == 17
    assert {r["hotspot_class"]: r["cells"] for r in classes}["persistent_hot"] == "1"


def test_every_layer_downloads_as_geojson_without_the_no_pattern_cells(client, data):
    client.force_login(User.objects.get(username="planner"))
    layers = {
        name: json.loads(client.get(f"/planification/{name}.geojson?{LEAVES}").content)
        for name in ("districts", "hotspots", "recurring", "clusters")
    }
    assert len(layers["districts"]["features"]) == len(data.districts)
    assert {f["properties"]["hotspot_class"] for f in layers["hotspots"]["features"]} == {
        "persistent_hot",
        "new_hot",
        "intensifying_hot",
    }
    assert layers["recurring"]["features"][0]["properties"]["usual_first_week"] == 43
    assert layers["clusters"]["features"][0]["geometry"]["type"] == "Point"


@pytest.mark.parametrize(
    "query",
    ["season=monsoon", "category=no-such-thing", "years=1850", "group=nope", "measure=x", "layer=nope"],
)
def test_bad_filters_are_a_400_with_the_fields_named(client, data, query):
    client.force_login(User.objects.get(username="planner"))
    name = query.split("=")[0]
    export = client.get(f"/planification/volumes.csv?{query}")
    assert export.status_code == 400
    assert name in export.json()
    assert client.get(f"/planification/?{query}").status_code == 400


def test_the_api_filters_and_paginates(data):
    client = _api("planner")
    volumes = client.get(
        "/api/v1/planning/volumes/", {"category": "feuilles-mortes", "period": "season", "year": 2024}
    ).json()
    assert volumes["count"] == len(data.districts)
    assert {row["count"] for row in volumes["results"]} == {10 * (i + 1) for i in range(len(data.districts))}
    totals = client.get("/api/v1/planning/volumes/", {"scope": "all", "period": "season"}).json()
    assert totals["count"] == 2 * len(data.districts)
    assert all(row["category"] is None for row in totals["results"])
    hot = client.get("/api/v1/planning/hotspots/", {"hotspot_class": "persistent_hot", "kind": "cell"}).json()
    assert hot["type"] == "FeatureCollection" and hot["count"] == 1
    assert hot["features"][0]["properties"]["territory"] == "liege"
    page = client.get("/api/v1/planning/hotspots/", {"page_size": 2}).json()
    assert len(page["features"]) == 2 and page["next"]
    recurring = client.get("/api/v1/planning/recurring-places/", {"season": "autumn", "year": 2022}).json()
    assert [f["properties"]["rank"] for f in recurring["features"]] == [1]
    assert client.get("/api/v1/planning/volumes/", {"season": "monsoon"}).status_code == 400
    assert client.get("/api/v1/planning/volumes/", {"year": 10**12}).status_code == 400


def test_the_api_is_documented_in_the_schema(client, db):
    import yaml

    schema = yaml.safe_load(client.get("/api/schema/").content)
    paths = schema["paths"]
    # The geometries, read from PostGIS's GeoJSON, keep the type of their model field.
    features = schema["components"]["schemas"]
    assert features["HotspotFeature"]["properties"]["geometry"]["properties"]["type"]["enum"] == ["Polygon"]
    assert features["ClusterFeature"]["properties"]["geometry"]["properties"]["type"]["enum"] == ["Point"]
    for path in API:
        assert path in paths
    assert {p["name"] for p in paths["/api/v1/planning/volumes/"]["get"]["parameters"]} >= {
        "territory",
        "layer",
        "category",
        "group",
        "season",
        "year",
        "page",
    }


def test_hotspot_report_writes_a_standalone_report_with_every_layer(data, tmp_path):
    out = tmp_path / "report.html"
    call_command(
        "hotspot_report", category="feuilles-mortes", season="autumn", out=str(out), stdout=io.StringIO()
    )
    html = out.read_text()

    assert "cdn.jsdelivr" not in html and "code.jquery" not in html and "cdnjs" not in html
    assert "Leaflet 1.9" in html  # inlined
    control = html.split("overlays :", 1)[1].split("}", 1)[0]  # the layer control's overlays
    for layer in ("Quartiers", "Points chauds émergents", "Lieux récurrents", "Alertes précoces"):
        assert json.dumps(layer)[1:-1] in control, layer
    assert 'id="report-legend"' in html and "point chaud persistant" in html
    assert "L.control.layers" in html


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"category": "nope", "season": "autumn"}, "--category"),
        ({"category": "feuilles-mortes", "season": "monsoon"}, "--season"),
        ({"category": "feuilles-mortes", "season": "autumn", "territory": "atlantis"}, "territory"),
    ],
)
def test_hotspot_report_refuses_bad_arguments_clearly(liege, tmp_path, options, message):
    with pytest.raises(CommandError, match=message):
        call_command("hotspot_report", out=str(tmp_path / "r.html"), stdout=io.StringIO(), **options)
    assert not (tmp_path / "r.html").exists()


def test_the_report_link_downloads_the_report(client, data):
    client.force_login(User.objects.get(username="agent"))
    response = client.get(f"/planification/rapport.html?{LEAVES}")
    assert response["Content-Disposition"].startswith("attachment;")
    assert b"report-legend" in response.content


@pytest.mark.parametrize("path", API)
def test_the_api_lists_cost_the_same_queries_whatever_their_length(data, path):
    """No query per row (N+1): one row or the whole page, the same number of queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = _api("planner")
    counts = []
    for size in (1, 50):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(path, {"page_size": size}).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_hotspot_report_before_any_analysis_still_draws_the_districts(liege, tmp_path):
    out = tmp_path / "empty.html"
    call_command("hotspot_report", season="winter", out=str(out), stdout=io.StringIO())
    html = out.read_text()
    assert 'id="report-legend"' in html and "Alertes pr\\u00e9coces" in html
