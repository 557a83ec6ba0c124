"""The public map's reads, in SQL: vector tiles (ST_AsMVT), counts per district, the list.

What the public may see is decided by signalements: sensitive categories (`Category.is_sensitive`,
resolved to `MapFilters.public_category_ids`) are only counted per district, never drawn as points
or cells; the points carry a reference, a category, a stage and an age, never a person's data."""

import hashlib
import time
from datetime import date, datetime, timedelta

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

# The tables whose rows a tile shows. Their counters of written rows (pg_stat) make the freshness
# token: a change to any report changes it, at the cost of one read of the statistics.
WATCHED_TABLES = ("signalements_signalement", "signalements_category", "cartography_district")


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
        cursor.execute(
            """
            SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM (
                SELECT n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_user_tables
                 WHERE relname = ANY(%(t)s)
                UNION ALL
                SELECT n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_xact_user_tables
                 WHERE relname = ANY(%(t)s)
            ) counts
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
    """The WHERE clause of the filters; `public` leaves out the sensitive categories."""
    params = {
        "categories": list(filters.public_category_ids if public else filters.category_ids),
        "open_statuses": list(filters.open_statuses) or [""],
        "resolved_statuses": list(filters.resolved_statuses) or [""],
        "resolved_since": filters.resolved_since,
    }
    clauses = [
        f"{alias}.category_id = ANY(%(categories)s)",
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


def district_counts(filters: MapFilters, token: str | None = None) -> dict[int, int]:
    """Reports per district under the filters, sensitive categories included (the only way the
    public sees them). Cached with the freshness token: one count per filter set and change."""
    if filters.shows_nothing:
        return {}
    token = token or freshness_token()
    key = "publicmap:districts:" + hashlib.sha1(f"{token}|{filters.key}".encode()).hexdigest()
    counts = cache.get(key)
    if counts is None:
        counts = _district_counts(filters)
        cache.set(key, counts, settings.PUBLIC_MAP_CACHE_SECONDS)
    return counts


def _next_month(instant) -> date:
    """The first day of the month after the one of a local instant."""
    day = timezone.localtime(instant).date().replace(day=1)
    return (day + timedelta(days=32)).replace(day=1)


def _month_start(day: date):
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


def _district_counts(filters: MapFilters) -> dict[int, int]:
    """The counts of whole months from `publicmap_district_month` (kept exact by triggers, see
    cartography.publicmap.database), those of the filters' partial months from the reports themselves
    (the rows changed or created since the filter's first day in its month, through the indexes on
    `updated_at` and `created_at`): exact, and a few thousand rows read rather than a million."""
    where, params = _where(filters, public=False)
    resolved_month = _next_month(filters.resolved_since)
    params |= {"resolved_month": resolved_month, "resolved_month_at": _month_start(resolved_month)}
    months = [
        "(m.status = ANY(%(open_statuses)s)"
        " OR (m.status = ANY(%(resolved_statuses)s) AND m.updated_month >= %(resolved_month)s))"
    ]
    partial = ["(s.status = ANY(%(resolved_statuses)s) AND s.updated_at < %(resolved_month_at)s)"]
    if filters.created_since is not None:
        created_month = _next_month(filters.created_since)
        params |= {"created_month": created_month, "created_month_at": _month_start(created_month)}
        months.append("m.created_month >= %(created_month)s")
        partial.append("s.created_at < %(created_month_at)s")
    months.append("m.category_id = ANY(%(categories)s)")
    if filters.district_id is not None:
        months.append("m.district_id = %(district)s")
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT district_id, sum(n)::int FROM (
                SELECT m.district_id, sum(m.n) AS n FROM publicmap_district_month m
                 WHERE {" AND ".join(months)} GROUP BY 1
                UNION ALL
                SELECT s.district_id, count(*) FROM signalements_signalement s
                 WHERE {where} AND s.district_id IS NOT NULL AND ({" OR ".join(partial)}) GROUP BY 1
            ) parts GROUP BY 1 HAVING sum(n) > 0
            """,
            params,
        )
        return dict(cursor.fetchall())


def tile_valid(z: int, x: int, y: int) -> bool:
    return 0 <= z <= MAX_ZOOM and 0 <= x < 2**z and 0 <= y < 2**z


_DISTRICTS_LAYER = """
    SELECT ST_AsMVT(t, 'districts', %(extent)s, 'geom') FROM (
        SELECT ST_AsMVTGeom(ST_Transform(d.geom, 3857), ST_TileEnvelope(%(z)s, %(x)s, %(y)s),
                            %(extent)s, %(buffer)s, true) AS geom,
               d.id, d.name,
               CASE WHEN %(with_counts)s THEN coalesce(c.n, 0) END AS count,
               CASE WHEN %(with_counts)s THEN coalesce(c.share, 0)::real END AS share
          FROM cartography_district d
          JOIN cartography_territory te ON te.id = d.territory_id AND d.layer = te.locating_layer
          LEFT JOIN unnest(%(district_ids)s::bigint[], %(district_counts)s::int[],
                           %(district_shares)s::real[]) AS c(id, n, share) ON c.id = d.id
         WHERE d.geom && ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s), 4326)
    ) t WHERE geom IS NOT NULL
"""

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
_REPORTS = f"""
    WITH shown AS MATERIALIZED (
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


_CELLS_LAYER = f"""
    SELECT ST_AsMVT(t, 'cells', %(extent)s, 'geom') FROM (
        SELECT ST_AsMVTGeom(
                   ST_SetSRID(ST_MakePoint((cx + 0.5) * %(cell)s - {WORLD},
                                           (cy + 0.5) * %(cell)s - {WORLD}), 3857),
                   ST_TileEnvelope(%(z)s, %(x)s, %(y)s), %(extent)s, 0, true) AS geom,
               count(*)::int AS count
          FROM (
            SELECT floor((ST_X(p) + {WORLD}) / %(cell)s) AS cx, floor((ST_Y(p) + {WORLD}) / %(cell)s) AS cy
              FROM shown
          ) cells
         GROUP BY cx, cy
    ) t
"""

_POINTS_LAYER = """
    SELECT ST_AsMVT(t, 'reports', %(extent)s, 'geom') FROM (
        SELECT ST_AsMVTGeom(p, ST_TileEnvelope(%(z)s, %(x)s, %(y)s), %(extent)s, %(buffer)s, true) AS geom,
               ref, category, stage, age
          FROM shown
    ) t WHERE geom IS NOT NULL
"""

# The cells of zooms CELLS_FROM to POINTS_FROM - 1 from `publicmap_cell_month` (counts per cell of
# those zooms' grids, category, status and months, kept exact by triggers:
# cartography.publicmap.database), plus the filters' partial months from the reports themselves:
# those resolved since the filter's first day in its month, and those created since the period's
# first day in its month.
# Without a district: a cell is not within one. False: every tile from the reports (tests compare).
COUNTED_CELLS = True
_CELL_XY = (
    f"floor((ST_X(p) + {WORLD}) / %(cell)s)::int AS cx, floor((ST_Y(p) + {WORLD}) / %(cell)s)::int AS cy"
)
_COUNTED_CELLS_LAYER = f"""
    SELECT ST_AsMVT(t, 'cells', %(extent)s, 'geom') FROM (
        SELECT ST_AsMVTGeom(
                   ST_SetSRID(ST_MakePoint((cx + 0.5) * %(cell)s - {WORLD},
                                           (cy + 0.5) * %(cell)s - {WORLD}), 3857),
                   ST_TileEnvelope(%(z)s, %(x)s, %(y)s), %(extent)s, 0, true) AS geom,
               sum(n)::int AS count
          FROM (
            SELECT m.cx, m.cy, m.n FROM publicmap_cell_month m
             WHERE m.level = %(level)s AND m.cx = ANY(%(cxs)s)
               AND m.cy BETWEEN %(cy0)s AND %(cy0)s + {CELLS_PER_TILE - 1} AND {{months}}
            UNION ALL
            SELECT cx, cy, 1 FROM (
                SELECT {_CELL_XY} FROM (
                    SELECT ST_Transform(location, 3857) AS p FROM (
                        -- OFFSET 0: the partial month's rows through the dates' indexes, the tile's
                        -- box tested on them; with the box, the planner ANDs the GiST index's
                        -- bitmap of every report of the tile (hundreds of thousands at 1M).
                        SELECT s.location, s.location_metric FROM signalements_signalement s
                         WHERE {{partial}} OFFSET 0
                    ) month
                     WHERE location_metric && {_TILE_METRIC}
                ) points
            ) cells
             WHERE cx BETWEEN %(cx0)s AND %(cx0)s + {CELLS_PER_TILE - 1}
               AND cy BETWEEN %(cy0)s AND %(cy0)s + {CELLS_PER_TILE - 1}
          ) counted
         GROUP BY cx, cy HAVING sum(n) > 0
    ) t
"""


def _counted_cells_layer(filters: MapFilters, where: str, params: dict, z: int, x: int, y: int) -> str:
    """The SQL of the cells' layer from the counts (see _COUNTED_CELLS_LAYER); adds its params."""
    resolved_month = _next_month(filters.resolved_since)
    params |= {
        "level": z + CELLS_PER_TILE.bit_length() - 1,
        "cx0": x * CELLS_PER_TILE,
        # Each column of cells, one range of the primary key (level, cx, cy, …) each.
        "cxs": [x * CELLS_PER_TILE + i for i in range(CELLS_PER_TILE)],
        "cy0": (2**z - 1 - y) * CELLS_PER_TILE,
        "resolved_month": resolved_month,
        "resolved_month_at": _month_start(resolved_month),
    }
    months = [
        "m.category_id = ANY(%(categories)s)",
        "(m.status = ANY(%(open_statuses)s)"
        " OR (m.status = ANY(%(resolved_statuses)s) AND m.updated_month >= %(resolved_month)s))",
    ]
    # Resolved in the first, partial, month of "resolved in the last N days"…
    partial = [
        f"(s.status = ANY(%(resolved_statuses)s) AND s.updated_at >= %(resolved_since)s"
        f" AND s.updated_at < %(resolved_month_at)s AND {where})"
    ]
    if filters.created_since is not None:
        created_month = _next_month(filters.created_since)
        params |= {"created_month": created_month, "created_month_at": _month_start(created_month)}
        months.append("m.created_month >= %(created_month)s")
        # … and the others created in the period's first, partial, month.
        partial.append(
            f"(s.created_at < %(created_month_at)s AND {where} AND (s.status = ANY(%(open_statuses)s)"
            f" OR (s.status = ANY(%(resolved_statuses)s) AND s.updated_at >= %(resolved_month_at)s)))"
        )
    return _COUNTED_CELLS_LAYER.format(months=" AND ".join(months), partial=" OR ".join(partial))


# From POINTS_FROM, a tile with more reports than this is drawn as cells still (no crowding), up
# to zoom POINTS_ALWAYS_FROM where every report is a point.
CROWDED = 300
POINTS_ALWAYS_FROM = 18


def tile_mvt(*, z: int, x: int, y: int, filters: MapFilters, token: str | None = None) -> bytes:
    """One Mapbox vector tile (EPSG:3857) of the public map: the layer `districts` (outlines; below
    zoom CELLS_FROM also their `count` and its `share` of the largest district's), then `cells` (a
    `count` per cell of a grid) or, from POINTS_FROM in a tile of at most CROWDED reports and from
    POINTS_ALWAYS_FROM in any tile, `reports` (a point with `ref`, `category`, `stage` and `age` in
    days since its last change)."""
    # The districts' counts colour the low zooms only; above, the outlines are drawn without them.
    counts = district_counts(filters, token) if z < CELLS_FROM else {}
    params = {
        "z": z,
        "x": x,
        "y": y,
        "extent": EXTENT,
        "buffer": BUFFER,
        "with_counts": z < CELLS_FROM,
        "district_ids": list(counts),
        "district_counts": list(counts.values()),
        # Each district's count over the largest: the choropleth's scale, whatever the filters.
        "district_shares": [n / max(counts.values()) for n in counts.values()] if counts else [],
    }
    sql = f"SELECT coalesce(({_DISTRICTS_LAYER}), ''::bytea)"
    if z >= CELLS_FROM and filters.public_category_ids and not filters.shows_nothing:
        where, where_params = _where_common(filters)
        params |= where_params | {
            "cell": 2 * WORLD / 2**z / CELLS_PER_TILE,
            "stage_resolved": list(STAGES[STAGE_RESOLVED]),
            "stage_in_progress": list(STAGES[STAGE_IN_PROGRESS]),
            "crowded": CROWDED,
        }
        if z < POINTS_FROM and COUNTED_CELLS and filters.district_id is None:
            cells = _counted_cells_layer(filters, where, params, z, x, y)
            sql = f"{sql} || coalesce(({cells}), ''::bytea)"
            reports = None
        elif z < POINTS_FROM:
            reports = _CELLS_LAYER
        elif z >= POINTS_ALWAYS_FROM:
            reports = _POINTS_LAYER
        else:
            reports = (
                f"CASE WHEN (SELECT count(*) FROM shown) > %(crowded)s THEN ({_CELLS_LAYER})"
                f" ELSE ({_POINTS_LAYER}) END"
            )
        if reports is not None:
            sql = f"{_REPORTS.format(where=where)} {sql} || coalesce(({reports}), ''::bytea)"
    # PostGIS's functions are costed high: the planner would JIT-compile a tile's query, 400 ms of
    # compiling for a query that runs in a few.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, params)
        return bytes(cursor.fetchone()[0])


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
