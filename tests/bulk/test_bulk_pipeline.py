"""The bulk loader on two connections (signalements.bulk.pipeline), as the import command runs it,
outside a transaction: what it stores is what the one-connection load stores, all or nothing."""

import logging
from dataclasses import replace
from datetime import UTC, datetime

import psycopg
import pytest
from django.db import IntegrityError, connection, transaction

from cartography.publicmap.selectors import EVERY_CATEGORY
from signalements.bulk import BulkRow, signalements_bulk_load
from signalements.bulk.pipeline import PREFIX, range_sizes
from signalements.models import Signalement, StatusChange
from tests.bulk.test_bulk_load import saint_lambert_row, stored, synthetic

pytestmark = pytest.mark.django_db(transaction=True)


def counted() -> int:
    """The reports the public map's monthly counts of districts hold (their rows per category)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(n), 0) FROM publicmap_district_month WHERE category_id <> %s",
            [EVERY_CATEGORY],
        )
        return cursor.fetchone()[0]


def pipe_tables() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE starts_with(tablename, %s)", [PREFIX])
        return [name for (name,) in cursor.fetchall()]


def rows_with_repeats_and_strays(liege) -> list[BulkRow]:
    """700 reports over a year, in no order of date, with repeated external ids whose first row in
    the file is the later by date, one whose first row is outside the territory, and points in
    Brussels."""
    rows = synthetic(liege, 700, seed=5)
    rows = [replace(row, external_id=f"e{row.row}") for row in rows]
    first, later = rows[10], rows[600]
    assert first.created_at != later.created_at
    early, late = sorted((first.created_at, later.created_at))
    rows[10] = replace(first, created_at=late)  # the first in the file, the later by date: kept
    rows[600] = replace(later, external_id=first.external_id, created_at=early)
    rows[20] = replace(rows[20], lon=4.35, lat=50.85)  # Brussels: outside, so its repeat is kept
    rows[650] = replace(rows[650], external_id=rows[20].external_id)
    for n in (30, 31):
        rows[n] = replace(rows[n], lon=4.35, lat=50.85)
    return rows


def test_a_load_outside_a_transaction_stores_what_one_transaction_stores(liege, settings, caplog):
    settings.SIGNALEMENT_BULK_CHUNK_ROWS = 160  # 14 ranges: 10, 12, 15 … 121 rows, then the 112 latest
    rows = rows_with_repeats_and_strays(liege)

    with caplog.at_level(logging.INFO, logger="signalements.bulk.pipeline"):
        two = signalements_bulk_load(rows, source="two")
    with transaction.atomic():
        one = signalements_bulk_load(rows, source="one")

    assert f"located {len(range_sizes(len(rows), 160))} range(s)" in caplog.text
    assert (two.inserted, two.already_loaded, two.outside) == (one.inserted, one.already_loaded, one.outside)
    assert two.inserted == 700 - 3 - 1 and two.outside == [21, 31, 32]
    assert stored("two") == stored("one")
    assert counted() == Signalement.objects.exclude(district=None).count() > 0
    kept = Signalement.objects.get(source="two", external_id=rows[10].external_id)
    assert kept.created_at == rows[10].created_at, "the first row of the file is kept, not the earliest"
    assert Signalement.objects.filter(source="two", external_id=rows[20].external_id).exists()
    # In the order of their dates, across the ranges, each with its history.
    dates = list(Signalement.objects.filter(source="two").order_by("id").values_list("created_at", flat=True))
    assert dates == sorted(dates)
    assert StatusChange.objects.filter(signalement__source="two").count() == two.inserted
    assert pipe_tables() == []

    again = signalements_bulk_load(rows, source="two")
    assert (again.inserted, again.already_loaded) == (0, two.inserted + 1)


def test_a_failure_reading_the_rows_stores_nothing_and_leaves_no_table(liege, settings):
    settings.SIGNALEMENT_BULK_CHUNK_ROWS = 100
    rows = synthetic(liege, 300)

    def failing():
        yield from rows[:250]
        raise ValueError("row 251: the file is cut short")

    with pytest.raises(ValueError, match="row 251"):
        signalements_bulk_load(failing(), source="cut")
    assert not Signalement.objects.filter(source="cut").exists()
    assert pipe_tables() == []


def test_a_failure_on_the_helper_side_undoes_the_ranges_inserted_and_leaves_no_table(liege, settings):
    """The latest row, in the last range, has no longitude: the helper's COPY of that range fails
    after the loader has inserted the ranges before it."""
    settings.SIGNALEMENT_BULK_CHUNK_ROWS = 100
    rows = synthetic(liege, 300)
    late = max(row.created_at for row in rows)
    rows.append(saint_lambert_row(row=301, created_at=late, lon=None))
    inserts = []

    def seen(execute, sql, params, many, context):
        if "INSERT INTO signalements_signalement" in sql:
            inserts.append(sql)
        return execute(sql, params, many, context)

    with pytest.raises(psycopg.errors.NotNullViolation, match="lon"), connection.execute_wrapper(seen):
        signalements_bulk_load(rows, source="no-lon")
    assert len(inserts) == len(range_sizes(301, 100)) - 1, "the ranges before the last were inserted"
    assert not Signalement.objects.filter(source="no-lon").exists()
    assert counted() == 0, "their counts, appended by the loader, are undone with them"
    assert pipe_tables() == []


def test_a_failure_on_the_loading_side_stores_nothing_and_leaves_no_table(liege, settings):
    """A range the loader cannot insert (here: a report as its own duplicate is refused by a check
    constraint, as an unexpected error would be) undoes the ranges already inserted."""
    settings.SIGNALEMENT_BULK_CHUNK_ROWS = 80
    rows = synthetic(liege, 300)
    late = max(row.created_at for row in rows)
    rows.append(saint_lambert_row(row=301, created_at=late, status="no such status"))

    with pytest.raises(IntegrityError, match="signalement_status_valid"):
        signalements_bulk_load(rows, source="refused")
    assert not Signalement.objects.filter(source="refused").exists()
    assert pipe_tables() == []


def test_the_work_tables_of_a_load_that_died_are_dropped_by_the_next(liege):
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE UNLOGGED TABLE {PREFIX}ready_0 (id bigint)")
    result = signalements_bulk_load(
        [saint_lambert_row(created_at=datetime(2025, 5, 1, tzinfo=UTC))], source="after"
    )
    assert result.inserted == 1
    assert pipe_tables() == []


def test_range_sizes_start_small_and_cover_every_row():
    assert range_sizes(0, 100) == [0]
    assert range_sizes(6, 100) == [6]
    assert range_sizes(10, 100) == [6, 4]
    assert range_sizes(1000, 100) == [6, 7, 8, 10, 12, 15, 18, 22, 27, 33, 41, 51, 63, 78, 97, *[100] * 5, 12]
    for count in (1, 99, 100, 101, 187, 1000, 12345):
        assert sum(range_sizes(count, 100)) == count


def test_a_caller_holding_a_transaction_keeps_the_load_in_it(liege, caplog):
    """In an atomic block, or with autocommit off, the helper could not see what the caller wrote
    before the load, nor would the load be undone with the caller's transaction: one connection."""
    row = saint_lambert_row(created_at=datetime(2025, 5, 2, tzinfo=UTC))
    transaction.set_autocommit(False)
    try:
        with caplog.at_level(logging.INFO, logger="signalements.bulk.pipeline"):
            assert signalements_bulk_load([row], source="held").inserted == 1
        transaction.rollback()
    finally:
        transaction.set_autocommit(True)
    assert "range(s)" not in caplog.text
    assert not Signalement.objects.filter(source="held").exists()
