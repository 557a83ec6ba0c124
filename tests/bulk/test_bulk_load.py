"""The bulk loader (signalements.bulk) on real Liège boundaries: what it stores, in which order,
and its foreign-key checks made once per key instead of once per row."""

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import shapely
from django.conf import settings
from django.contrib.gis.geos import MultiPolygon
from django.db import IntegrityError, connection, transaction

from cartography.models import District
from cartography.selectors import cell_edge_sql, cell_holding_sql, cells_fresh, locate
from signalements.bulk import BulkRow, signalements_bulk_load
from signalements.bulk import core as bulk
from signalements.bulk.core import REFERENCES, SET_BASED_CHECKS_SQL
from signalements.management.commands.load_demo import synthetic_rows
from signalements.models import Category, Signalement, StatusChange
from signalements.synthetic import generate
from tests.conftest import PLACE_SAINT_LAMBERT
from tests.factories import district_border_point, locate_cells_build


def synthetic(liege, count: int, *, seed: int = 3) -> list[BulkRow]:
    end = datetime(2026, 11, 1, tzinfo=UTC)
    batch = generate(
        area_wgs84=shapely.from_wkb(bytes(liege.geom.wkb)),
        metric_srid=settings.METRIC_SRID,
        count=count,
        start=end - timedelta(days=365),
        end=end,
        categories=list(Category.objects.values_list("slug", flat=True)),
        seed=seed,
    )
    return synthetic_rows(batch)


def stored(source: str) -> list[tuple]:
    return list(
        Signalement.objects.filter(source=source)
        .order_by("created_at", "id")
        .values_list(
            "created_at", "category_id", "territory_id", "district_id", "team_id", "status", "deadline_at"
        )
    )


def replication_role() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('session_replication_role')")
        return cursor.fetchone()[0]


def test_set_based_checks_store_what_the_row_triggers_store(liege, settings):
    rows = synthetic(liege, 400)
    with connection.cursor() as cursor:
        cursor.execute(SET_BASED_CHECKS_SQL)
        assert cursor.fetchone()[0], "the test role may switch row triggers off: this test needs it"

    settings.SIGNALEMENT_BULK_SET_BASED_CHECKS = False
    by_triggers = signalements_bulk_load(rows, source="triggers")
    settings.SIGNALEMENT_BULK_SET_BASED_CHECKS = True
    set_based = signalements_bulk_load(rows, source="set-based")

    assert by_triggers.inserted == set_based.inserted == 400
    assert stored("triggers") == stored("set-based")
    assert StatusChange.objects.filter(signalement__source="set-based").count() == 400
    assert replication_role() == "origin"  # the rest of the transaction checks its rows again


def test_the_row_triggers_still_check_what_follows_a_load(liege):
    signalements_bulk_load(synthetic(liege, 20), source="then")
    report = Signalement.objects.filter(source="then").first()

    with pytest.raises(IntegrityError), transaction.atomic():
        Signalement.objects.filter(pk=report.pk).update(team_id=10**9)
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_a_referenced_row_gone_stops_the_load_naming_the_row(liege):
    team_id = REFERENCES[3][0]
    assert team_id == "team_id"
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE UNLOGGED TABLE signalement_located AS "
            "SELECT 7 AS row_no, id AS territory_id, NULL::bigint AS category_id, "
            "NULL::bigint AS district_id, 999999::bigint AS team_id FROM cartography_territory LIMIT 1"
        )
        from signalements.bulk.core import _foreign_keys_check

        with pytest.raises(IntegrityError, match="row 7: team_id 999999 is no longer in cartography_team"):
            _foreign_keys_check(cursor)
        cursor.execute("DROP TABLE signalement_located")


def test_every_foreign_key_the_loader_fills_is_checked(liege):
    from signalements.bulk.core import INSERT_SQL

    inserted = INSERT_SQL.split("(", 2)[2].split(")", 1)[0]
    columns = {name.strip() for name in inserted.split(",")}
    keys = {field.column for field in Signalement._meta.concrete_fields if field.is_relation}

    assert keys & columns == {column for column, _ in REFERENCES}


def test_a_trigger_on_inserts_turns_the_set_based_path_off(liege):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION pg_temp.noop() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$"
        )
        cursor.execute(
            "CREATE TRIGGER audit AFTER INSERT ON signalements_signalement "
            "FOR EACH ROW EXECUTE FUNCTION pg_temp.noop()"
        )
        cursor.execute(SET_BASED_CHECKS_SQL)
        assert cursor.fetchone()[0] is False
        result = signalements_bulk_load(synthetic(liege, 10), source="audited")
        assert result.inserted == 10
        assert replication_role() == "origin"
        transaction.set_rollback(True)


def saint_lambert_row(**fields) -> BulkRow:
    """One waste report on the Place Saint-Lambert, with `fields` changed."""
    category = Category.objects.get(slug="dechets")
    return BulkRow(
        **{
            "row": 1,
            "lon": PLACE_SAINT_LAMBERT[0],
            "lat": PLACE_SAINT_LAMBERT[1],
            "category_id": category.pk,
            "created_at": datetime(2025, 3, 1, 10, tzinfo=UTC),
        }
        | fields
    )


def test_reports_are_numbered_in_the_order_of_their_dates(liege):
    base = datetime(2025, 3, 1, 10, tzinfo=UTC)
    row = saint_lambert_row(created_at=base)
    rows = [
        replace(row, row=i + 1, created_at=base + timedelta(days=offset))
        for i, offset in enumerate([3, 1, 2])
    ]

    signalements_bulk_load(rows, source="order")

    reports = list(Signalement.objects.filter(source="order").order_by("id"))
    assert [r.created_at for r in reports] == sorted(r.created_at for r in reports)
    assert [r.reference for r in reports] == sorted(r.reference for r in reports)


def test_loaded_reports_get_tracking_secrets_of_the_same_shape_each_its_own(liege, monkeypatch):
    # Blocks of two rows: the five rows take their secrets from three draws.
    monkeypatch.setattr(bulk, "SECRET_BLOCK_ROWS", 2)
    row = saint_lambert_row()

    signalements_bulk_load([replace(row, row=i) for i in range(1, 6)], source="tokens")

    secrets = list(Signalement.objects.filter(source="tokens").values_list("tracking_secret", flat=True))
    assert len(secrets) == 5
    assert all(re.fullmatch(r"[0-9a-f]{32}", secret) for secret in secrets)
    assert len(set(secrets)) == 5


def test_a_row_repeated_in_the_file_or_already_stored_is_loaded_once(liege):
    row = saint_lambert_row(external_id="A-1")
    first = signalements_bulk_load([row, replace(row, row=2, description="the same, again")], source="file")
    again = signalements_bulk_load(
        [replace(row, row=1), replace(row, row=2, external_id="A-2")], source="file"
    )

    assert (first.inserted, first.already_loaded) == (1, 1)
    assert (again.inserted, again.already_loaded) == (1, 1)
    assert Signalement.objects.get(source="file", external_id="A-1").description == ""
    assert Signalement.objects.filter(source="file").count() == 2


def test_a_load_or_a_relocation_leaves_the_transaction_s_settings_as_they_were(liege):
    """Their joins run with more memory and free parallel workers; a one-point lookup later in the
    same transaction, planned that way, started two workers each time (90 ms instead of 0.1)."""
    from signalements.locating import signalements_relocate

    def current() -> tuple:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_setting('work_mem'), current_setting('jit'), "
                "current_setting('parallel_setup_cost'), current_setting('parallel_tuple_cost')"
            )
            return cursor.fetchone()

    before = current()
    signalements_bulk_load(synthetic(liege, 50), source="settings")
    assert current() == before
    signalements_relocate(territory_id=liege.pk)
    assert current() == before


def test_a_load_is_located_alike_through_the_cells_and_through_the_rules(liege):
    """With the cells fresh the loader probes them for each point; stale (an edit in the loading
    transaction), it joins the parts to the points. Both give each row the district and team
    locate() gives, a point on a district border included (no cell holds it: the rules say)."""
    lon, lat, lower_id = district_border_point(liege)
    rows = [*synthetic(liege, 1500, seed=11), saint_lambert_row(row=1501, lon=lon, lat=lat)]
    locate_cells_build()
    with connection.cursor() as cursor:
        assert cells_fresh(cursor)
        border = "ST_SetSRID(ST_MakePoint(%s, %s), 4326)"
        cursor.execute(
            f"SELECT (SELECT count(*) FROM (SELECT) one {cell_holding_sql(border)} WHERE c.id IS NOT NULL),"
            f" {cell_edge_sql(border)}",
            [lon, lat, lon, lat],
        )
        assert cursor.fetchone() == (0, True), "the border point goes to the rules"
    signalements_bulk_load(rows, source="by-cells")

    # A statistical sector moved: not the locating layer, no answer changes, but the cells are stale.
    sector = District.objects.filter(territory=liege, layer="sectors").order_by("pk").first()
    sector.geom = MultiPolygon(sector.geom[0].buffer(-0.0005), srid=4326)
    sector.save()
    with connection.cursor() as cursor:
        assert not cells_fresh(cursor)
    signalements_bulk_load(rows, source="by-rules")

    def located(source: str) -> dict:
        reports = Signalement.objects.filter(source=source).values_list(
            "location", "category_id", "created_at", "territory_id", "district_id", "team_id"
        )
        return {(p.x, p.y, category, created): answer for p, category, created, *answer in reports}

    by_cells, by_rules = located("by-cells"), located("by-rules")
    assert len(by_cells) > 1400 and by_cells == by_rules
    for (x, y, category_id, _), answer in list(by_cells.items())[:300]:
        expected = locate(lon=x, lat=y, category_id=category_id)
        assert [expected.territory_id, expected.district_id, expected.team_id] == answer
    on_border = [answer for (x, y, *_), answer in by_cells.items() if (x, y) == (lon, lat)]
    assert [district_id for _, district_id, _ in on_border] == [lower_id]
