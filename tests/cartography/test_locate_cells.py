"""The locate cells are built again for the territories an edit touches, and for every territory
only when the edit reaches them all (cartography.database). Liège and Kortrijk, from the real files."""

import io
import threading
from collections import defaultdict
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.contrib.gis.geos import MultiPolygon, Polygon
from django.core.management import call_command
from django.db import connection
from django.db.models import F

from cartography.models import District, LocateCell, LocateCellsState, Team, Territory, WorkZone
from cartography.services import locate_cells_refresh
from signalements.models import Category
from tests.conftest import wait_for
from tests.factories import (
    cells_and_rules_compared,
    cells_build_breaks,
    locate_cells_build,
    located_by_cells,
    located_by_rules,
)

DATA = Path(settings.BASE_DIR) / "fixtures" / "data"


@pytest.fixture
def kortrijk(liege) -> Territory:
    """Kortrijk and its sub-municipalities beside Liège, their cells built."""
    out = io.StringIO()
    call_command(
        "import_territory",
        str(DATA / "kortrijk_gemeente.geojson"),
        slug="kortrijk",
        name="Kortrijk",
        stdout=out,
    )
    call_command(
        "import_districts",
        str(DATA / "kortrijk_deelgemeenten.geojson"),
        territory="kortrijk",
        name_field="naam",
        code_field="geoitem",
        stdout=out,
    )
    locate_cells_build()
    assert LocateCellsState.objects.get().stale is False
    return Territory.objects.get(slug="kortrijk")


def _cell_ids() -> dict[int, set[int]]:
    ids = defaultdict(set)
    for territory_id, pk in LocateCell.objects.values_list("territory_id", "pk"):
        ids[territory_id].add(pk)
    return ids


def _state() -> tuple[bool, bool, list[int]]:
    state = LocateCellsState.objects.get()
    return state.stale, state.everywhere, state.territory_ids


def _square(lon: float, lat: float, half: float) -> MultiPolygon:
    return MultiPolygon(Polygon.from_bbox((lon - half, lat - half, lon + half, lat + half)), srid=4326)


def _zone_priority_raised(liege, kortrijk):
    WorkZone.objects.filter(team__slug="liege-hypercentre").update(priority=F("priority") + 1)


def _district_shrunk(liege, kortrijk):
    district = District.objects.filter(territory=kortrijk).order_by("pk").first()
    district.geom = MultiPolygon(district.geom[0].buffer(-0.002), srid=4326)
    district.save()


def _locating_layer_changed(liege, kortrijk):
    Territory.objects.filter(pk=kortrijk.pk).update(locating_layer="wijken")


def _district_moved(liege, kortrijk):
    District.objects.filter(pk=District.objects.filter(territory=kortrijk).order_by("pk")[0].pk).update(
        territory=liege
    )


def _zone_category_added(liege, kortrijk):
    WorkZone.objects.get(team__slug="liege-hypercentre").categories.add(
        Category.objects.get(slug="lampadaire-eteint")
    )


def _plain_team_deactivated(liege, kortrijk):
    assert not Category.objects.filter(default_team__slug="liege-hypercentre").exists()
    Team.objects.filter(slug="liege-hypercentre").update(is_active=False)


def _default_team_deactivated(liege, kortrijk):
    assert Category.objects.filter(default_team__slug="liege-voirie").exists()
    Team.objects.filter(slug="liege-voirie").update(is_active=False)


def _default_team_changed(liege, kortrijk):
    Category.objects.filter(slug="lampadaire-eteint").update(
        default_team=Team.objects.get(slug="liege-voirie")
    )


def _category_added(liege, kortrijk):
    Category.objects.create(slug="graffiti-test", name="Graffiti", group=Category.objects.first().group)


def _zone_outside_every_territory(liege, kortrijk):
    WorkZone.objects.create(
        team=Team.objects.get(slug="liege-hypercentre"), name="Bruxelles", geom=_square(4.35, 50.85, 0.01)
    )


EDITS = {
    "a Liège work zone's priority": (_zone_priority_raised, {"liege"}),
    "a Kortrijk district's outline": (_district_shrunk, {"kortrijk"}),
    "Kortrijk's locating layer": (_locating_layer_changed, {"kortrijk"}),
    "a district moved from Kortrijk to Liège": (_district_moved, {"kortrijk", "liege"}),
    "a Liège zone's categories": (_zone_category_added, {"liege"}),
    "a Liège team no category defaults to, deactivated": (_plain_team_deactivated, {"liege"}),
    "a team a category defaults to, deactivated": (_default_team_deactivated, "everywhere"),
    "a category's default team": (_default_team_changed, "everywhere"),
    "a new category": (_category_added, "everywhere"),
    "a work zone outside every territory": (_zone_outside_every_territory, set()),
}


@pytest.mark.parametrize("edit", EDITS.values(), ids=EDITS.keys())
def test_an_edit_builds_again_the_cells_of_the_territories_it_touches(kortrijk, edit):
    change, touched = edit
    liege = Territory.objects.get(slug="liege")
    slugs = {liege.pk: "liege", kortrijk.pk: "kortrijk"}
    before = _cell_ids()
    change(liege, kortrijk)

    stale, everywhere, territory_ids = _state()
    if touched == "everywhere":
        assert (stale, everywhere) == (True, True)
    else:
        assert (stale, everywhere) == (bool(touched), False)
        assert {slugs[pk] for pk in territory_ids} == touched
    locate_cells_build()

    assert _state() == (False, False, [])
    after = _cell_ids()
    for pk, slug in slugs.items():
        rebuilt = touched == "everywhere" or slug in touched
        if rebuilt:
            assert not before[pk] & after[pk], slug  # all made again
        else:
            assert after[pk] == before[pk], slug  # left as they were
    categories = [None, *Category.objects.values_list("pk", flat=True)]
    for territory in (liege, kortrijk):
        compared, outside = cells_and_rules_compared(territory.geom.extent, categories, side=20)
        assert compared - outside > 100


def test_a_save_that_changes_no_rule_column_leaves_the_cells_fresh(kortrijk):
    """The admin's forms write every column: a team's phone, a zone's name or a territory saved as
    it was change nothing the rules read."""
    before = _cell_ids()
    team = Team.objects.get(slug="liege-voirie")
    team.public_phone = "+32 4 000 00 00"
    team.save()
    zone = WorkZone.objects.filter(team=team).first()
    zone.name = "Renamed"
    zone.save()
    kortrijk.save()
    Category.objects.filter(slug="lampadaire-eteint").update(name="Éclairage public")

    assert _state() == (False, False, [])
    locate_cells_build()
    assert _cell_ids() == before


def test_a_territory_in_two_parts_and_a_district_with_a_hole_get_their_cells(kortrijk):
    """Their boundaries are multi-part lines, which the noding refused before: the build failed
    and the cells stayed stale."""
    xmin, ymin, xmax, ymax = kortrijk.geom.extent
    exclave = _square(xmax + 0.02, (ymin + ymax) / 2, 0.005)
    kortrijk.geom = MultiPolygon(*kortrijk.geom, *exclave, srid=4326)
    kortrijk.save()
    district = District.objects.filter(territory=kortrijk).order_by("pk").first()
    centre = district.geom.point_on_surface
    hole = _square(centre.x, centre.y, 0.002)
    district.geom = MultiPolygon(district.geom[0].difference(hole[0]), srid=4326)
    district.save()
    assert len(district.geom[0]) == 2  # an outer ring and the hole

    locate_cells_build()

    assert _state() == (False, False, [])
    for extent in (exclave.extent, hole.extent, kortrijk.geom.extent):
        compared, outside = cells_and_rules_compared(extent, [None], side=12)
        assert compared - outside >= 10
    in_hole = located_by_cells({"lon": centre.x, "lat": centre.y, "category_id": None})
    assert in_hole.territory_id == kortrijk.pk and in_hole.district_id != district.pk


def test_a_build_for_some_territories_gives_the_cells_a_build_for_all_gives(kortrijk):
    def cells():
        with connection.cursor() as cursor:
            cursor.execute(
                """SELECT territory_id, district_id, catch_all_team_id, category_ids, team_ids,
                          ST_AsBinary(ST_Normalize(geom))
                     FROM cartography_locatecell ORDER BY 1, 2, 3, 4, 5, 6"""
            )
            return cursor.fetchall()

    WorkZone.objects.filter(team__slug="liege-proprete-sud").update(priority=F("priority") + 7)
    locate_cells_build()
    assert _state() == (False, False, [])
    by_territory = cells()

    assert locate_cells_refresh(force=True) is True  # every territory
    assert cells() == by_territory


def test_a_territory_overlapping_another_builds_them_all(kortrijk):
    """Where outlines overlap, the rules' tie-break between territories reaches across both: the
    build covers every territory, and the cells answer as the rules there."""
    liege = Territory.objects.get(slug="liege")
    lon, lat = liege.geom[0][0][0]  # on Liège's outline
    before = _cell_ids()
    neighbour = Territory.objects.create(slug="voisin", name="Voisin", geom=_square(lon, lat, 0.01))
    assert _state() == (True, False, [neighbour.pk])

    locate_cells_build()

    after = _cell_ids()
    assert after[neighbour.pk]
    for pk in (liege.pk, kortrijk.pk):
        assert not before[pk] & after[pk]
    compared, outside = cells_and_rules_compared(neighbour.geom.extent, [None], side=20)
    assert compared - outside > 100
    answers = {
        located_by_rules({"lon": lon + dx / 1000, "lat": lat + dy / 1000, "category_id": None})
        for dx in range(-9, 10, 3)
        for dy in range(-9, 10, 3)
    }
    assert {answer.territory_id for answer in answers} == {neighbour.pk, liege.pk}


def test_a_failed_build_keeps_its_territories_for_the_next_one(kortrijk):
    liege = Territory.objects.get(slug="liege")
    before = _cell_ids()
    definition = cells_build_breaks()
    _zone_priority_raised(liege, kortrijk)
    locate_cells_build()
    assert _state() == (True, False, [liege.pk])
    assert _cell_ids() == before

    with connection.cursor() as cursor:
        cursor.execute(definition)  # the build works again
    _district_shrunk(liege, kortrijk)
    assert _state() == (True, False, sorted([liege.pk, kortrijk.pk]))
    locate_cells_build()

    assert _state() == (False, False, [])
    after = _cell_ids()
    assert not before[liege.pk] & after[liege.pk] and not before[kortrijk.pk] & after[kortrijk.pk]
    compared, outside = cells_and_rules_compared(liege.geom.extent, [None], side=20)
    assert compared - outside > 100


def test_a_deleted_territory_leaves_no_cells(kortrijk):
    liege = Territory.objects.get(slug="liege")
    before = _cell_ids()
    kortrijk.delete()
    locate_cells_build()

    after = _cell_ids()
    assert set(after) == {liege.pk}
    assert after[liege.pk] == before[liege.pk]


@pytest.mark.django_db(transaction=True)
def test_a_zone_added_while_another_transaction_extends_the_territory_gets_its_cells(liege):
    """A extends Liège's outline over a square outside it; meanwhile B adds a work zone on that
    square, and commits after A. B's trigger waits for A's commit (the state row's lock) before it
    reads the cells: it then sees the square in Liège's cells, marks Liège, and B's commit builds
    Liège's cells with the zone in them. Read too early, the cells showed no territory there, B
    marked nothing, and the cells built at A's commit, without B's zone, stayed fresh."""
    xmin, ymin, xmax, ymax = liege.geom.extent
    lon, lat = xmax + 0.02, (ymin + ymax) / 2
    square = _square(lon, lat, 0.005).ewkt
    team = Team.objects.get(slug="liege-hypercentre")
    params = connection.get_connection_params()
    with (
        psycopg.connect(**params) as a,
        psycopg.connect(**params) as b,
        psycopg.connect(**params, autocommit=True) as watcher,
    ):
        a.execute(
            "UPDATE cartography_territory SET geom = ST_Multi(ST_Union(geom, %s::geometry)) WHERE id = %s",
            [square, liege.pk],
        )
        adding = threading.Thread(
            target=b.execute,
            args=(
                "INSERT INTO cartography_workzone (team_id, name, geom, priority)"
                " VALUES (%s, 'Square', %s::geometry, 100)",
                [team.pk, square],
            ),
        )
        adding.start()

        def adding_waits_or_is_done() -> bool:
            query = "SELECT count(*) FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))"
            return not adding.is_alive() or watcher.execute(query, [a.info.backend_pid]).fetchone()[0] > 0

        wait_for(adding_waits_or_is_done, "B's insert waits for A, or is done")
        a.commit()
        adding.join(timeout=60)
        b.commit()

    point = {"lon": lon, "lat": lat, "category_id": None}
    assert LocateCellsState.objects.get().stale is False
    assert located_by_rules(point).team_id == team.pk
    assert located_by_cells(point) == located_by_rules(point)
