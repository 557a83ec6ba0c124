"""The public map's tiles, list and details (cartography.publicmap), and the public list API's count."""

import math
import re
from datetime import UTC, datetime, timedelta

import mapbox_vector_tile
import pytest
from django.contrib.gis.geos import Point
from django.urls import reverse
from django.utils import timezone

from cartography.publicmap.selectors import CELLS_FROM, POINTS_FROM
from signalements.models import Category, Comment, Moderation, ReporterContact, Signalement
from signalements.web.draft import SESSION_KEY
from tests.conftest import PLACE_SAINT_LAMBERT
from tests.factories import SignalementFactory

pytestmark = pytest.mark.django_db

PERSONAL = ("Jeanne Secret", "jeanne@example.org", "+32 470 99 88 77", "0470998877")
GLAIN = Point(5.5372, 50.6465, srid=4326)


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return z, x, y


def tile_url(z: int, x: int, y: int) -> str:
    return f"/carte/tuiles/{z}/{x}/{y}.pbf"


def decoded(client, z: int, x: int, y: int, **filters) -> dict:
    response = client.get(tile_url(z, x, y), filters)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/vnd.mapbox-vector-tile"
    return mapbox_vector_tile.decode(response.content)


@pytest.fixture(autouse=True)
def fresh_at_once(settings):
    """Each change is seen by the next request: no freshness token kept in the cache."""
    settings.PUBLIC_MAP_FRESHNESS_SECONDS = 0


@pytest.fixture
def reports(liege):
    dechets, leaves, lamp = (
        Category.objects.get(slug=s) for s in ("dechets", "feuilles-mortes", "lampadaire-eteint")
    )
    now = datetime.now(UTC)
    made = {
        "open": SignalementFactory(category=dechets, description="Appelez Jeanne Secret au 0470998877"),
        "working": SignalementFactory(
            category=leaves,
            status="in_progress",
            location=Point(PLACE_SAINT_LAMBERT[0] + 0.0004, PLACE_SAINT_LAMBERT[1], srid=4326),
        ),
        "resolved": SignalementFactory(category=lamp, status="resolved", location=GLAIN),
        "old": SignalementFactory(
            category=lamp,
            status="closed",
            location=Point(PLACE_SAINT_LAMBERT[0], PLACE_SAINT_LAMBERT[1] + 0.0004, srid=4326),
            created_at=now - timedelta(days=400),
        ),
        "rejected": SignalementFactory(category=dechets, status="rejected"),
        "sensitive": SignalementFactory(category=Category.objects.get(slug="tag-injurieux")),
    }
    Signalement.objects.filter(pk=made["old"].pk).update(updated_at=now - timedelta(days=300))
    for report in made.values():
        ReporterContact.objects.create(
            signalement=report, name=PERSONAL[0], email=PERSONAL[1], phone=PERSONAL[2]
        )
    return made


def features(tile: dict, layer: str) -> list[dict]:
    return tile.get(layer, {}).get("features", [])


def test_tiles_draw_districts_at_low_zoom_cells_then_reports_with_public_properties_only(client, reports):
    low = decoded(client, *tile_of(*PLACE_SAINT_LAMBERT, 11))
    assert set(low) == {"districts"}, "no point and no cell below the cells' zoom"
    counted = {f["properties"]["name"]: f["properties"]["count"] for f in features(low, "districts")}
    # Open, in progress, resolved recently and the sensitive report; not the rejected or the old one.
    assert sum(counted.values()) == 4
    assert all(0 <= f["properties"]["share"] <= 1 for f in features(low, "districts"))
    high = decoded(client, *tile_of(*PLACE_SAINT_LAMBERT, POINTS_FROM))
    assert all(set(f["properties"]) == {"id", "name"} for f in features(high, "districts")), "outlines only"

    here = tile_of(*PLACE_SAINT_LAMBERT, CELLS_FROM)
    cells = decoded(client, *here)
    assert "reports" not in cells
    shown = [reports[k].location for k in ("open", "working", "resolved")]  # not the sensitive one
    expected = sum(tile_of(p.x, p.y, CELLS_FROM) == here for p in shown)
    assert sum(f["properties"]["count"] for f in features(cells, "cells")) == expected >= 2
    assert all(set(f["properties"]) == {"count"} for f in features(cells, "cells"))

    points = decoded(client, *tile_of(*PLACE_SAINT_LAMBERT, POINTS_FROM + 1))
    drawn = {f["properties"]["ref"]: f["properties"] for f in features(points, "reports")}
    assert set(drawn) == {reports["open"].reference, reports["working"].reference}
    assert drawn[reports["working"].reference]["stage"] == "in_progress"
    assert drawn[reports["open"].reference]["stage"] == "open"
    assert drawn[reports["open"].reference]["category"] == reports["open"].category_id
    assert set(drawn[reports["open"].reference]) == {"ref", "category", "stage", "age"}

    glain = decoded(client, *tile_of(GLAIN.x, GLAIN.y, POINTS_FROM))
    (resolved,) = features(glain, "reports")
    assert resolved["properties"]["stage"] == "resolved" and resolved["properties"]["age"] == 0


def test_no_tile_carries_personal_data_or_a_sensitive_point(client, reports):
    sensitive = reports["sensitive"].reference
    for z in range(10, 19):
        response = client.get(tile_url(*tile_of(*PLACE_SAINT_LAMBERT, z)))
        for text in (*PERSONAL, "Appelez", sensitive):
            assert text.encode() not in response.content, (z, text)
        tile = mapbox_vector_tile.decode(response.content)
        refs = {f["properties"].get("ref") for f in features(tile, "reports")}
        assert sensitive not in refs


def test_a_sensitive_category_is_counted_per_district_and_never_drawn(client, reports):
    low = decoded(client, *tile_of(*PLACE_SAINT_LAMBERT, 12), category="tag-injurieux")
    assert sum(f["properties"]["count"] for f in features(low, "districts")) == 1
    for z in (CELLS_FROM, POINTS_FROM):
        tile = decoded(client, *tile_of(*PLACE_SAINT_LAMBERT, z), category="tag-injurieux")
        assert not features(tile, "cells") and not features(tile, "reports")


def test_a_category_made_sensitive_leaves_the_next_tile_of_the_same_view(client, reports):
    """The tiles keep a view's filters per freshness token: a change of the categories is a new
    token, and the next tile reads the filters again."""
    here = tile_of(*PLACE_SAINT_LAMBERT, POINTS_FROM + 1)
    before = {f["properties"]["ref"] for f in features(decoded(client, *here), "reports")}
    assert reports["open"].reference in before
    Category.objects.filter(pk=reports["open"].category_id).update(is_sensitive=True)
    after = {f["properties"]["ref"] for f in features(decoded(client, *here), "reports")}
    assert after == before - {reports["open"].reference}


def test_filters_change_the_tiles(client, reports):
    z, x, y = tile_of(*PLACE_SAINT_LAMBERT, POINTS_FROM + 1)

    def refs(**filters) -> set[str]:
        return {f["properties"]["ref"] for f in features(decoded(client, z, x, y, **filters), "reports")}

    assert refs(status="in_progress") == {reports["working"].reference}
    assert refs(category="dechets") == {reports["open"].reference}
    group = reports["open"].category.group
    assert reports["working"].category.group_id != group.pk
    assert refs(group=group.slug) == {reports["open"].reference}
    assert refs(status="resolved", resolved_days=3650) == {reports["old"].reference}
    assert refs(status="resolved") == set(), "resolved 300 days ago: not within the default 30 days"
    old_created = {reports["old"].reference}
    assert refs(status="resolved", resolved_days=3650, period=365) == set()
    assert refs(status="resolved", resolved_days=3650) == old_created
    district = reports["open"].district_id
    assert refs(district=district) == {reports["open"].reference, reports["working"].reference}


def test_bad_filters_and_tile_addresses_are_refused(client, reports):
    response = client.get(tile_url(14, 8000, 5000), {"status": "lost", "period": "12", "district": "x"})
    assert response.status_code == 400
    assert set(response.json()) == {"status", "period", "district"}
    assert client.get(tile_url(3, 8, 1)).status_code == 404
    assert client.get(tile_url(23, 0, 0)).status_code == 404


def test_a_tile_has_an_etag_and_a_short_cache_and_answers_304_until_a_report_changes(client, reports):
    url = tile_url(*tile_of(*PLACE_SAINT_LAMBERT, POINTS_FROM))
    first = client.get(url)
    assert first["Cache-Control"] == "public, max-age=30"
    etag = first["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    again = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again["ETag"] == etag and not again.content
    assert client.get(url, {"status": "open"}, HTTP_IF_NONE_MATCH=etag).status_code == 200

    Signalement.objects.filter(pk=reports["working"].pk).update(status="resolved", updated_at=timezone.now())
    changed = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    stages = {
        f["properties"]["ref"]: f["properties"]["stage"]
        for f in features(mapbox_vector_tile.decode(changed.content), "reports")
    }
    assert stages[reports["working"].reference] == "resolved"


def test_the_list_shows_what_the_map_draws_sorted_and_paginated(client, reports):
    page = client.get("/carte/liste/").content.decode()
    for key in ("open", "working", "resolved"):
        assert reports[key].reference in page
    for key in ("old", "rejected", "sensitive"):
        assert reports[key].reference not in page
    for text in (*PERSONAL, "Appelez"):
        assert text not in page

    only = client.get("/carte/liste/", {"status": "in_progress"}).content.decode()
    assert reports["working"].reference in only and reports["open"].reference not in only

    # The map's view: a box around Glain holds the resolved report only.
    box = f"{GLAIN.x - 0.001},{GLAIN.y - 0.001},{GLAIN.x + 0.001},{GLAIN.y + 0.001}"
    view = client.get("/carte/liste/", {"bbox": box}).content.decode()
    assert reports["resolved"].reference in view and reports["open"].reference not in view

    oldest_first = client.get("/carte/liste/", {"sort": "created"}).content.decode()
    newest_first = client.get("/carte/liste/", {"sort": "-created"}).content.decode()
    assert oldest_first.index(reports["open"].reference) < oldest_first.index(reports["resolved"].reference)
    assert newest_first.index(reports["open"].reference) > newest_first.index(reports["resolved"].reference)
    assert 'aria-sort="ascending"' in oldest_first

    assert client.get("/carte/liste/", {"status": "lost"}).status_code == 400
    assert client.get("/carte/liste/", {"bbox": "1,2"}).status_code == 400


def test_the_list_pages_without_counting(client, liege, settings, monkeypatch):
    from cartography.publicmap import views

    monkeypatch.setattr(views, "LIST_PAGE_SIZE", 2)
    made = [SignalementFactory() for _ in range(5)]
    first = client.get("/carte/liste/").content.decode()
    assert 'rel="next"' in first and 'rel="prev"' not in first
    last = client.get("/carte/liste/", {"page": 3}).content.decode()
    assert 'rel="next"' not in last and 'rel="prev"' in last
    assert made[0].reference in last


def test_a_list_page_costs_the_same_queries_whatever_its_rows_and_keeps_the_chosen_filters(
    client, liege, django_assert_num_queries
):
    """Five queries a page (the filters' categories, the page's rows, the three selects' choices,
    each in one plain query), one more to read a chosen category, whatever the number of rows and
    the language: no row reads its category, district or translated name on its own."""
    category = Category.objects.filter(is_sensitive=False).order_by("id").first()
    for _ in range(7):
        SignalementFactory(category=category)
    client.get("/carte/liste/")  # the session and the language, once

    with django_assert_num_queries(6):
        page = client.get("/carte/liste/", {"category": category.slug, "period": "30"}).content.decode()
    assert page.count("<tr data-reference=") == 7
    report = Signalement.objects.filter(category=category).first()
    assert f'<a href="{reverse("public-signalement", args=[report.reference])}">' in page
    assert f">{report.get_status_display()}</td>" in page
    assert f'<option value="{category.slug}" selected>{category.name}</option>' in page
    assert '<option value="30" selected>' in page
    with django_assert_num_queries(5):
        dutch = client.get("/carte/liste/", HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    assert category.name_nl in dutch


def test_a_report_s_public_details_and_nothing_personal(client, reports):
    report = reports["open"]
    Comment.objects.create(
        signalement=report, text="Une équipe passe demain.", public_text="Une équipe passe demain."
    )
    Comment.objects.create(signalement=report, text="Note interne", is_internal=True)
    Comment.objects.create(signalement=report, text="Cachée", public_text="", moderation=Moderation.HIDDEN)
    response = client.get(f"/carte/signalements/{report.reference}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert report.reference in html and report.category.name in html
    assert "Une équipe passe demain." in html
    assert "Note interne" not in html and "Cachée" not in html
    for text in PERSONAL:
        assert text not in html
    assert "Signaler un problème ici" in html and "lat=50.6" in html
    assert client.get(f"/carte/signalements/{reports['sensitive'].reference}/").status_code == 404


def test_report_here_places_the_point_in_the_citizen_s_draft(client, liege):
    response = client.get(
        "/signaler/", {"lat": str(PLACE_SAINT_LAMBERT[1]), "lon": str(PLACE_SAINT_LAMBERT[0])}
    )
    assert response.status_code == 302 and response.url == "/signaler/lieu/"
    draft = client.session[SESSION_KEY]
    assert (draft["lon"], draft["lat"]) == PLACE_SAINT_LAMBERT
    step = client.get("/signaler/lieu/").content.decode()
    assert f'value="{PLACE_SAINT_LAMBERT[0]}"' in step or str(PLACE_SAINT_LAMBERT[0]) in step

    elsewhere = client.__class__()
    elsewhere.get("/signaler/", {"lat": "48.85", "lon": "2.35"})  # Paris: outside Liège's territory
    assert "lon" not in (elsewhere.session.get(SESSION_KEY) or {})
    assert client.__class__().get("/signaler/", {"lat": "nan", "lon": "x"}).status_code == 302


def test_the_home_page_is_the_map_with_its_filters_kept_from_the_url(client, reports):
    response = client.get("/", {"status": "open", "category": "dechets"})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="public-map"' in html and "maplibre-gl-csp.js" in html
    assert re.search(r'<input type="checkbox" name="status" value="open"[^>]*checked', html)
    assert not re.search(r'<input type="checkbox" name="status" value="resolved"[^>]*checked', html)
    assert 'href="/carte/liste/?category=dechets&amp;status=open"' in html
    for text in PERSONAL:
        assert text not in html


API = "/api/v1/signalements/"


def test_the_public_api_counts_exactly_a_small_result(client, reports, settings):
    settings.SIGNALEMENT_API_EXACT_COUNT_UP_TO = 100
    body = client.get(API).json()
    assert body["count"] == 5 and body["count_is_estimate"] is False  # all but the sensitive report


def test_the_public_api_estimates_a_large_result_and_still_pages_to_its_end(client, liege, settings):
    settings.SIGNALEMENT_API_EXACT_COUNT_UP_TO = 3
    made = {SignalementFactory().reference for _ in range(7)}
    body = client.get(API, {"page_size": 3}).json()
    assert body["count_is_estimate"] is True and body["count"] >= 4
    seen, url = set(), API + "?page_size=3"
    while url:
        page = client.get(url).json()
        seen |= {f["id"] for f in page["features"]}
        url = page["next"]
    assert seen == made
    assert client.get(API, {"page_size": 3, "page": 9}).status_code == 404


def test_a_crowded_tile_keeps_its_cells_until_the_zoom_of_every_point(client, reports, monkeypatch):
    from cartography.publicmap import selectors

    monkeypatch.setattr(selectors, "CROWDED", 1)  # the two reports near Saint-Lambert crowd a tile
    crowded = decoded(client, *tile_of(*PLACE_SAINT_LAMBERT, POINTS_FROM))
    assert "reports" not in crowded and sum(f["properties"]["count"] for f in features(crowded, "cells")) == 2
    for key in ("open", "working"):
        where = reports[key].location
        closest = decoded(client, *tile_of(where.x, where.y, selectors.POINTS_ALWAYS_FROM))
        assert "cells" not in closest
        assert reports[key].reference in {f["properties"]["ref"] for f in features(closest, "reports")}


def test_a_crowded_tile_of_zoom_16_or_17_carries_counts_only(client, reports, monkeypatch):
    """At zoom 16 a crowded tile's cells come from the counts, at 17 from the reports: a count per
    cell, neither a reference nor a personal field, and the sensitive report not counted."""
    from cartography.publicmap import selectors

    monkeypatch.setattr(selectors, "CROWDED", 1)
    for z in (POINTS_FROM, POINTS_FROM + 1):
        for view in ({}, {"status": ["open", "in_progress", "resolved"], "resolved_days": 3650}):
            response = client.get(tile_url(*tile_of(*PLACE_SAINT_LAMBERT, z)), view)
            tile = mapbox_vector_tile.decode(response.content)
            assert "reports" not in tile
            assert all(set(f["properties"]) == {"count"} for f in features(tile, "cells"))
            # The open and working reports near Saint-Lambert; the old one is closed 300 days ago.
            expected = 3 if view else 2
            assert sum(f["properties"]["count"] for f in features(tile, "cells")) == expected, (z, view)
            for text in (*PERSONAL, "Appelez", *(r.reference for r in reports.values())):
                assert text.encode() not in response.content, (z, text)
