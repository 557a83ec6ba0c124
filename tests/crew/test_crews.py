"""Crews: scoped work lists in route order, exports, updates from the street."""

import io
import json
from datetime import timedelta
from xml.etree import ElementTree as ET

import geopandas
import pytest
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from django.utils.formats import number_format

from cartography.models import Team
from signalements.crew.worklists import WORK_LIST_PLAN, work_list
from signalements.models import Category, Signalement
from tests.conftest import PLACE_SAINT_LAMBERT, jpeg_bytes
from tests.factories import SignalementFactory

LON, LAT = PLACE_SAINT_LAMBERT


def near(dx_m: float, dy_m: float) -> Point:
    return Point(LON + dx_m / 70_700, LAT + dy_m / 111_200, srid=4326)


@pytest.fixture
def voirie(liege) -> Team:
    team = Team.objects.get(slug="liege-voirie")
    team.depot = near(0, 0)
    team.save()
    return team


def pothole(at: Point, **kw) -> Signalement:
    return SignalementFactory(category=Category.objects.get(slug="nid-de-poule"), location=at, **kw)


# --- work lists -------------------------------------------------------------------------------


def test_a_crew_sees_only_its_teams_open_reports_in_route_order(client, voirie):
    far, close, middle = pothole(near(900, 0)), pothole(near(100, 0)), pothole(near(500, 0))
    pothole(near(200, 0), status="resolved")
    other_team = SignalementFactory(category=Category.objects.get(slug="dechets"), location=near(50, 0))
    client.force_login(get_user_model().objects.get(username="crew-voirie"))

    page = client.get("/equipe/liege-voirie/").content.decode()

    positions = [page.index(s.reference) for s in (close, middle, far)]
    assert positions == sorted(positions)
    assert other_team.reference not in page
    assert client.get("/equipe/").status_code == 302  # one team: straight to its list
    assert client.get("/equipe/liege-proprete-nord/").status_code == 403
    assert client.get(f"/equipe/liege-voirie/{other_team.reference}/").status_code == 404


def test_urgent_and_overdue_reports_are_forced_first(voirie):
    close = pothole(near(50, 0))
    urgent = pothole(near(2000, 0), priority="urgent")
    overdue = pothole(near(1500, 0), deadline_at=timezone.now() - timedelta(hours=1))

    stops = work_list(team=voirie)
    assert {stops[0].signalement, stops[1].signalement} == {urgent, overdue}
    assert stops[2].signalement == close
    assert [s.signalement for s in work_list(team=voirie, urgent_first=False)][0] == close


def test_filters(voirie):
    pothole(near(50, 0), priority="high")
    low = pothole(near(60, 0), priority="low")
    sign = SignalementFactory(category=Category.objects.get(slug="panneau-abime"), location=near(70, 0))

    assert [s.signalement for s in work_list(team=voirie, priority="low")] == [low]
    assert [s.signalement for s in work_list(team=voirie, category=sign.category)] == [sign]
    far_box = Point(LON + 1, LAT + 1, srid=4326).buffer(0.01)
    assert work_list(team=voirie, bbox=far_box) == []


def test_distances_and_times_between_stops(voirie):
    pothole(near(1000, 0))
    (stop,) = work_list(team=voirie)

    assert stop.leg_m == pytest.approx(1000, rel=0.05)
    assert stop.walk_min == pytest.approx(13, abs=1)  # 4.5 km/h


def test_the_route_length_is_written_in_kilometres_in_each_language(client, voirie):
    """The tour's length in kilometres, with the language's decimal mark and digit groups."""
    pothole(near(1000, 0))
    pothole(near(2000, 0))
    client.force_login(get_user_model().objects.get(username="crew-voirie"))
    total_km = sum(stop.leg_m for stop in work_list(team=voirie)) / 1000
    written = {}
    for language, label in (("fr", "Parcours : {} km"), ("en", "Route: {} km"), ("nl", "Traject: {} km")):
        with translation.override(language):
            written[language] = number_format(total_km, decimal_pos=1, force_grouping=True)
        page = client.get("/equipe/liege-voirie/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
        assert label.format(written[language]) in page, (language, written[language])
    assert "," in written["fr"]  # a decimal comma in French, as people write it


def test_a_manual_order_is_kept(client, voirie):
    a, b = pothole(near(100, 0)), pothole(near(200, 0))
    client.force_login(get_user_model().objects.get(username="crew-voirie"))
    client.post(
        "/equipe/liege-voirie/", {"order": [a.reference, b.reference], "ref": b.reference, "action": "up"}
    )

    assert [s.signalement for s in work_list(team=voirie)] == [b, a]
    c = pothole(near(300, 0))
    assert [s.signalement for s in work_list(team=voirie)] == [b, a, c]  # new items follow
    client.post("/equipe/liege-voirie/", {"action": "reset"})
    assert [s.signalement for s in work_list(team=voirie)] == [a, b, c]


def test_a_stop_moves_up_with_its_own_button(client, voirie):
    a, b = pothole(near(100, 0)), pothole(near(200, 0))
    client.force_login(get_user_model().objects.get(username="crew-voirie"))
    page = client.get("/equipe/liege-voirie/").content.decode()
    assert f'value="up:{b.reference}"' in page

    client.post("/equipe/liege-voirie/", {"order": [a.reference, b.reference], "action": f"up:{b.reference}"})

    assert [s.signalement for s in work_list(team=voirie)] == [b, a]


def test_a_stop_shows_its_text_escaped_and_an_urgent_one_marked(client, voirie):
    pothole(near(100, 0), address='<script>alert("x")</script> rue & place')
    pothole(near(200, 0), priority="urgent")
    client.force_login(get_user_model().objects.get(username="crew-voirie"))

    page = client.get("/equipe/liege-voirie/", HTTP_ACCEPT_LANGUAGE="nl").content.decode()

    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; rue &amp; place" in page
    assert page.count('<li class="stop forced"') == 1 and page.count('<li class="stop"') == 1
    with translation.override("nl"):
        urgent = translation.gettext("prioritaire")
    assert urgent != "prioritaire" and f"<strong>{urgent}</strong>" in page


def test_the_list_page_costs_as_many_queries_for_thirty_stops_as_for_three(client, voirie):
    client.force_login(get_user_model().objects.get(username="crew-voirie"))
    counts = []
    for total in (3, 30):
        while Signalement.objects.filter(team=voirie).count() < total:
            pothole(near(37 * Signalement.objects.count(), 20))
        with CaptureQueriesContext(connection) as queries:
            page = client.get("/equipe/liege-voirie/").content.decode()
        assert page.count('<li class="stop') == total
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_the_work_lists_planner_settings_end_with_its_query(voirie):
    """The list is read without workers, plain index scans or JIT (WORK_LIST_PLAN): the same stops,
    and the queries after it in the transaction planned as before."""
    stops = [pothole(near(300 * k, 0)) for k in range(1, 4)]
    pothole(near(150, 0), status="closed")
    SignalementFactory(category=Category.objects.get(slug="dechets"), location=near(100, 0))
    names = list(WORK_LIST_PLAN)

    def settings() -> tuple:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {', '.join(['current_setting(%s)'] * len(names))}", names)
            return cursor.fetchone()

    before = settings()
    assert [s.signalement for s in work_list(team=voirie, urgent_first=False)] == stops
    assert settings() == before and before[names.index("enable_indexscan")] == "on"


def test_a_moved_depot_gives_a_new_route_although_the_last_one_is_remembered(voirie):
    west, east = pothole(near(-1000, 0)), pothole(near(1200, 0))
    assert [s.signalement for s in work_list(team=voirie)] == [west, east]

    voirie.depot = near(1500, 0)
    voirie.save()

    assert [s.signalement for s in work_list(team=voirie)] == [east, west]


# --- exports ----------------------------------------------------------------------------------


def test_exports_parse_back(client, voirie):
    reports = [pothole(near(100 * k, 50)) for k in range(1, 4)]
    client.force_login(get_user_model().objects.get(username="crew-voirie"))

    gpx = ET.fromstring(client.get("/equipe/liege-voirie/", {"format": "gpx"}).content)
    ns = {"g": "http://www.topografix.com/GPX/1/1"}
    waypoints = gpx.findall("g:wpt", ns)
    route = gpx.findall("g:rte/g:rtept", ns)
    assert len(waypoints) == 3 and len(route) == 3
    assert waypoints[0].find("g:name", ns).text == f"1. {reports[0].reference}"
    assert float(route[0].get("lat")) == pytest.approx(reports[0].location.y)

    frame = geopandas.read_file(
        io.BytesIO(client.get("/equipe/liege-voirie/", {"format": "geojson"}).content)
    )
    points = frame[frame.geometry.geom_type == "Point"].sort_values("number")
    assert list(points["reference"]) == [r.reference for r in reports]
    assert (frame.geometry.geom_type == "LineString").sum() == 1

    rows = client.get("/equipe/liege-voirie/", {"format": "csv"}).content.decode().splitlines()
    assert rows[0].startswith("number,reference") and len(rows) == 4
    assert "leaflet" in client.get("/equipe/liege-voirie/", {"format": "print"}).content.decode().lower()


# --- updates from the street ------------------------------------------------------------------


def test_marking_done_with_a_note_and_a_photo_informs_the_citizen(client, voirie):
    report = pothole(near(100, 0))
    client.force_login(get_user_model().objects.get(username="crew-voirie"))

    client.post(f"/equipe/liege-voirie/{report.reference}/", {"outcome": "start"})
    client.post(
        f"/equipe/liege-voirie/{report.reference}/",
        {
            "outcome": "done",
            "note": "Trou rebouché.",
            "photo": SimpleUploadedFile("p.jpg", jpeg_bytes(), "image/jpeg"),
        },
    )

    report.refresh_from_db()
    assert report.status == "resolved"
    assert [h.to_status for h in report.history.all()] == ["in_progress", "resolved"]
    assert report.history.last().text == "Trou rebouché."
    assert report.photos.count() == 1
    assert "Trou rebouché." in client.get(f"/suivi/{report.tracking_token}/").content.decode()


def test_cannot_be_done_goes_back_to_the_desk_with_an_internal_note(client, voirie):
    report = pothole(near(100, 0), status="in_progress")
    client.force_login(get_user_model().objects.get(username="crew-voirie"))

    client.post(
        f"/equipe/liege-voirie/{report.reference}/",
        {"outcome": "cannot", "reason": "parked", "note": "Voiture garée dessus"},
    )

    report.refresh_from_db()
    assert report.status == "acknowledged"
    assert report.comments.get().is_internal
    assert "Voiture garée" not in client.get(f"/suivi/{report.tracking_token}/").content.decode()


def test_the_crew_api(voirie):
    from rest_framework.test import APIClient

    report = pothole(near(100, 0))
    api = APIClient()
    api.force_authenticate(get_user_model().objects.get(username="crew-voirie"))

    body = json.loads(api.get("/api/v1/crew/liege-voirie/worklist/").content)
    assert [f["id"] for f in body["features"] if f["id"] != "route"] == [report.reference]
    assert (
        api.post(
            f"/api/v1/crew/liege-voirie/signalements/{report.reference}/outcome/",
            {"outcome": "done", "note": "ok"},
            format="json",
        ).status_code
        == 201
    )
    report.refresh_from_db()
    assert report.status == "resolved"
    assert api.get("/api/v1/crew/liege-proprete-sud/worklist/").status_code == 403
