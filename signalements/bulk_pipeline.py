"""Bulk loading on two connections: while the loading connection inserts one date range of the
rows, in its single transaction, a helper connection locates the next range.

PostgreSQL writes a table from one backend at a time, and the INSERT is four fifths of a load: on
one connection the other core idles through it, and waits through the staging and locating before
it. Here the helper stages the rows (COPY), then splits them by date into ranges of about
SIGNALEMENT_BULK_CHUNK_ROWS. For each range it locates the rows (signalements.bulk.locate_rows),
drops those already stored or repeated in the file, computes their deadlines and writes them, in
the order of their dates, to a work table it commits. The loading connection inserts each range
as soon as it is ready. Only the loading connection writes reports, so the load is still all or
nothing; the helper's work tables are unlogged and dropped once the load ends.

Used when the load is not inside a transaction already: the helper could not see what that
transaction wrote (categories, zones…), and the caller expects the load to be part of it.
"""

import logging
import queue
import threading
from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import dataclass
from time import perf_counter

import psycopg
from django.conf import settings
from django.db import connection, connections, transaction
from django.utils import timezone

from cartography.models import Territory
from cartography.selectors import local_settings

from .bulk import (
    LOAD_LOCK_SQL,
    REFERENCES,
    SET_BASED_CHECKS_SQL,
    BulkResult,
    BulkRow,
    calendars_of,
    deadline_keys,
    deadlined_rows_sql,
    deadlines_ddl,
    deadlines_write,
    insert_sql,
    locate_rows,
    referenced_keys,
    referenced_rows_lock,
    repeats_in_file_sql,
    staging_copy,
    staging_ddl,
    unloadable_drop,
)

logger = logging.getLogger(__name__)

PREFIX = "signalement_pipe_"
STAGING = f"{PREFIX}staging"
DEADLINES = f"{PREFIX}deadlines"
REPEATED = f"{PREFIX}repeated"  # the rows whose external id the file holds more than once, located
REPEATS = f"{PREFIX}repeats"  # those of them an earlier row of the file has already: not loaded
# The helper's settings. No parallel workers: the two cores are the loader's and the helper's.
HELPER_SETTINGS = {
    "work_mem": "256MB",
    "jit": "off",
    "max_parallel_workers_per_gather": "0",
    "TimeZone": "UTC",
}


def pipeline_usable() -> bool:
    """Whether the caller holds no transaction open: neither an atomic block nor autocommit off."""
    return (
        settings.SIGNALEMENT_BULK_PIPELINE and not connection.in_atomic_block and connection.get_autocommit()
    )


def pipe_tables_drop(cursor) -> None:
    """Drop the helper's work tables, those of a load that died included. Under LOAD_LOCK_SQL."""
    cursor.execute(
        "SELECT string_agg(quote_ident(tablename), ', ') FROM pg_tables"
        " WHERE schemaname = current_schema() AND starts_with(tablename, %s)",
        [PREFIX],
    )
    (names,) = cursor.fetchone()
    if names:
        cursor.execute(f"DROP TABLE IF EXISTS {names}")


@dataclass(frozen=True)
class Range:
    """One date range of the rows, located and ready to insert."""

    ready: str  # its work table
    outside: list[int]
    already_loaded: int
    keys: dict[str, set[int]]


class Helper(threading.Thread):
    """The helper connection's work, in its own thread. Ranges are handed over through `ranges`,
    then None; an error is handed over instead, and raised by next()."""

    def __init__(
        self, rows: Iterable[BulkRow], *, source: str, params: dict, calendars: dict, chunk_rows: int
    ):
        super().__init__(name="bulk-load-helper", daemon=True)
        self.rows, self.source, self.params, self.calendars = rows, source, params, calendars
        self.chunk_rows = chunk_rows
        self.tz = timezone.get_current_timezone()
        self.ranges: queue.Queue = queue.Queue()
        self.stopping = threading.Event()
        self.deadline_keys: set = set()
        self.staged_s = 0.0  # COPY and the repeats' locating, before the first range
        self.range_s: list[float] = []  # the helper's time on each range

    def next(self) -> Range | None:
        item = self.ranges.get()
        if isinstance(item, BaseException):
            raise item
        return item

    def stop(self) -> None:
        self.stopping.set()
        self.join()

    def run(self) -> None:
        try:
            with psycopg.connect(**self.params, autocommit=True) as pg, pg.cursor() as cursor:
                pg.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ  # for pg_transaction()
                for name, value in HELPER_SETTINGS.items():
                    cursor.execute("SELECT set_config(%s, %s, false)", [name, value])
                started = perf_counter()
                count = self.stage(cursor)
                self.staged_s = perf_counter() - started
                cursor.execute(deadlines_ddl(DEADLINES))
                for number, where in enumerate(self.date_ranges(cursor, count)):
                    if self.stopping.is_set():
                        return
                    started = perf_counter()
                    ready = self.prepare(cursor, number, where)
                    self.range_s.append(perf_counter() - started)
                    self.ranges.put(ready)
            self.ranges.put(None)
        except BaseException as error:  # handed to the loading thread, which raises it
            self.ranges.put(error)
        finally:
            connections.close_all()  # this thread's own, if the rows were read through the ORM

    def stage(self, cursor) -> int:
        """COPY the rows into the staging table; locate the rows whose external id repeats, and
        keep the first located row of each (as the one-connection load does)."""
        cursor.execute(staging_ddl(STAGING))
        count = staging_copy(cursor, STAGING, self.rows)
        repeated = (
            f"st.external_id IN (SELECT external_id FROM {STAGING}"
            " WHERE external_id IS NOT NULL GROUP BY external_id HAVING count(*) > 1)"
        )
        with pg_transaction(cursor):
            locate_rows(
                cursor, located=REPEATED, staging=STAGING, points=f"{PREFIX}points_repeated", where=repeated
            )
        cursor.execute(f"CREATE UNLOGGED TABLE {REPEATS} AS {repeats_in_file_sql(REPEATED)}")
        return count

    def date_ranges(self, cursor, count: int) -> list[str]:
        """Conditions on the staged rows (alias st) cutting them into ranges of dates, in the order
        of the dates, the rows of one instant in one range. The first ranges are smaller (an eighth
        of chunk_rows, a quarter, a half), so that the loader waits less for the first."""
        sizes = range_sizes(count, self.chunk_rows)
        if len(sizes) == 1:
            return ["true"]
        fractions, done = [], 0
        for size in sizes[:-1]:
            done += size
            fractions.append(done / count)
        cursor.execute(
            f"SELECT percentile_disc(%s::float8[]) WITHIN GROUP (ORDER BY created_at) FROM {STAGING}",
            [fractions],
        )
        # Timestamps read from the database, written back as literals: the ranges are SQL text.
        cuts = [f"'{cut.isoformat()}'::timestamptz" for cut in sorted(set(cursor.fetchone()[0]))]
        bounds = [None, *cuts, None]
        return [
            " AND ".join(
                [
                    *([f"st.created_at >= {low}"] if low else []),
                    *([f"st.created_at < {high}"] if high else []),
                ]
            )
            or "true"
            for low, high in zip(bounds, bounds[1:], strict=False)
        ]

    def prepare(self, cursor, number: int, where: str) -> Range:
        located, ready = f"{PREFIX}located_{number}", f"{PREFIX}ready_{number}"
        with pg_transaction(cursor):
            locate_rows(
                cursor, located=located, staging=STAGING, points=f"{PREFIX}points_{number}", where=where
            )
        already_loaded, outside = unloadable_drop(
            cursor, located, repeats=f"SELECT id FROM {REPEATS}", source=self.source
        )
        keys = deadline_keys(cursor, located, self.tz) - self.deadline_keys
        if keys:
            deadlines_write(cursor, DEADLINES, keys, self.calendars, self.tz)
            self.deadline_keys |= keys
            cursor.execute(f"ANALYZE {DEADLINES}")
        cursor.execute(
            f"CREATE UNLOGGED TABLE {ready} AS {deadlined_rows_sql(located, DEADLINES)}", {"tz": self.tz.key}
        )
        cursor.execute(f"DROP TABLE {located}")
        return Range(ready, outside, already_loaded, referenced_keys(cursor, ready))


def range_sizes(count: int, chunk_rows: int) -> list[int]:
    """How many rows each range takes: chunk_rows / 8, / 4, / 2, then chunk_rows, the rest last."""
    sizes, left = [], count
    for size in (chunk_rows // 8, chunk_rows // 4, chunk_rows // 2):
        if left > size > 0:
            sizes.append(size)
            left -= size
    while left > chunk_rows:
        sizes.append(chunk_rows)
        left -= chunk_rows
    return [*sizes, left]


def pg_transaction(cursor):
    """One snapshot for the helper's locating: whether the cells are fresh, and their rows."""
    return cursor.connection.transaction()


def signalements_bulk_load_pipelined(rows: Iterable[BulkRow], *, source: str) -> BulkResult:
    """signalements.bulk.signalements_bulk_load, on two connections (see the module)."""
    # Before the helper starts: loads take turns, and the work tables of one that died go first,
    # committed, else the helper would wait for this transaction to create them again.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(LOAD_LOCK_SQL)
        pipe_tables_drop(cursor)
    calendars = calendars_of(Territory.objects.values_list("pk", flat=True))
    helper = Helper(
        rows,
        source=source,
        params=connection.get_connection_params(),
        calendars=calendars,
        chunk_rows=settings.SIGNALEMENT_BULK_CHUNK_ROWS,
    )
    result = BulkResult()
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(LOAD_LOCK_SQL)
            cursor.execute(SET_BASED_CHECKS_SQL)
            set_based = settings.SIGNALEMENT_BULK_SET_BASED_CHECKS and cursor.fetchone()[0]
            row_triggers = (
                local_settings(cursor, {"session_replication_role": "replica"})
                if set_based
                else nullcontext()
            )
            locked = {column: set() for column, _ in REFERENCES}
            waited: list[float] = []  # before each range, for the log
            helper.start()
            # The ranges are read in the order the helper wrote them, that of their dates (and of
            # their tokens' time prefix): a scan from the first page, without a sort.
            inserting = {"work_mem": "256MB", "jit": "off", "synchronize_seqscans": "off"}
            with local_settings(cursor, inserting), row_triggers:
                while True:
                    started = perf_counter()
                    ready = helper.next()
                    waited.append(perf_counter() - started)
                    if ready is None:
                        break
                    if set_based:
                        new = {column: ready.keys[column] - locked[column] for column in locked}
                        referenced_rows_lock(cursor, ready.ready, new)
                        for column in locked:
                            locked[column] |= new[column]
                    cursor.execute(
                        insert_sql(f"SELECT * FROM {ready.ready}"),
                        {"source": source},
                    )
                    result.inserted += cursor.fetchone()[0]
                    result.outside += ready.outside
                    result.already_loaded += ready.already_loaded
    finally:
        if helper.is_alive():
            helper.stop()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(LOAD_LOCK_SQL)
            pipe_tables_drop(cursor)
    result.outside.sort()
    logger.info(
        "bulk load %s: %d inserted; helper staged the rows in %.2f s, located %d range(s) in %.2f s;"
        " the loader waited %.2f s for the first range, %.2f s for the others",
        source,
        result.inserted,
        helper.staged_s,
        len(helper.range_s),
        sum(helper.range_s),
        waited[0],
        sum(waited[1:]),
    )
    return result
