"""Bulk loading on two connections: while the loading connection inserts one date range of the
rows, in its single transaction, a helper connection locates the next range.

PostgreSQL writes a table from one backend at a time, and the INSERT is four fifths of a load: on
one connection the other core idles through it, and waits through the staging and locating before
it. Here the rows are sorted by date in Python and cut into ranges of about
SIGNALEMENT_BULK_CHUNK_ROWS, the first ones smaller. For each range the helper stages the rows
(COPY), locates them (bulk.core.locate_rows), drops those already stored or repeated in
the file, computes their deadlines and writes them, in the order of their dates, to a work table
it commits; with the loader's row triggers off, it computes the range's changes of the public map's
counts too, which the loader appends after the range's INSERT. The loading connection inserts each
range as soon as it is ready: it waits for the first small range only, not for the whole file to
be staged. Only the loading connection writes reports, so the load is still all or nothing; the
helper's work tables are unlogged and dropped once the load ends.

Used when the load is not inside a transaction already: the helper could not see what that
transaction wrote (categories, zones…), and the caller expects the load to be part of it.
"""

import logging
import queue
import threading
from collections import Counter
from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import dataclass
from operator import attrgetter
from time import perf_counter

import psycopg
from django.conf import settings
from django.db import connection, connections, transaction
from django.utils import timezone

from cartography.models import Territory
from cartography.publicmap.database import COUNTED, counts_sql
from cartography.selectors import local_settings

from .core import (
    LOAD_LOCK_SQL,
    REFERENCES,
    SET_BASED_CHECKS_SQL,
    BulkResult,
    BulkRow,
    calendars_of,
    counts_append,
    deadline_keys,
    deadlined_rows_sql,
    deadlines_ddl,
    deadlines_write,
    insert_sql,
    loaded_rows_sql,
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
    counts: dict[str, str]  # per table of the public map's counts, the query of the range's changes


class Helper(threading.Thread):
    """The helper connection's work, in its own thread. Ranges are handed over through `ranges`,
    then None; an error is handed over instead, and raised by next()."""

    def __init__(
        self,
        rows: list[BulkRow],
        *,
        repeated: list[BulkRow],
        source: str,
        params: dict,
        calendars: dict,
        chunk_rows: int,
        counted: bool,
    ):
        super().__init__(name="bulk-load-helper", daemon=True)
        self.rows, self.repeated = rows, repeated
        self.source, self.params, self.calendars = source, params, calendars
        self.chunk_rows = chunk_rows
        self.counted = counted  # the loader inserts with the row triggers off: the counts are ours
        self.tz = timezone.get_current_timezone()
        self.ranges: queue.Queue = queue.Queue()
        self.stopping = threading.Event()
        self.deadline_keys: set = set()
        self.staged_s = 0.0  # the repeated external ids' rows staged and located, before the first range
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
                self.repeats_stage(cursor)
                self.staged_s = perf_counter() - started
                cursor.execute(deadlines_ddl(DEADLINES))
                low = 0
                for number, size in enumerate(range_sizes(len(self.rows), self.chunk_rows)):
                    if self.stopping.is_set():
                        return
                    started = perf_counter()
                    ready = self.prepare(cursor, number, self.rows[low : low + size])
                    low += size
                    self.range_s.append(perf_counter() - started)
                    self.ranges.put(ready)
            self.ranges.put(None)
        except BaseException as error:  # handed to the loading thread, which raises it
            self.ranges.put(error)
        finally:
            connections.close_all()  # this thread's own, if the rows were read through the ORM

    def repeats_stage(self, cursor) -> None:
        """The source rows (row_no) not to load because an earlier row of the file has their
        external id, into REPEATS: the rows whose external id repeats are staged and located first,
        all ranges together, and the first located row of each id is kept (as the one-connection
        load does)."""
        if not self.repeated:
            cursor.execute(f"CREATE UNLOGGED TABLE {REPEATS} (row_no integer, external_id text)")
            return
        staging = f"{PREFIX}staging_repeated"
        cursor.execute(staging_ddl(staging))
        staging_copy(cursor, staging, self.repeated)
        with pg_transaction(cursor):
            locate_rows(cursor, located=REPEATED, staging=staging, points=f"{PREFIX}points_repeated")
        repeats = repeats_in_file_sql(REPEATED, column="row_no, external_id")
        cursor.execute(f"CREATE UNLOGGED TABLE {REPEATS} AS {repeats}")
        cursor.execute(f"DROP TABLE {staging}, {REPEATED}")

    def prepare(self, cursor, number: int, rows: list[BulkRow]) -> Range:
        staging, located, ready = (f"{PREFIX}{name}_{number}" for name in ("staging", "located", "ready"))
        cursor.execute(staging_ddl(staging))
        staging_copy(cursor, staging, rows)
        with pg_transaction(cursor):
            locate_rows(cursor, located=located, staging=staging, points=f"{PREFIX}points_{number}")
        already_loaded, outside = unloadable_drop(
            cursor,
            located,
            repeats=f"SELECT l.id FROM {located} l JOIN {REPEATS} r USING (row_no, external_id)",
            source=self.source,
        )
        keys = deadline_keys(cursor, located, self.tz) - self.deadline_keys
        if keys:
            deadlines_write(cursor, DEADLINES, keys, self.calendars, self.tz)
            self.deadline_keys |= keys
            cursor.execute(f"ANALYZE {DEADLINES}")
        cursor.execute(
            f"CREATE UNLOGGED TABLE {ready} AS {deadlined_rows_sql(located, DEADLINES)}", {"tz": self.tz.key}
        )
        cursor.execute(f"DROP TABLE {located}, {staging}")
        counts = {}
        if self.counted:  # computed here, on the other core, while the loader inserts
            loaded = loaded_rows_sql(ready)
            for index, table in enumerate(COUNTED):
                counts[table] = f"{PREFIX}counts_{number}_{index}"
                cursor.execute(f"CREATE UNLOGGED TABLE {counts[table]} AS {counts_sql(table, (loaded, 1))}")
        return Range(
            ready,
            outside,
            already_loaded,
            referenced_keys(cursor, ready),
            {table: f"SELECT * FROM {work}" for table, work in counts.items()},
        )


def range_sizes(count: int, chunk_rows: int) -> list[int]:
    """How many rows each range takes: chunk_rows / 16 first, so that the loader soon starts, then a
    quarter more each time up to chunk_rows, the rest last. The helper prepares a range in about
    three quarters of the time the loader takes to insert one (1M reports: 15 s against 20 s), so
    it stays a range ahead while the ranges grow; doubling them, it fell behind by 1 s in all."""
    sizes, left, size = [], count, max(chunk_rows // 16, 1)
    while left > size:
        sizes.append(size)
        left -= size
        size = min(chunk_rows, max(size * 5 // 4, size + 1))
    return [*sizes, left]


def pg_transaction(cursor):
    """One snapshot for the helper's locating: whether the cells are fresh, and their rows."""
    return cursor.connection.transaction()


def signalements_bulk_load_pipelined(rows: Iterable[BulkRow], *, source: str) -> BulkResult:
    """signalements.bulk.signalements_bulk_load, on two connections (see the module)."""
    rows = list(rows)
    counts = Counter(row.external_id for row in rows if row.external_id is not None)
    repeated = [row for row in rows if row.external_id is not None and counts[row.external_id] > 1]
    # In the order of insertion: the ranges are slices of it (a tie keeps the order of the file).
    # Passes over the rows go first: sorted, they are read from all over memory (10x slower).
    rows.sort(key=attrgetter("created_at"))
    # Before the helper starts: loads take turns, and the work tables of one that died go first,
    # committed, else the helper would wait for this transaction to create them again.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(LOAD_LOCK_SQL)
        pipe_tables_drop(cursor)
    calendars = calendars_of(Territory.objects.values_list("pk", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(SET_BASED_CHECKS_SQL)
        set_based = settings.SIGNALEMENT_BULK_SET_BASED_CHECKS and cursor.fetchone()[0]
    helper = Helper(
        rows,
        repeated=repeated,
        source=source,
        params=connection.get_connection_params(),
        calendars=calendars,
        chunk_rows=settings.SIGNALEMENT_BULK_CHUNK_ROWS,
        counted=set_based,
    )
    result = BulkResult()
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(LOAD_LOCK_SQL)
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
                    if set_based:
                        counts_append(cursor, ready.counts)
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
        "bulk load %s: %d inserted; helper located the repeated external ids in %.2f s, staged and"
        " located %d range(s) in %.2f s;"
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
