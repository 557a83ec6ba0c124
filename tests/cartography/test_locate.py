"""The locate query against the real Liège boundaries, and work-zone precedence."""

import io
import json
import re
from pathlib import Path

import pytest
import shapely
from django.conf import settings
from django.contrib.gis.geos import MultiPolygon, Point, Polygon
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from cartography.models import District, LocateCellsState, Team, WorkZone
from cartography.selectors import Location, locate
from cartography.services import locate_cells_refresh
from cartography.tasks import refresh_locate_cells
from signalements.intake.services import signalement_submit
from signalements.locating import signalements_relocate
from signalements.models import Category, Signalement
from tests.conftest import PLACE_SAINT_LAMBERT
from tests.factories import (
    cells_and_rules_compared,
    cells_build_breaks,
    district_border_point,
    locate_cells_build,
    located_by_cells,
    located_by_rules,
)

DATA = Path(settings.BASE_DIR) / "fixtures" / "data"


def _features(name: str) -> list[dict]:
    return json.loads((DATA / name).read_text(encoding="utf-8"))["features"]


def _inner_point(feature: dict) -> tuple[float, float]:
    point = shapely.geometry.shape(feature["geometry"]).representative_point()
    return point.x, point.y


def _saint_lambert(category_slug: str) -> dict:
    """locate()'s parameters for a report of the category on the Place Saint-Lambert."""
    category_id = Category.objects.get(slug=category_slug).pk
    return {"lon": PLACE_SAINT_LAMBERT[0], "lat": PLACE_SAINT_LAMBERT[1], "category_id": category_id}


def _team_at(point, category_slug: str) -> str | None:
    """The team locate() gives, once the test's edits are made (the cells are stale: the rules
    answer), then through the cells built as the edits' commit would build them: the same."""
    params = {"lon": point[0], "lat": point[1], "category_id": Category.objects.get(slug=category_slug).pk}
    location = locate(**params)
    assert location == located_by_rules(params)
    locate_cells_build()
    assert located_by_cells(params) == location
    return Team.objects.get(pk=location.team_id).slug if location.team_id else None


@pytest.mark.parametrize(
    "feature", _features("liege_anciennes_communes.geojson"), ids=lambda f: f["properties"]["cd_sub_munty"]
)
def test_a_point_inside_each_sub_municipality_is_located_in_it(liege, feature):
    location = locate(lon=_inner_point(feature)[0], lat=_inner_point(feature)[1], category_id=None)

    assert location.territory_id == liege.pk
    assert District.objects.get(pk=location.district_id).code == feature["properties"]["cd_sub_munty"]


def test_every_statistical_sector_lies_in_its_sub_municipality(liege):
    # 184 real sectors: each sector's inner point must fall in the sub-municipality Statbel gives it.
    codes = dict(District.objects.filter(territory=liege, layer="districts").values_list("pk", "code"))
    for feature in _features("liege_secteurs_statistiques.geojson"):
        lon, lat = _inner_point(feature)
        location = locate(lon=lon, lat=lat, category_id=None)
        assert codes[location.district_id] == feature["properties"]["cd_sub_munty"], feature["properties"]


def test_place_saint_lambert_is_in_the_city_centre(liege):
    location = locate(lon=PLACE_SAINT_LAMBERT[0], lat=PLACE_SAINT_LAMBERT[1], category_id=None)

    assert District.objects.get(pk=location.district_id).name == "Liège – Meuse Nord"


@pytest.mark.parametrize(
    "point",
    [(4.3517, 50.8503), (2.3522, 48.8566), (5.70, 50.70), (0.0, 0.0)],
    ids=["brussels", "paris", "herstal-side", "null-island"],
)
def test_points_outside_the_territory_are_not_located(liege, point):
    assert locate(lon=point[0], lat=point[1], category_id=None) is None


def test_a_zone_with_higher_priority_wins_over_an_overlapping_zone(liege):
    # Saint-Lambert lies in the "Propreté Nord" zone and in the hypercentre zone (priority 10).
    assert _team_at(PLACE_SAINT_LAMBERT, "dechets") == "liege-hypercentre"


def test_a_zone_only_applies_to_its_categories(liege):
    # The hypercentre zone does not list dead leaves: the northern cleanliness team takes them.
    assert _team_at(PLACE_SAINT_LAMBERT, "feuilles-mortes") == "liege-proprete-nord"


def test_the_category_default_team_answers_where_no_zone_covers(liege):
    assert _team_at(PLACE_SAINT_LAMBERT, "lampadaire-eteint") == "liege-eclairage"
    assert _team_at(PLACE_SAINT_LAMBERT, "trottoir-verglace") == "liege-hiver"


def test_the_southern_team_covers_the_south(liege):
    chenee = next(
        f
        for f in _features("liege_anciennes_communes.geojson")
        if f["properties"]["cd_sub_munty"] == "62063G"
    )
    assert _team_at(_inner_point(chenee), "dechets") == "liege-proprete-sud"


def _new_category(slug: str, default_team: Team | None = None) -> Category:
    from signalements.models import CategoryGroup

    return Category.objects.create(
        slug=slug, name=slug, group=CategoryGroup.objects.first(), default_team=default_team
    )


def test_a_zone_naming_the_category_beats_a_catch_all_zone(liege):
    catch_all_team = Team.objects.create(slug="catch-all", name="Catch-all", territory=liege)
    WorkZone.objects.create(team=catch_all_team, name="Everything", geom=liege.geom, priority=100)
    _new_category("graffiti-sur-statue")

    assert _team_at(PLACE_SAINT_LAMBERT, "dechets") == "liege-hypercentre"
    assert _team_at(PLACE_SAINT_LAMBERT, "lampadaire-eteint") == "liege-eclairage"
    assert _team_at(PLACE_SAINT_LAMBERT, "graffiti-sur-statue") == "catch-all"


def test_the_smaller_zone_wins_at_equal_priority(liege):
    big = Team.objects.create(slug="big", name="Big", territory=liege)
    small = Team.objects.create(slug="small", name="Small", territory=liege)
    lon, lat = PLACE_SAINT_LAMBERT
    around = Polygon.from_bbox((lon - 0.002, lat - 0.002, lon + 0.002, lat + 0.002))
    WorkZone.objects.create(team=big, name="Big", geom=liege.geom)
    WorkZone.objects.create(team=small, name="Small", geom=MultiPolygon(around, srid=4326))
    _new_category("fontaine-en-panne")

    assert _team_at(PLACE_SAINT_LAMBERT, "fontaine-en-panne") == "small"


def test_the_default_team_is_the_last_resort_and_only_in_its_own_territory(liege):
    from cartography.models import Territory

    elsewhere = Territory.objects.create(
        slug="elsewhere", name="Elsewhere", geom=MultiPolygon(Polygon.from_bbox((0, 0, 1, 1)), srid=4326)
    )
    own = Team.objects.create(slug="own", name="Own", territory=liege)
    foreign = Team.objects.create(slug="foreign", name="Foreign", territory=elsewhere)
    _new_category("banc-casse", default_team=own)
    _new_category("borne-cassee", default_team=foreign)

    assert _team_at(PLACE_SAINT_LAMBERT, "banc-casse") == "own"
    assert _team_at(PLACE_SAINT_LAMBERT, "borne-cassee") is None


def test_an_inactive_team_is_skipped(liege):
    Team.objects.filter(slug="liege-hypercentre").update(is_active=False)

    assert _team_at(PLACE_SAINT_LAMBERT, "dechets") == "liege-proprete-nord"


def test_zone_category_edits_apply_at_once(liege):
    zone = WorkZone.objects.get(team__slug="liege-hypercentre")
    dechets = Category.objects.get(slug="dechets")

    zone.categories.remove(dechets)
    assert _team_at(PLACE_SAINT_LAMBERT, "dechets") == "liege-proprete-nord"

    zone.categories.add(dechets)
    assert _team_at(PLACE_SAINT_LAMBERT, "dechets") == "liege-hypercentre"

    zone.categories.clear()  # a zone with no category takes every category, below the named ones
    _new_category("statue-abimee")
    assert _team_at(PLACE_SAINT_LAMBERT, "lampadaire-eteint") == "liege-eclairage"
    assert _team_at(PLACE_SAINT_LAMBERT, "statue-abimee") == "liege-hypercentre"


def test_zone_team_and_priority_edits_apply_at_once(liege):
    zone = WorkZone.objects.get(team__slug="liege-hypercentre")
    zone.team = Team.objects.get(slug="liege-voirie")
    zone.save()
    assert _team_at(PLACE_SAINT_LAMBERT, "dechets") == "liege-voirie"

    zone.priority = -1000
    zone.save()
    assert _team_at(PLACE_SAINT_LAMBERT, "dechets") == "liege-proprete-nord"


def test_an_inactive_team_counts_again_once_reactivated(liege):
    Team.objects.filter(slug="liege-hypercentre").update(is_active=False)
    Team.objects.filter(slug="liege-hypercentre").update(is_active=True)

    assert _team_at(PLACE_SAINT_LAMBERT, "dechets") == "liege-hypercentre"


def test_the_locating_layer_decides_which_districts_reports_get(liege):
    lon, lat = PLACE_SAINT_LAMBERT
    sub_municipality = locate(lon=lon, lat=lat, category_id=None).district_id
    assert District.objects.get(pk=sub_municipality).layer == "districts"

    liege.locating_layer = "sectors"
    liege.save()
    sector = District.objects.get(pk=locate(lon=lon, lat=lat, category_id=None).district_id)

    assert sector.layer == "sectors"
    assert sector.geom.contains(Point(lon, lat, srid=4326))


def test_a_territory_without_districts_is_located_by_its_outline(liege):
    from cartography.models import Territory

    elsewhere = Territory.objects.create(
        slug="elsewhere", name="Elsewhere", geom=MultiPolygon(Polygon.from_bbox((0, 0, 1, 1)), srid=4326)
    )

    located = locate(lon=0.5, lat=0.5, category_id=None)
    assert (located.territory_id, located.district_id) == (elsewhere.pk, None)


def test_subdivided_copies_follow_boundary_edits(liege):
    district = District.objects.get(territory=liege, layer="districts", code="62063A")
    lon, lat = PLACE_SAINT_LAMBERT
    hole = Polygon.from_bbox((lon - 0.001, lat - 0.001, lon + 0.001, lat + 0.001))
    remaining = district.geom.difference(hole)
    district.geom = remaining if remaining.geom_type == "MultiPolygon" else MultiPolygon(remaining, srid=4326)
    district.save()

    assert locate(lon=lon, lat=lat, category_id=None).district_id is None


def test_relocation_moves_reports_after_a_boundary_change_but_keeps_manual_teams(liege):
    category = Category.objects.get(slug="dechets")
    auto, _ = signalement_submit(category=category, location=Point(*PLACE_SAINT_LAMBERT, srid=4326))
    manual, _ = signalement_submit(category=category, location=Point(*PLACE_SAINT_LAMBERT, srid=4326))
    voirie = Team.objects.get(slug="liege-voirie")
    Signalement.objects.filter(pk=manual.pk).update(team=voirie, team_is_manual=True)
    north = District.objects.get(territory=liege, layer="districts", code="62063A")
    south = District.objects.get(territory=liege, layer="districts", code="62063B")
    # Swap the two boundaries (reports of the centre now belong to "Meuse Sud") and retire the
    # hypercentre team (its reports go to the zone below it).
    north_geom, south_geom = north.geom, south.geom
    District.objects.filter(pk=north.pk).update(geom=south_geom)
    District.objects.filter(pk=south.pk).update(geom=north_geom)
    Team.objects.filter(slug="liege-hypercentre").update(is_active=False)

    moved = signalements_relocate(territory_id=liege.pk)

    assert moved == 2
    auto.refresh_from_db()
    manual.refresh_from_db()
    assert auto.district_id == south.pk and manual.district_id == south.pk
    assert auto.team.slug == "liege-proprete-nord"
    assert manual.team_id == voirie.pk
    assert signalements_relocate(territory_id=liege.pk) == 0


def test_relocation_agrees_with_the_one_point_lookup_for_every_report(liege):
    """The set-based relocation (parts joined to reports) and locate() (one point against the parts)
    write the same rules twice over: on 1,500 realistic reports after several edits they agree."""
    from datetime import UTC, datetime, timedelta

    from signalements.bulk import signalements_bulk_load
    from signalements.management.commands.load_demo import synthetic_rows
    from signalements.synthetic import generate

    end = datetime.now(UTC)
    batch = generate(
        area_wgs84=shapely.from_wkb(bytes(liege.geom.wkb)),
        metric_srid=settings.METRIC_SRID,
        count=1500,
        start=end - timedelta(days=365),
        end=end,
        categories=list(Category.objects.values_list("slug", flat=True)),
        seed=5,
    )
    signalements_bulk_load(synthetic_rows(batch), source="agreement")
    north, south = District.objects.filter(territory=liege, layer="districts").order_by("pk")[:2]
    District.objects.filter(pk=north.pk).update(geom=south.geom)
    District.objects.filter(pk=south.pk).update(geom=north.geom)
    Team.objects.filter(slug="liege-hypercentre").update(is_active=False)
    WorkZone.objects.get(team__slug="liege-proprete-sud").categories.clear()

    moved = signalements_relocate(territory_id=liege.pk)

    assert moved > 100
    reports = Signalement.objects.filter(source="agreement").values_list(
        "location", "category_id", "district_id", "team_id"
    )
    disagreements = []
    for location, category_id, district_id, team_id in reports:
        expected = locate(lon=location.x, lat=location.y, category_id=category_id)
        if (expected.district_id, expected.team_id) != (district_id, team_id):
            disagreements.append((location.coords, category_id))
    assert disagreements == []


def test_the_locate_cells_give_the_rules_answer_across_the_territory(liege):
    """On a 60 x 60 grid over Liège and beyond its edge, for every category and for none, one probe
    of the cells answers as the rules do, and needs the rules nowhere."""
    locate_cells_build()
    assert LocateCellsState.objects.get().stale is False
    categories = [None, *Category.objects.values_list("pk", flat=True)]
    compared, outside = cells_and_rules_compared(liege.geom.extent, categories, side=60)
    assert compared == 3600 and outside > 1000 and compared - outside > 1000


def test_an_uncommitted_edit_is_located_by_the_rules_until_its_commit_builds_the_cells(liege):
    hypercentre = WorkZone.objects.get(team__slug="liege-hypercentre")
    params = _saint_lambert("dechets")
    locate_cells_build()
    WorkZone.objects.filter(pk=hypercentre.pk).update(priority=-1000)  # plain SQL, no model save

    assert LocateCellsState.objects.get().stale is True
    assert located_by_cells(params) is False
    assert Team.objects.get(pk=locate(**params).team_id).slug == "liege-proprete-nord"
    locate_cells_build()
    assert LocateCellsState.objects.get().stale is False
    assert Team.objects.get(pk=located_by_cells(params).team_id).slug == "liege-proprete-nord"


def test_a_failed_build_leaves_the_cells_stale_and_lets_the_edit_through(liege):
    cells_build_breaks()
    Team.objects.filter(slug="liege-hypercentre").update(is_active=False)

    locate_cells_build()

    assert LocateCellsState.objects.get().stale is True
    assert Team.objects.get(slug="liege-hypercentre").is_active is False
    assert Team.objects.get(pk=locate(**_saint_lambert("dechets")).team_id).slug == "liege-proprete-nord"


@pytest.mark.django_db(transaction=True)
def test_the_cells_are_built_when_an_edit_commits(liege):
    params = _saint_lambert("dechets")
    lon, lat = PLACE_SAINT_LAMBERT
    with transaction.atomic():
        team = Team.objects.create(slug="square", name="Square", territory=liege)
        square = Polygon.from_bbox((lon - 0.001, lat - 0.001, lon + 0.001, lat + 0.001))
        zone = WorkZone.objects.create(
            team=team, name="Square", geom=MultiPolygon(square, srid=4326), priority=50
        )
        zone.categories.add(params["category_id"])

    assert LocateCellsState.objects.get().stale is False
    assert located_by_cells(params) == Location(liege.pk, locate(**params).district_id, team.pk)
    assert located_by_cells({**params, "lon": lon + 0.01}).team_id != team.pk


def test_a_point_on_the_border_of_two_districts_is_settled_by_the_rules(liege):
    """On a shared border the rules give the lower district id; the cells on either side disagree,
    so locate() asks the rules rather than pick one."""
    locate_cells_build()
    lon, lat, lower_id = district_border_point(liege)
    params = {"lon": lon, "lat": lat, "category_id": None}

    assert located_by_cells(params) is False
    assert locate(**params) == located_by_rules(params)
    assert locate(**params).district_id == lower_id


def test_the_refresh_builds_again_cells_a_failed_build_left_stale(liege):
    definition = cells_build_breaks()
    Team.objects.filter(slug="liege-hypercentre").update(is_active=False)
    locate_cells_build()
    assert locate_cells_refresh() is False
    with connection.cursor() as cursor:
        cursor.execute(definition)  # the build works again

    assert refresh_locate_cells() is True  # the beat task, run here

    assert LocateCellsState.objects.get().stale is False
    params = _saint_lambert("dechets")
    assert Team.objects.get(pk=located_by_cells(params).team_id).slug == "liege-proprete-nord"


def test_the_build_command_says_how_many_cells_or_why_it_failed(liege):
    out = io.StringIO()
    call_command("build_locate_cells", "--force", stdout=out)
    assert re.fullmatch(r"\d{3,} locate cells, fresh\n", out.getvalue())

    cells_build_breaks()
    with pytest.raises(CommandError, match="could not be built"):
        call_command("build_locate_cells", "--force", stdout=out)
