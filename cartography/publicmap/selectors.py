"""The public map's reads, in SQL: vector tiles (ST_AsMVT), counts per district, the list.

What the public may see is decided by signalements: sensitive categories (`Category.is_sensitive`,
resolved to `MapFilters.public_category_ids`) are only counted per district, never drawn as points
or cells; the points carry a reference, a category, a stage and an age, never a person's data."""

import hashlib
import time
from datetime import date, datetime, timedelta

import psycopg
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from signalements.models import Signalement
from signalements.selectors import signalements_public

from .filters import STAGE_IN_PROGRESS, STAGE_OPEN, STAGE_RESOLVED, STAGES, MapFilters

# Zoom levels: below CELLS_FROM the map shows districts coloured by their count; from CELLS_FROM
# cells of a grid with their count; from POINTS_FROM the reports themselves.
CELLS_FROM = 13
POINTS_FROM = 16
MAX_ZOOM = 22
EXTENT = 4096
BUFFER = 64
CELLS_PER_TILE = 8  # 8 × 8 cells of 32 px on a 256 px tile: counts never overlap
WORLD = 20037508.342789244  # half the width of the Web Mercator square, in metres
# "Resolved in the last N days" reads its first, partial month from the tables of counts per day
# (cartography.publicmap.database) when it starts within the last DAYS_COUNTED days, from the
# reports otherwise (False: always from the reports; the benchmark compares).
DAYS_COUNTED = 92
COUNTED_DAYS = True

# The tables whose rows a tile shows. Their counters of written rows (pg_stat) make the freshness
# token: a change to any report changes it, at the cost of one read of the statistics.
WATCHED_TABLES = ("signalements_signalement", "signalements_category", "cartography_district")
# The districts' tables of counts also count each key over every category, under this category
# id (none has it; migration 0020 indexes those rows apart): the map's default view, and any view
# of every category, adds up a few hundred of them rather than thousands of rows per category
# (FINDINGS.md, public map).
EVERY_CATEGORY = 0
# The settings of the map's reads, local to their transaction, in one statement. PostGIS's functions
# are costed high: the planner would JIT-compile a tile's query, 400 ms of compiling for a query
# that runs in a few. The counts are a few thousand rows: parallel workers cost more to start than
# they save (FINDINGS.md, public map).
LOCAL_SETTINGS = (
    "SELECT set_config('jit', 'off', true), set_config('max_parallel_workers_per_gather', '0', true)"
)
# A low-zoom tile of every category (the default view) runs prepared, with a generic plan, planned
# once per connection: its planning was half of its query. Generic, its counts are read through the
# partial indexes of the rows of every category, whatever the statuses (a generic plan over the
# rows per category read the whole table: `status = ANY($1)` is unknown). PostgreSQL's automatic
# mode kept planning it at each call (FINDINGS.md, public map). False: planned at each call.
GENERIC_LOW_ZOOMS = True
GENERIC_PLAN = ", set_config('plan_cache_mode', 'force_generic_plan', true)"


def freshness_token() -> str:
    """A value that changes when a report, a category or a district changes: the PostgreSQL
    statistics' counts of rows written to those tables, those of the current transaction included.
    Kept PUBLIC_MAP_FRESHNESS_SECONDS in the cache, so a cached tile costs no query at all; and
    changed every PUBLIC_MAP_MAX_AGE_HOURS anyway, should the statistics be switched off or reset."""
    seconds = settings.PUBLIC_MAP_FRESHNESS_SECONDS
    key = "publicmap:freshness"
    if seconds and (token := cache.get(key)) is not None:
        return token
    with connection.cursor() as cursor:
        # The functions behind pg_stat_user_tables (n_tup_*) and pg_stat_xact_user_tables, called
        # for the three tables only: the views compute them for every table, then filter (1 ms
        # against 0.1 ms, a tenth of an uncached tile).
        cursor.execute(
            """
            SELECT coalesce(sum(pg_stat_get_tuples_inserted(t) + pg_stat_get_tuples_updated(t)
                                + pg_stat_get_tuples_deleted(t) + pg_stat_get_xact_tuples_inserted(t)
                                + pg_stat_get_xact_tuples_updated(t) + pg_stat_get_xact_tuples_deleted(t)), 0)
              FROM unnest(%(t)s::regclass[]) AS t
            """,
            {"t": list(WATCHED_TABLES)},
        )
        written = cursor.fetchone()[0]
    epoch = int(time.time() // (settings.PUBLIC_MAP_MAX_AGE_HOURS * 3600))
    token = f"{written}-{epoch}"
    if seconds:
        cache.set(key, token, seconds)
    return token


def _where(filters: MapFilters, *, public: bool, alias: str = "s") -> tuple[str, dict]:
    """The WHERE clause of the filters; `public` leaves out the sensitive categories. Without it,
    the filters of every category have no condition on categories (`categories` None)."""
    categories = filters.public_category_ids if public else filters.category_ids
    params = {
        "categories": None if not public and filters.every_category else list(categories),
        "open_statuses": list(filters.open_statuses) or [""],
        "resolved_statuses": list(filters.resolved_statuses) or [""],
        "resolved_since": filters.resolved_since,
    }
    clauses = [
        "true" if params["categories"] is None else _category(alias, params),
        f"({alias}.status = ANY(%(open_statuses)s) OR ({alias}.status = ANY(%(resolved_statuses)s)"
        f" AND {alias}.updated_at >= %(resolved_since)s))",
    ]
    if filters.created_since is not None:
        clauses.append(f"{alias}.created_at >= %(created_since)s")
        params["created_since"] = filters.created_since
    if filters.district_id is not None:
        clauses.append(f"{alias}.district_id = %(district)s")
        params["district"] = filters.district_id
    return " AND ".join(clauses), params


def _category(table: str, params: dict) -> str:
    """The condition on the categories of a table of counts: with every category (`categories`
    None), its rows of every category (EVERY_CATEGORY, kept by the districts' tables only)."""
    if params["categories"] is None:
        return f"{table}.category_id = {EVERY_CATEGORY}"
    return f"{table}.category_id = ANY(%(categories)s)"


def _district_counts_key(filters: MapFilters, token: str) -> str:
    return "publicmap:districts:" + hashlib.sha1(f"{token}|{filters.key}".encode()).hexdigest()


def _next_month(instant) -> date:
    """The first day of the month after the one of a local instant."""
    day = timezone.localtime(instant).date().replace(day=1)
    return (day + timedelta(days=32)).replace(day=1)


def _month_start(day: date):
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


def _days_counted(filters: MapFilters) -> bool:
    """Whether the tables of counts per day hold the first, partial month of the filters' "resolved
    in the last N days"."""
    first_day = timezone.localtime(filters.resolved_since).date()
    return COUNTED_DAYS and first_day >= timezone.localdate() - timedelta(days=DAYS_COUNTED)


def _partial_months(filters: MapFilters, params: dict, table: str) -> tuple[list[str], list[str]]:
    """What the monthly counts leave out: the reports resolved in the first, partial, month of
    "resolved in the last N days", from the table of counts per day `table` if it holds that month,
    else from the reports; with a period, those created in its first, partial, month, from the
    reports. Returns the conditions on `table` and those on the reports `s` (to be ORed, and ANDed
    with the filters'), each empty when that source is not read; adds their params."""
    resolved_month = _next_month(filters.resolved_since)
    params |= {
        "resolved_day": timezone.localtime(filters.resolved_since).date(),
        "resolved_month": resolved_month,
        "resolved_month_at": _month_start(resolved_month),
    }
    days, reports = [], []
    if _days_counted(filters):
        days = [
            f"{table}.updated_day >= %(resolved_day)s",
            f"{table}.updated_day < %(resolved_month)s",
            f"{table}.status = ANY(%(resolved_statuses)s)",
            _category(table, params),
        ]
    else:
        reports.append(
            "(s.status = ANY(%(resolved_statuses)s) AND s.updated_at >= %(resolved_since)s"
            " AND s.updated_at < %(resolved_month_at)s)"
        )
    if filters.created_since is not None:
        created_month = _next_month(filters.created_since)
        params |= {"created_month": created_month, "created_month_at": _month_start(created_month)}
        if days:
            days.append(f"{table}.created_month >= %(created_month)s")
        reports.append("s.created_at < %(created_month_at)s")
    return days, reports


def _monthly(filters: MapFilters, table: str, params: dict) -> list[str]:
    """The conditions on a table of monthly counts of the filters' whole months, one per part to
    read: the open reports of any month, and those resolved in the months the filters show (most
    rows are of reports resolved long ago: each part reads its own index)."""
    common = _category(table, params)
    if filters.created_since is not None:
        common += f" AND {table}.created_month >= %(created_month)s"
    return [
        f"{table}.status = ANY(%(open_statuses)s) AND {common}",
        f"{table}.status = ANY(%(resolved_statuses)s) AND {table}.updated_month >= %(resolved_month)s"
        f" AND {common}",
    ]


def _district_counts_sql(filters: MapFilters) -> tuple[str, dict]:
    """The query of the reports per district under the filters (columns district_id and n, without
    the districts of none) and its params. The counts of whole months come from
    `publicmap_district_month`, those of the filters' partial months from `publicmap_district_day`
    (both kept exact by triggers, see cartography.publicmap.database) or, for a partial month the
    day counts do not hold, from the reports themselves (through the indexes on `updated_at` and
    `created_at`): exact, and at most a few thousand rows read rather than a million."""
    where, params = _where(filters, public=False)
    days, partial = _partial_months(filters, params, "d")
    months = _monthly(filters, "m", params)
    if filters.district_id is not None:
        months = [f"{month} AND m.district_id = %(district)s" for month in months]
        if days:
            days.append("d.district_id = %(district)s")
    parts = [
        f"SELECT m.district_id, sum(m.n) AS n FROM publicmap_district_month m WHERE {month} GROUP BY 1"
        for month in months
    ]
    if days:
        parts.append(
            "SELECT d.district_id, sum(d.n) FROM publicmap_district_day d"
            f" WHERE {' AND '.join(days)} GROUP BY 1"
        )
    if partial:
        parts.append(
            f"SELECT s.district_id, count(*) FROM signalements_signalement s"
            f" WHERE {where} AND s.district_id IS NOT NULL AND ({' OR '.join(partial)}) GROUP BY 1"
        )
    return (
        f"SELECT district_id, sum(n)::int AS n FROM ({' UNION ALL '.join(parts)}) parts"
        " GROUP BY 1 HAVING sum(n) > 0",
        params,
    )


def tile_valid(z: int, x: int, y: int) -> bool:
    return 0 <= z <= MAX_ZOOM and 0 <= x < 2**z and 0 <= y < 2**z


# The districts of the territories' locating layers: below CELLS_FROM their outlines stored for the
# tile (cartography.publicmap.outlines) with their counts, from CELLS_FROM clipped at the request.
_DISTRICTS_LAYER = """
    SELECT ST_AsMVT(t, 'districts', %(extent)s, 'geom') FROM (
        SELECT {geom} AS geom, d.id, d.name,
               CASE WHEN %(with_counts)s THEN coalesce(c.n, 0) END AS count,
               CASE WHEN %(with_counts)s THEN coalesce(c.share, 0)::real END AS share
          FROM cartography_territory te
          JOIN cartography_district d ON d.territory_id = te.id AND d.layer = te.locating_layer
          {outline}
          LEFT JOIN {{shares}} ON c.id = d.id
         WHERE {where}
    ) t WHERE geom IS NOT NULL
"""
# The districts' counts and shares `c`, given as arrays (counted before the tile's query).
_DISTRICT_SHARES = """unnest(%(district_ids)s::bigint[], %(district_counts)s::int[],
                           %(district_shares)s::real[]) AS c(id, n, share)"""
# Each district of a locating layer looks up its outline of the tile: the tile's stored outlines
# are mostly of the other layers (117 at z11 over Liège, 8 of them districts), and reading them all
# cost more than the rest of the layer (FINDINGS.md, public map).
_DISTRICTS_STORED = _DISTRICTS_LAYER.format(
    geom="o.geom",
    outline="""CROSS JOIN LATERAL (
              SELECT o.geom FROM publicmap_district_outline o
               WHERE o.z = %(z)s AND o.x = %(x)s AND o.y = %(y)s AND o.district_id = d.id OFFSET 0) o""",
    where="true",
)
_DISTRICTS_CLIPPED = _DISTRICTS_LAYER.format(
    geom="""ST_AsMVTGeom(ST_Transform(d.geom, 3857), ST_TileEnvelope(%(z)s, %(x)s, %(y)s),
                         %(extent)s, %(buffer)s, true)""",
    outline="",
    where="d.geom && ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s), 4326)",
)

# The box of the tile in the metric SRID, where the reports' GiST index is.
_TILE_METRIC = f"ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s), {int(settings.METRIC_SRID)})"

_STAGE_SQL = (
    f"CASE WHEN s.status = ANY(%(stage_resolved)s) THEN '{STAGE_RESOLVED}'"
    f" WHEN s.status = ANY(%(stage_in_progress)s) THEN '{STAGE_IN_PROGRESS}' ELSE '{STAGE_OPEN}' END"
)

# The public reports of the tile, read once; drawn as cells or as points below. Two scans, each
# with its index: the open reports through the partial GiST index of open reports (a few percent
# of the table), the resolved ones through the index on `updated_at` when "resolved in the last N
# days" keeps few of them (the planner picks the GiST index of every report when it keeps many).
# One scan with an OR read every report of the tile's box, most of them resolved long ago.
_REPORT_COLUMNS = f"""
    ST_Transform(s.location, 3857) AS p, s.reference AS ref, s.category_id::int AS category,
    {_STAGE_SQL} AS stage,
    greatest(0, floor(extract(epoch FROM now() - s.updated_at) / 86400))::int AS age
"""
_SHOWN = f"""
    shown AS MATERIALIZED (
        SELECT {_REPORT_COLUMNS} FROM signalements_signalement s
         WHERE s.location_metric && {_TILE_METRIC} AND s.status_open
           AND s.status = ANY(%(open_statuses)s) AND {{where}}
        UNION ALL
        SELECT {_REPORT_COLUMNS} FROM signalements_signalement s
         WHERE s.location_metric && {_TILE_METRIC} AND s.status = ANY(%(resolved_statuses)s)
           AND s.updated_at >= %(resolved_since)s AND {{where}}
    )
"""


def _where_common(filters: MapFilters) -> tuple[str, dict]:
    """The filters but the stage: categories (never a sensitive one), period, district."""
    params = {
        "categories": list(filters.public_category_ids),
        "open_statuses": list(filters.open_statuses) or [""],
        "resolved_statuses": list(filters.resolved_statuses) or [""],
        "resolved_since": filters.resolved_since,
    }
    clauses = ["s.category_id = ANY(%(categories)s)"]
    if filters.created_since is not None:
        clauses.append("s.created_at >= %(created_since)s")
        params["created_since"] = filters.created_since
    if filters.district_id is not None:
        clauses.append("s.district_id = %(district)s")
        params["district"] = filters.district_id
    return " AND ".join(clauses), params


_CELL_XY = (
    f"floor((ST_X(p) + {WORLD}) / %(cell)s)::int AS cx, floor((ST_Y(p) + {WORLD}) / %(cell)s)::int AS cy"
)
# A cell of the tile's grid, whose top-left cell is (cx0, cy1) and bottom-right (cx1, cy0).
_IN_TILE = "cx BETWEEN %(cx0)s AND %(cx1)s AND cy BETWEEN %(cy0)s AND %(cy1)s"

_CELLS_LAYER = f"""
    SELECT ST_AsMVT(t, 'cells', %(extent)s, 'geom') FROM (
        SELECT ST_AsMVTGeom(
                   ST_SetSRID(ST_MakePoint((cx + 0.5) * %(cell)s - {WORLD},
                                           (cy + 0.5) * %(cell)s - {WORLD}), 3857),
                   ST_TileEnvelope(%(z)s, %(x)s, %(y)s), %(extent)s, 0, true) AS geom,
               count(*)::int AS count
          FROM (SELECT {_CELL_XY} FROM shown) cells
         WHERE {_IN_TILE}
         GROUP BY cx, cy
    ) t
"""
# The reports of the tile itself (`shown` also holds some of its box's edges, in the metric SRID).
_SHOWN_IN_TILE = f"SELECT count(*) FROM (SELECT {_CELL_XY} FROM shown) cells WHERE {_IN_TILE}"

_POINTS_LAYER = """
    SELECT ST_AsMVT(t, 'reports', %(extent)s, 'geom') FROM (
        SELECT ST_AsMVTGeom(p, ST_TileEnvelope(%(z)s, %(x)s, %(y)s), %(extent)s, %(buffer)s, true) AS geom,
               ref, category, stage, age
          FROM shown
    ) t WHERE geom IS NOT NULL
"""

# The cells from `publicmap_cell_month` and `publicmap_cell_day` (counts per cell of the grids of
# zooms CELLS_FROM to POINTS_FROM - 1, category, status and months or day, kept exact by triggers:
# cartography.publicmap.database), plus what they do not hold from the reports themselves (see
# _partial_months). Without a district: a cell is not within one. False: every tile from the
# reports (tests compare).
COUNTED_CELLS = True
# The finest grid counted, that of zoom POINTS_FROM - 1. A crowded tile of zoom POINTS_FROM is
# drawn with its cells, 4 × 4 a tile, 64 px apart, read from the counts rather than from the
# thousands of reports of such a tile. A crowded tile of the zooms above holds few enough reports
# to count them (11 ms p95 at 1M, all ten years): its cells are those of its own grid, 8 × 8 a
# tile, as at every zoom below (the counted grid would give 2 × 2 a z17 tile, 128 px apart).
FINEST_LEVEL = POINTS_FROM - 1 + CELLS_PER_TILE.bit_length() - 1
# Each column of cells, one range of the indexes (level, status or updated_month, cx, cy) each.
_TILE_CELLS = (
    "{table}.level = %(level)s AND {table}.cx = ANY(%(cxs)s) AND {table}.cy BETWEEN %(cy0)s AND %(cy1)s"
)
# The tile's counts per cell, from `counted` (the sum of the parts of _counted_cells).
_COUNTED = (
    "counted AS (SELECT cx, cy, sum(n)::int AS n FROM ({parts}) parts GROUP BY cx, cy HAVING sum(n) > 0)"
)
_COUNTED_CELLS_LAYER = f"""
    SELECT ST_AsMVT(t, 'cells', %(extent)s, 'geom') FROM (
        SELECT ST_AsMVTGeom(
                   ST_SetSRID(ST_MakePoint((cx + 0.5) * %(cell)s - {WORLD},
                                           (cy + 0.5) * %(cell)s - {WORLD}), 3857),
                   ST_TileEnvelope(%(z)s, %(x)s, %(y)s), %(extent)s, 0, true) AS geom,
               n AS count
          FROM counted
    ) t
"""
_PARTIAL_CELLS = f"""
    SELECT cx, cy, 1 FROM (
        SELECT {_CELL_XY} FROM (
            SELECT ST_Transform(location, 3857) AS p FROM (
                -- OFFSET 0: the partial month's rows through the dates' indexes, the tile's box
                -- tested on them; with the box, the planner ANDs the GiST index's bitmap of every
                -- report of the tile (hundreds of thousands at 1M).
                SELECT s.location, s.location_metric FROM signalements_signalement s
                 WHERE {{where}} OFFSET 0
            ) month
             WHERE location_metric && {_TILE_METRIC}
        ) points
    ) cells
     WHERE {_IN_TILE}
"""


def _tile_grid(z: int, x: int, y: int) -> dict:
    """The params of a tile's cells: their grid's `level` and `cell` size, the first and last
    columns and rows of the tile (the grid's rows count from the south, the tiles' from the north)."""
    level = FINEST_LEVEL if z == POINTS_FROM else z + CELLS_PER_TILE.bit_length() - 1
    per_tile = 2 ** (level - z)
    cx0, cy0 = x * per_tile, (2**z - 1 - y) * per_tile
    return {
        "level": level,
        "cell": 2 * WORLD / 2**level,
        "cx0": cx0,
        "cx1": cx0 + per_tile - 1,
        "cxs": [cx0 + i for i in range(per_tile)],
        "cy0": cy0,
        "cy1": cy0 + per_tile - 1,
    }


def _counted_cells(filters: MapFilters, where: str, params: dict) -> str:
    """The CTE `counted` of the tile's cells (params of _tile_grid) from the counts; adds its params."""
    days, partial = _partial_months(filters, params, "d")
    tile = _TILE_CELLS.format(table="m")
    counted = [
        f"SELECT m.cx, m.cy, m.n FROM publicmap_cell_month m WHERE {tile} AND {month}"
        for month in _monthly(filters, "m", params)
    ]
    if days:
        days.insert(0, _TILE_CELLS.format(table="d"))
        counted.append(f"SELECT d.cx, d.cy, d.n FROM publicmap_cell_day d WHERE {' AND '.join(days)}")
    if partial:
        stage = (
            "(s.status = ANY(%(open_statuses)s)"
            " OR (s.status = ANY(%(resolved_statuses)s) AND s.updated_at >= %(resolved_since)s))"
        )
        counted.append(_PARTIAL_CELLS.format(where=f"{where} AND {stage} AND ({' OR '.join(partial)})"))
    return _COUNTED.format(parts=" UNION ALL ".join(counted))


# From POINTS_FROM, a tile with more reports than this is drawn as cells still (no crowding), up
# to zoom POINTS_ALWAYS_FROM where every report is a point.
CROWDED = 300
POINTS_ALWAYS_FROM = 18


def _reports_sql(filters: MapFilters, where: str, params: dict, z: int) -> tuple[list[str], str]:
    """The CTEs and the SQL of the tile's cells or reports. Without a district, up to POINTS_FROM,
    the cells come from the counts: a tile of POINTS_FROM is crowded when the counts say so, and
    then its reports are not read at all. From the reports otherwise (_SHOWN)."""
    shown = _SHOWN.format(where=where)
    if z >= POINTS_ALWAYS_FROM:
        return [shown], _POINTS_LAYER
    if COUNTED_CELLS and filters.district_id is None and z <= POINTS_FROM:
        counted = _counted_cells(filters, where, params)
        if z < POINTS_FROM:
            return [counted], _COUNTED_CELLS_LAYER
        # `counted` is read twice (PostgreSQL materializes it), `shown` only when not crowded.
        crowded = "(SELECT coalesce(sum(n), 0) FROM counted)"
        return [counted, shown], (
            f"CASE WHEN {crowded} > %(crowded)s THEN ({_COUNTED_CELLS_LAYER}) ELSE ({_POINTS_LAYER}) END"
        )
    if z < POINTS_FROM:
        return [shown], _CELLS_LAYER
    crowded = f"({_SHOWN_IN_TILE})"
    return [shown], f"CASE WHEN {crowded} > %(crowded)s THEN ({_CELLS_LAYER}) ELSE ({_POINTS_LAYER}) END"


def _prepared_fetchone(sql: str, params: dict) -> tuple:
    """The first row of `sql` bound on the server and prepared (once per connection, by psycopg;
    Django's cursors bind on the client). Django turns psycopg's prepared statements off
    (prepare_threshold None): on for this query only, so that no other query is counted or kept.
    A rollback on the connection deallocates them; the next call prepares again."""
    raw = connection.connection
    threshold = raw.prepare_threshold
    raw.prepare_threshold = 0
    try:
        with psycopg.Cursor(raw) as prepared:
            prepared.execute(sql, params, prepare=True)
            return prepared.fetchone()
    finally:
        raw.prepare_threshold = threshold


def tile_mvt(*, z: int, x: int, y: int, filters: MapFilters, token: str | None = None) -> bytes:
    """One Mapbox vector tile (EPSG:3857) of the public map: the layer `districts` (outlines; below
    zoom CELLS_FROM also their `count` and its `share` of the largest district's), then `cells` (a
    `count` per cell of a grid) or, from POINTS_FROM in a tile of at most CROWDED reports and from
    POINTS_ALWAYS_FROM in any tile, `reports` (a point with `ref`, `category`, `stage` and `age` in
    days since its last change)."""
    params = {"z": z, "x": x, "y": y, "extent": EXTENT, "buffer": BUFFER, "with_counts": z < CELLS_FROM}
    ctes = []
    # The districts' counts colour the low zooms only; above, the outlines are drawn without them.
    # Counted in the tile's query when the cache does not hold them (the first tile of a view after
    # a change), and kept for the view's other tiles.
    counts_key = None
    counts = {}
    if z < CELLS_FROM and not filters.shows_nothing:
        counts_key = _district_counts_key(filters, token or freshness_token())
        counts = cache.get(counts_key)
    if counts is None:
        counts_sql, counts_params = _district_counts_sql(filters)
        params |= counts_params
        ctes.append(
            f"district_counted AS ({counts_sql}), district_shared AS ("
            "SELECT district_id AS id, n, (n::float / max(n) OVER ())::real AS share FROM district_counted)"
        )
        shares = "district_shared AS c"
    else:
        # Each district's count over the largest: the choropleth's scale, whatever the filters.
        largest = max(counts.values(), default=1)
        params |= {
            "district_ids": list(counts),
            "district_counts": list(counts.values()),
            "district_shares": [n / largest for n in counts.values()],
        }
        shares = _DISTRICT_SHARES
    districts = (_DISTRICTS_STORED if z < CELLS_FROM else _DISTRICTS_CLIPPED).format(shares=shares)
    sql = f"coalesce(({districts}), ''::bytea)"
    if z >= CELLS_FROM and filters.public_category_ids and not filters.shows_nothing:
        where, where_params = _where_common(filters)
        params |= (
            where_params
            | _tile_grid(z, x, y)
            | {
                "stage_resolved": list(STAGES[STAGE_RESOLVED]),
                "stage_in_progress": list(STAGES[STAGE_IN_PROGRESS]),
                "crowded": CROWDED,
            }
        )
        reports_ctes, layer = _reports_sql(filters, where, params, z)
        ctes += reports_ctes
        sql = f"{sql} || coalesce(({layer}), ''::bytea)"
    counted = ", ARRAY(SELECT ARRAY[district_id, n] FROM district_counted)" if counts is None else ""
    with_ = f"WITH {', '.join(ctes)} " if ctes else ""
    with transaction.atomic(), connection.cursor() as cursor:
        if GENERIC_LOW_ZOOMS and z < CELLS_FROM and filters.every_category:
            cursor.execute(LOCAL_SETTINGS + GENERIC_PLAN)
            row = _prepared_fetchone(f"{with_}SELECT {sql}{counted}", params)
        else:
            cursor.execute(LOCAL_SETTINGS)
            cursor.execute(f"{with_}SELECT {sql}{counted}", params)
            row = cursor.fetchone()
    if counts is None:
        cache.set(counts_key, dict(row[1]), settings.PUBLIC_MAP_CACHE_SECONDS)
    return bytes(row[0])


SORTS = {
    "-created": ("-created_at", "-id"),
    "created": ("created_at", "id"),
    "-updated": ("-updated_at", "-id"),
    "updated": ("updated_at", "id"),
    "category": ("category__name", "-created_at", "-id"),
    "-category": ("-category__name", "-created_at", "-id"),
    "status": ("status", "-created_at", "-id"),
    "-status": ("-status", "-created_at", "-id"),
    "district": ("district__name", "-created_at", "-id"),
    "-district": ("-district__name", "-created_at", "-id"),
}


# What the list page shows of a report: neither its geometry, texts and search words nor its
# district's boundary (kilobytes a row, and a GEOS object each) are read.
LIST_COLUMNS = ("reference", "status", "created_at", "updated_at", "category", "district__name")


def map_list_rows(queryset: QuerySet[Signalement]) -> QuerySet[Signalement]:
    """The columns of `map_list`'s reports that its page shows."""
    return queryset.select_related(None).select_related("category", "district").only(*LIST_COLUMNS)


def map_list(*, filters: MapFilters, sort: str = "-created", bbox=None) -> QuerySet[Signalement]:
    """The reports the map draws as points under the filters (never a sensitive one), in the
    visitor's order, optionally within the map's view (a WGS84 polygon)."""
    queryset = signalements_public().filter(category_id__in=filters.public_category_ids)
    stage = Q(status__in=filters.open_statuses) | Q(
        status__in=filters.resolved_statuses, updated_at__gte=filters.resolved_since
    )
    queryset = queryset.filter(stage)
    if filters.created_since is not None:
        queryset = queryset.filter(created_at__gte=filters.created_since)
    if filters.district_id is not None:
        queryset = queryset.filter(district_id=filters.district_id)
    if bbox is not None:
        queryset = queryset.filter(location_metric__bboverlaps=bbox)
    return queryset.order_by(*SORTS.get(sort, SORTS["-created"]))
