"""Bulk load: N synthetic reports through signalements_bulk_load, against Django's save() and
bulk_create()."""

from collections import defaultdict
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.gis.geos import Point
from django.db import connection
from django.utils import timezone

from cartography.publicmap.database import INSERT_TRIGGERS
from cartography.selectors import Location, locate
from signalements.bulk import BulkRow, signalements_bulk_load
from signalements.bulk import core as bulk_core
from signalements.bulk.core import (
    INSERT_SQL,
    locate_by_cells_sql,
    locate_by_parts_sql,
    locate_by_rules_where_cells_cannot_sql,
    points_sql,
)
from signalements.deadlines import WorkingCalendar
from signalements.models import Category, Signalement, StatusChange

from .data import YEARS, synthetic_reports, territory_get
from .measure import Figure, Report, Stopwatch, Target, rolled_back, vacuum_analyze

SOURCE = "bench"
TARGET_ROWS_PER_S = 50_000
TARGET_VS_SAVE = 50
TARGET_VS_BULK = 5
BULK_CREATE_BATCH = 2000
# auto_explain settings for the profile: every statement the loader runs, with its real row counts and times,
# and the time of the foreign-key triggers.
AUTO_EXPLAIN = {
    "log_min_duration": "0",
    "log_analyze": "on",
    "log_buffers": "on",
    "log_timing": "on",
    "log_triggers": "on",
    "log_nested_statements": "off",
    "log_level": "notice",
}
# What the table itself costs: the rows just loaded, already located, inserted again in date order
# into an empty copy of the table with all its indexes, defaults and generated columns (no foreign
# keys, no history, no COPY): a bound for any loader into this table as it is.
FLOOR_COLUMNS = (
    "category_id, location, address, territory_id, district_id, team_id, team_is_manual, status, priority, "
    "channel, description, source, external_id, created_at, updated_at, processed_at, deadline_at"
)
FLOOR_SQL = (
    "CREATE TABLE bench_floor (LIKE signalements_signalement INCLUDING ALL)",
    f"INSERT INTO bench_floor ({FLOOR_COLUMNS}) "
    f"SELECT {FLOOR_COLUMNS} FROM signalements_signalement ORDER BY id",
)
_LOADED = {"located": "signalement_located", "staging": "signalement_staging"}
INSERTS = INSERT_SQL.lstrip().split("(", 1)[0]  # "WITH inserted AS"
PROFILED_STATEMENTS = {
    "locate: cells probed per point, in parallel (CREATE UNLOGGED TABLE … AS)": (
        locate_by_cells_sql(**_LOADED),
    ),
    "locate: the rules where the cells cannot say (edges, unknown categories)": (
        locate_by_rules_where_cells_cannot_sql("signalement_located"),
    ),
    "locate if the cells are stale: points, their index, the parts joined to them": (
        *points_sql("signalement_points", "signalement_staging"),
        locate_by_parts_sql(points="signalement_points", **_LOADED),
    ),
    "INSERT … SELECT (report + history)": (INSERT_SQL,),
}


class StatementTimes:
    """A `connection.execute_wrapper` adding up the time spent in each SQL statement."""

    def __init__(self) -> None:
        self.seconds: defaultdict[str, float] = defaultdict(float)

    def __call__(self, execute: Callable, sql: str, params: Any, many: bool, context: dict) -> Any:
        with Stopwatch() as watch:
            result = execute(sql, params, many, context)
        self.seconds[sql] += watch.seconds
        return result


@dataclass(frozen=True)
class LoadRun:
    inserted: int
    outside: int
    seconds: float  # from the first row to the commit
    steps: dict[str, float]


def bulk_load_timed(rows: list[BulkRow]) -> LoadRun:
    """Load and commit `rows` as the import command does, outside a transaction: on two connections
    (signalements.bulk.pipeline). Only the loading connection's statements are seen here; the
    rest of its time it waits for the helper's ranges, or commits."""
    times = StatementTimes()
    with Stopwatch() as total, connection.execute_wrapper(times):
        result = signalements_bulk_load(rows, source=SOURCE)
    inserts = sum(seconds for sql, seconds in times.seconds.items() if sql.lstrip().startswith(INSERTS))
    others = sum(times.seconds.values()) - inserts
    steps = {
        "loading connection: INSERT … SELECT of each date range (report + history)": inserts,
        "loading connection: other statements (locks, foreign keys, map counts, work tables)": others,
        "loading connection: waiting for the helper (COPY, first range located), commit": total.seconds
        - inserts
        - others,
    }
    return LoadRun(result.inserted, len(result.outside), total.seconds, steps)


def bulk_load_plans(rows: list[BulkRow]) -> dict[str, str]:
    """EXPLAIN ANALYZE of the loader's two set-based statements (auto_explain), rolled back.

    Foreign keys are checked immediately (see rolled_back): their triggers' time shows in the plan.
    """
    messages: list[str] = []
    connection.ensure_connection()
    pg = connection.connection

    def keep(diagnostic: Any) -> None:
        messages.append(diagnostic.message_primary or "")

    pg.add_notice_handler(keep)
    try:
        with rolled_back():
            with connection.cursor() as cursor:
                cursor.execute("LOAD 'auto_explain'")
                for name, value in AUTO_EXPLAIN.items():
                    cursor.execute(f"SET LOCAL auto_explain.{name} = '{value}'")
            signalements_bulk_load(rows, source=SOURCE)
    finally:
        pg.remove_notice_handler(keep)
    plans = {}
    for name, (sql, *_) in PROFILED_STATEMENTS.items():
        opening = sql.strip().splitlines()[0]
        for message in messages:
            if opening in message:
                # "duration: … ms  plan:", "Query Text: …" (the SQL, parameters inlined), then the plan.
                lines = message.splitlines()
                start = next(i for i, line in enumerate(lines) if "(cost=" in line)
                plans[name] = "\n".join([lines[0].removesuffix("plan:").strip(), *lines[start:]])
    return plans


def deadlines(rows: list[BulkRow]) -> list[datetime]:
    """Each report's deadline, computed as the bulk loader does."""
    calendar = WorkingCalendar()
    working_days = dict(Category.objects.values_list("id", "deadline_days"))
    return [calendar.deadline(row.created_at, working_days[row.category_id]) for row in rows]


def signalement_of(row: BulkRow, where: Location, deadline_at: datetime) -> Signalement:
    """The report the bulk loader would store, with its location already known."""
    return Signalement(
        category_id=row.category_id,
        location=Point(row.lon, row.lat, srid=4326),
        territory_id=where.territory_id,
        district_id=where.district_id,
        team_id=where.team_id,
        status=row.status,
        priority=row.priority,
        channel=row.channel,
        address=row.address,
        description=row.description,
        source=SOURCE,
        created_at=row.created_at,
        updated_at=row.created_at,
        processed_at=timezone.now(),
        deadline_at=deadline_at,
    )


def history_of(signalement: Signalement, row: BulkRow) -> StatusChange:
    """The history row the bulk loader writes: the report arrived in its current status."""
    return StatusChange(
        signalement=signalement, from_status="", to_status=row.status, created_at=row.created_at
    )


def save_loop(sample: list[tuple[BulkRow, Location]], *, counted: bool = True) -> float:
    with rolled_back(), counts_kept(counted), Stopwatch() as watch:
        due = deadlines([row for row, _ in sample])
        for (row, where), deadline_at in zip(sample, due, strict=True):
            signalement = signalement_of(row, where, deadline_at)
            signalement.save()
            history_of(signalement, row).save()
    return watch.seconds


def bulk_create(sample: list[tuple[BulkRow, Location]], *, counted: bool = True) -> float:
    with rolled_back(), counts_kept(counted), Stopwatch() as watch:
        due = deadlines([row for row, _ in sample])
        signalements = Signalement.objects.bulk_create(
            [signalement_of(row, where, d) for (row, where), d in zip(sample, due, strict=True)],
            batch_size=BULK_CREATE_BATCH,
        )
        StatusChange.objects.bulk_create(
            [
                history_of(signalement, row)
                for signalement, (row, _) in zip(signalements, sample, strict=True)
            ],
            batch_size=BULK_CREATE_BATCH,
        )
    return watch.seconds


def table_floor(*, without_spatial_index: bool = False) -> tuple[int, float]:
    """Rows and seconds of FLOOR_SQL's INSERT, rolled back; without the GiST index over every
    report's metric point (signalement_loc_metric_gist), to show its share of the table's cost."""
    create, insert = FLOOR_SQL
    with rolled_back(), connection.cursor() as cursor:
        cursor.execute(create)
        if without_spatial_index:
            cursor.execute(
                "SELECT indexname FROM pg_indexes WHERE tablename = 'bench_floor'"
                " AND indexdef LIKE '%USING gist (location_metric)'"
            )
            (index,) = cursor.fetchall()
            cursor.execute(f"DROP INDEX {index[0]}")
        with Stopwatch() as watch:
            cursor.execute(insert)
        rows = cursor.rowcount
    return rows, watch.seconds


@contextmanager
def counts_kept(counted: bool):
    """Unless `counted`, without the public map's counts, inside the current transaction: their
    insert triggers disabled and the loader's own appends skipped, as every side was before them."""
    if counted:
        yield
        return
    appends = bulk_core.counts_append
    with connection.cursor() as cursor:
        for trigger in INSERT_TRIGGERS:
            cursor.execute(f"ALTER TABLE signalements_signalement DISABLE TRIGGER {trigger}")
    bulk_core.counts_append = lambda cursor, counts: None
    try:
        yield
    finally:
        bulk_core.counts_append = appends


def bulk_load_rolled_back(rows: list[BulkRow], *, counted: bool = True) -> float:
    """The load in one rolled-back transaction; without `counted`, without the public map's counts
    (counts_kept): the loader as it was before the counts, to tell their cost from the rest."""
    with rolled_back(), counts_kept(counted), Stopwatch() as watch:
        signalements_bulk_load(rows, source=SOURCE)
    return watch.seconds


def sample_ratios(
    size: str, rows: int, loader_s: float, save_s: float, bulk_create_s: float, *, without: bool = False
) -> list[Figure]:
    """The loader against the save() loop and bulk_create() on the same rows, rolled back; `without`
    the public map's counts on all sides."""
    prefix, suffix = ("without the map's counts: ", " without them") if without else ("", "")
    return [
        Figure(
            f"{prefix}bulk loader vs {name}, same {size}, rolled back",
            rows / loader_s,
            "rows/s",
            baseline=f"{baseline}{suffix}, {size}",
            baseline_value=rows / seconds,
            target=Target(target, on_ratio=True),
        )
        for name, baseline, seconds, target in (
            ("save() loop", "Signalement.save() loop", save_s, TARGET_VS_SAVE),
            ("bulk_create()", f"bulk_create(batch_size={BULK_CREATE_BATCH})", bulk_create_s, TARGET_VS_BULK),
        )
    ]


@dataclass(frozen=True)
class Fill:
    reports: list[BulkRow]
    load: LoadRun
    generation_s: float
    vacuum_s: float


def fill(rows: int) -> Fill:
    """Generate and load `rows` reports, then VACUUM ANALYZE so that the planner knows the table."""
    with Stopwatch() as generation:
        reports = synthetic_reports(territory_get(), rows)
    load = bulk_load_timed(reports)
    return Fill(reports, load, generation.seconds, vacuum_analyze())


def run(rows: int, *, sample_size: int) -> Report:
    filled = fill(rows)
    load, generation_s, vacuum_s = filled.load, filled.generation_s, filled.vacuum_s
    rate = load.inserted / load.seconds
    sample_rows = filled.reports[:sample_size]
    sample = [(row, locate(lon=row.lon, lat=row.lat, category_id=row.category_id)) for row in sample_rows]
    sample_s = bulk_load_rolled_back(sample_rows)
    uncounted_s = bulk_load_rolled_back(sample_rows, counted=False)
    save_s = save_loop(sample)
    bulk_create_s = bulk_create(sample)
    uncounted_save_s = save_loop(sample, counted=False)
    uncounted_bulk_create_s = bulk_create(sample, counted=False)
    floor_rows, floor_s = table_floor()
    _, no_gist_s = table_floor(without_spatial_index=True)
    plans = bulk_load_plans(sample_rows)

    size = f"{sample_size:,}-row sample"
    report = Report("load")
    report.figures = [
        Figure(
            f"bulk loader, {load.inserted:,} rows, commit included",
            rate,
            "rows/s",
            target=Target(TARGET_ROWS_PER_S),
        ),
        Figure(
            f"floor: the table alone, {floor_rows:,} located rows in date order into an empty copy",
            floor_rows / floor_s,
            "rows/s",
        ),
        Figure(
            "floor without the GiST index over every report's point (the table's costliest part)",
            floor_rows / no_gist_s,
            "rows/s",
        ),
        # The ratios compare like with like: the same rows, in one rolled-back transaction on one
        # connection, on both sides (the full load above is committed, on two connections).
        *sample_ratios(size, sample_size, sample_s, save_s, bulk_create_s),
        Figure(
            f"bulk loader without the public map's counts, same {size}, rolled back",
            sample_size / uncounted_s,
            "rows/s",
            baseline=f"bulk loader with them, {size}",
            baseline_value=sample_size / sample_s,
        ),
        # The same with the public map's counts off on every side: the code as it compares with its
        # state before the counts (a fixed cost per row added to both sides of a ratio lowers it
        # the more, the faster the side).
        *sample_ratios(
            size, sample_size, uncounted_s, uncounted_save_s, uncounted_bulk_create_s, without=True
        ),
    ]
    report.details = {
        "rows_inserted": load.inserted,
        "rows_outside": load.outside,
        "generation_s": generation_s,
        "load_s": load.seconds,
        "vacuum_analyze_s": vacuum_s,
        "steps_s": load.steps,
        "sample_size": sample_size,
        "sample_s": {
            "bulk_loader": sample_s,
            "bulk_loader_without_counts": uncounted_s,
            "save_loop": save_s,
            "bulk_create": bulk_create_s,
            "save_loop_without_counts": uncounted_save_s,
            "bulk_create_without_counts": uncounted_bulk_create_s,
            "table_floor": floor_s,
            "table_floor_without_spatial_index": no_gist_s,
        },
        "sample_plans": plans,
    }
    report.notes = [
        f"{load.inserted:,} reports over {YEARS} years generated in {generation_s:.1f} s (not timed), "
        f"then VACUUM ANALYZE in {vacuum_s:.1f} s.",
        "The load runs as the import command runs it, outside a transaction: a helper connection "
        "stages and locates the rows, a date range at a time, while the loading connection inserts "
        f"the ranges already located ({settings.SIGNALEMENT_BULK_CHUNK_ROWS:,} rows each). The "
        "rolled-back sample runs inside a transaction, on one connection.",
        "Baselines get territory, district and team precomputed (they do not locate), compute the same "
        "deadlines, write the same history row, and run in one rolled-back transaction: foreign keys "
        "checked as a commit would, but no commit per row (their kindest case).",
        "Floor: what the table alone costs per row (its indexes, generated columns, defaults), without "
        "locate, history, foreign keys or COPY: a bound for any loader into this table as it is.",
        f"Of the floor's {floor_s / floor_rows * 1e6:.1f} µs per row, the GiST index over every report's "
        f"point takes {(floor_s - no_gist_s) / floor_rows * 1e6:.1f} µs: the API's bounding-box filter, over "
        "closed reports as well as open ones, reads it.",
    ]
    if load.outside:
        report.notes.append(
            f"{load.outside} generated points fell outside the territory and were not loaded."
        )
    return report
