"""Volumes per district: every district layer of a territory × category (and category group, and all
categories) × month and meteorological season, computed set-based in PostGIS into `DistrictVolume`.

What each figure means:

- `count`: reports created in the period (by local time), duplicates included: a duplicate is still a
  call the desk answered. Rows exist only for periods with at least one report.
- `per_km2`: count / the district's area (on the spheroid, `geography`), in km².
- `per_1000_residents`: count × 1,000 / `District.population`, null when the population is unknown
  (or 0).
- `previous_year_count`, `change_vs_previous_year`: the same month, or the same season, a year before;
  change = (count − previous) / previous. Null when the previous period lies before the first whole
  month of the territory's data (`territory_first_month`) or before the data read (nothing to
  compare with); the change is also null
  when the previous count is 0 (a rise from nothing has no ratio).
- `median_days_to_resolve`: median time from creation to the first resolution (first status change to
  resolved or closed from another working status) in days, over the reports whose history is known.
  Imported reports (and bulk loads) arrive with one history row "'' → their status": they were not
  timed by this desk and are left out, as the desk's statistics do (`signalements.desk.statistics`), so an
  import never reads as "resolved in 0.02 h". Duplicates and rejected reports are not resolutions and
  are left out too. Null when no report of the group was timed.
- `share_resolved_in_time`: among the timed reports (same rule) with a deadline that were resolved, or
  whose deadline has passed at computation time, the share resolved by their deadline. An open
  report past its deadline counts as late: a share among resolved reports only would flatter a
  district whose reports wait.
- `share_duplicates`: share of the period's reports that are duplicates (status duplicate, or
  `duplicate_of` set).

Reports go to the districts of each layer as `layers` says. Temporary tables are dropped at commit.
"""

from datetime import datetime

from django.conf import settings
from django.db import connection
from django.utils import timezone

from cartography.models import District, Territory
from cartography.selectors import local_settings

from .layers import cell_sql, exact_sql, grid_create
from .window import PARTIAL_MONTH_DAYS, Window, month_add

MONTHS = 36
# For the statements below: the history's aggregate (a row per report) and the rollups' hash tables
# stay in memory at a million reports (at 64 MB they spilled to disk); and no merge joins: the
# estimates of joins on computed keys (a report's grid cell) are far off, and the planner sorted a
# million reports (3 s) to merge them with the cells where a hash of the cells takes 0.1 s.
VOLUMES_SETTINGS = {"work_mem": "256MB", "enable_mergejoin": "off"}

# One row per report, with its district in every layer: the stored one for the locating layer
# (district_0), a grid cell's for the others (district_i, null with border_i when the report's cell
# holds a boundary: `layers.exact_sql` then decides). The history is aggregated once over the whole
# table: joined to the territory's reports first, it cost a second hash of a million rows.
BASE_SQL = """
CREATE TEMP TABLE planning_volume_base ON COMMIT DROP AS
WITH history AS (
    SELECT h.signalement_id AS id,
           bool_or(h.from_status = '' AND h.to_status <> 'new') AS imported,
           min(h.created_at) FILTER (WHERE h.to_status IN ('resolved', 'closed')
                                       AND h.from_status NOT IN ('', h.to_status)) AS resolved_at
      FROM signalements_statuschange h
     GROUP BY h.signalement_id
),
reports AS (
    SELECT s.id, s.category_id, c.group_id, s.district_id, s.created_at, s.deadline_at,
           date_trunc('month', s.created_at AT TIME ZONE %(tz)s)::date AS month,
           (s.status = 'duplicate' OR s.duplicate_of_id IS NOT NULL) AS duplicate,
           h.id IS NOT NULL AND NOT h.imported AND s.status NOT IN ('duplicate', 'rejected')
               AND s.duplicate_of_id IS NULL AS timed,
           h.resolved_at, ST_X(s.location_metric) AS x, ST_Y(s.location_metric) AS y
      FROM signalements_signalement s
      JOIN signalements_category c ON c.id = s.category_id
      LEFT JOIN history h ON h.id = s.id
     WHERE s.territory_id = %(territory)s AND s.created_at >= %(data_from)s AND s.created_at < %(data_to)s
)
SELECT r.id, r.category_id, r.group_id, r.month, r.duplicate, r.x, r.y, {cell} AS cx, {row} AS cy,
       CASE WHEN r.timed AND r.resolved_at IS NOT NULL
            THEN extract(epoch FROM r.resolved_at - r.created_at) / 86400.0 END AS days_to_resolve,
       CASE WHEN r.timed AND r.deadline_at IS NOT NULL
                 AND (r.resolved_at IS NOT NULL OR r.deadline_at < %(now)s)
            THEN coalesce(r.resolved_at <= r.deadline_at, false) END AS in_time,
       r.district_id AS district_0{layer_columns}
  FROM reports r{layer_joins}
"""

# The reports per district of every layer × category × month, and the timed ones that were resolved
# (for the medians): every count of every period, group and layer adds these up. Integers: their
# sums are bigint, summed in machine words (the sums of bigint counts are numeric, several times slower).
FINE_SQL = """
CREATE TEMP TABLE planning_volume_fine ON COMMIT DROP AS
SELECT {districts}, b.category_id, b.group_id, b.month,
       count(*)::int AS count, (count(*) FILTER (WHERE b.duplicate))::int AS duplicates,
       (count(*) FILTER (WHERE b.in_time))::int AS in_time, count(b.in_time)::int AS with_deadline
  FROM planning_volume_base b{exact_joins}
 GROUP BY {positions}
"""

RESOLVED_SQL = """
CREATE TEMP TABLE planning_volume_resolved ON COMMIT DROP AS
SELECT {districts}, b.category_id, b.group_id, b.month,
       (b.month - mod(extract(month FROM b.month)::int, 3) * interval '1 month')::date AS season_start,
       b.days_to_resolve
  FROM planning_volume_base b{exact_joins}
 WHERE b.days_to_resolve IS NOT NULL
"""

# Months, seasons (from their months), groups and all categories of one layer in one pass over the
# fine rows, each row also counted a year later as the previous year's count (shifted).
COUNTS_SQL = """
INSERT INTO planning_volume_agg (district_id, category_id, group_id, period, period_start, count,
                                 previous, duplicates, in_time, with_deadline)
SELECT district_id, category_id, group_id,
       CASE WHEN GROUPING(month) = 0 THEN 'month' ELSE 'season' END, coalesce(month, season_start),
       sum(count) FILTER (WHERE NOT shifted), sum(count) FILTER (WHERE shifted),
       sum(duplicates) FILTER (WHERE NOT shifted), sum(in_time) FILTER (WHERE NOT shifted),
       sum(with_deadline) FILTER (WHERE NOT shifted)
  FROM (SELECT f.*,
               (month - mod(extract(month FROM month)::int, 3) * interval '1 month')::date AS season_start
          FROM (SELECT {district} AS district_id, category_id, group_id, month, count, duplicates, in_time,
                       with_deadline, false AS shifted
                  FROM planning_volume_fine
                UNION ALL
                SELECT {district}, category_id, group_id, (month + interval '1 year')::date, count,
                       0, 0, 0, true
                  FROM planning_volume_fine) f
         WHERE district_id IS NOT NULL) f
 GROUP BY district_id, GROUPING SETS ((month, category_id, group_id), (month, group_id), (month),
                                      (season_start, category_id, group_id), (season_start, group_id),
                                      (season_start))
HAVING bool_or(NOT shifted)
"""

MEDIANS_SQL = """
INSERT INTO planning_volume_median (district_id, category_id, group_id, period, period_start, median)
SELECT {district}, category_id, group_id,
       CASE WHEN GROUPING(month) = 0 THEN 'month' ELSE 'season' END, coalesce(month, season_start),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY days_to_resolve)
  FROM planning_volume_resolved
 WHERE {district} IS NOT NULL
 GROUP BY {district}, GROUPING SETS ((month, category_id, group_id), (month, group_id), (month),
                                     (season_start, category_id, group_id), (season_start, group_id),
                                     (season_start))
"""

WORK_TABLES_SQL = """
CREATE TEMP TABLE planning_volume_agg (
    district_id bigint, category_id bigint, group_id bigint, period text, period_start date,
    count integer, previous integer, duplicates integer, in_time integer, with_deadline integer,
    category_key bigint GENERATED ALWAYS AS (coalesce(category_id, 0)) STORED,
    group_key bigint GENERATED ALWAYS AS (coalesce(group_id, 0)) STORED
) ON COMMIT DROP;
CREATE TEMP TABLE planning_volume_median (
    district_id bigint, category_id bigint, group_id bigint, period text, period_start date,
    median double precision,
    category_key bigint GENERATED ALWAYS AS (coalesce(category_id, 0)) STORED,
    group_key bigint GENERATED ALWAYS AS (coalesce(group_id, 0)) STORED
) ON COMMIT DROP;
"""

# One row per aggregate of the window (seasons only when the data cover their three months), with its
# previous year. Keys with nulls (every category) are compared through their *_key columns,
# coalesce(…, 0): ids start at 1.
WRITE_SQL = """
WITH districts AS MATERIALIZED (
    SELECT d.id, d.layer, d.population, ST_Area(d.geom::geography) / 1e6 AS km2
      FROM cartography_district d WHERE d.territory_id = %(territory)s
),
kept AS (
    SELECT a.*, m.median,
           CASE WHEN (a.period_start - interval '1 year')::date >= %(comparable_from)s
                THEN coalesce(a.previous, 0) END AS previous_count
      FROM planning_volume_agg a
      LEFT JOIN planning_volume_median m
        ON m.district_id = a.district_id AND m.period = a.period AND m.period_start = a.period_start
       AND m.category_key = a.category_key AND m.group_key = a.group_key
     WHERE (a.period = 'month' AND a.period_start >= %(start)s)
        OR (a.period = 'season' AND a.period_start + interval '2 months' >= %(start)s
            AND a.period_start >= %(comparable_from)s AND a.period_start + interval '3 months' <= %(end)s)
)
INSERT INTO planning_districtvolume
    (district_id, layer, category_id, group_id, period, period_start, year, season, month, count, per_km2,
     per_1000_residents, change_vs_previous_year, previous_year_count, median_days_to_resolve,
     share_resolved_in_time, share_duplicates)
SELECT k.district_id, d.layer, k.category_id, k.group_id, k.period, k.period_start,
       CASE WHEN k.period = 'season' AND extract(month FROM k.period_start) = 12
            THEN extract(year FROM k.period_start)::int + 1
            ELSE extract(year FROM k.period_start)::int END,
       CASE WHEN extract(month FROM k.period_start) IN (12, 1, 2) THEN 'winter'
            WHEN extract(month FROM k.period_start) IN (3, 4, 5) THEN 'spring'
            WHEN extract(month FROM k.period_start) IN (6, 7, 8) THEN 'summer'
            ELSE 'autumn' END,
       CASE WHEN k.period = 'month' THEN extract(month FROM k.period_start)::int END,
       k.count,
       k.count / nullif(d.km2, 0),
       CASE WHEN d.population > 0 THEN k.count * 1000.0 / d.population END,
       (k.count - k.previous_count)::float / nullif(k.previous_count, 0),
       k.previous_count,
       k.median,
       k.in_time::float / nullif(k.with_deadline, 0),
       k.duplicates::float / k.count
  FROM kept k JOIN districts d ON d.id = k.district_id
"""


def district_volumes_compute(*, territory: Territory, window: Window, now: datetime | None = None) -> int:
    """Rewrite the territory's `DistrictVolume` rows for `window` (and the year before it, for the
    comparisons). Run inside the caller's transaction; returns the rows written."""
    now = now or timezone.now()
    data_from = month_add(window.start, -12)
    lookback = Window(start=data_from, end=window.end)
    first_report = (
        territory_first_month(territory=territory, since=lookback.bounds()[0], until=lookback.bounds()[1])
        or window.end
    )
    params = {
        "territory": territory.pk,
        "data_from": lookback.bounds()[0],
        "data_to": lookback.bounds()[1],
        "tz": settings.TIME_ZONE,
        "now": now,
        "start": window.start,
        "end": window.end,
        "comparable_from": max(data_from, first_report),
    }
    layers = list(
        District.objects.filter(territory=territory).values_list("layer", flat=True).distinct().order_by()
    )
    # Column district_i of the base table for layers[i]: district_0 the locating layer.
    others = [layer for layer in layers if layer != territory.locating_layer]
    columns = {territory.locating_layer: "district_0"} | {
        layer: f"district_{i}" for i, layer in enumerate(others, start=1)
    }
    grids = {layer: f"planning_volume_grid_{i}" for i, layer in enumerate(others, start=1)}
    cell, row = cell_sql("r.x", "r.y")
    with connection.cursor() as cursor, local_settings(cursor, VOLUMES_SETTINGS):
        cursor.execute(
            "DELETE FROM planning_districtvolume v USING cartography_district d "
            "WHERE d.id = v.district_id AND d.territory_id = %s",
            [territory.pk],
        )
        for layer in others:
            grid_create(cursor, territory=territory, layer=layer, prefix=grids[layer])
        cursor.execute(
            BASE_SQL.format(
                cell=cell,
                row=row,
                layer_columns="".join(
                    f", g{i}.district_id AS {columns[layer]}, coalesce(g{i}.border, false) AS border_{i}"
                    for i, layer in enumerate(others, start=1)
                ),
                layer_joins="".join(
                    f" LEFT JOIN {grids[layer]}_cells g{i} ON g{i}.cx = {cell} AND g{i}.cy = {row}"
                    for i, layer in enumerate(others, start=1)
                ),
            ),
            params,
        )
        cursor.execute("ANALYZE planning_volume_base")
        for i, layer in enumerate(others, start=1):
            cursor.execute(
                f"CREATE TEMP TABLE planning_volume_exact_{i} ON COMMIT DROP AS "
                + exact_sql(points="planning_volume_base", where=f"r.border_{i}", prefix=grids[layer])
            )
            cursor.execute(f"ANALYZE planning_volume_exact_{i}")
        districts = ", ".join(
            "b.district_0" if i == 0 else f"coalesce(b.district_{i}, e{i}.district_id) AS district_{i}"
            for i in range(len(others) + 1)
        )
        exact_joins = "".join(
            f" LEFT JOIN planning_volume_exact_{i} e{i} ON e{i}.id = b.id" for i in range(1, len(others) + 1)
        )
        positions = ", ".join(str(i) for i in range(1, len(others) + 5))
        cursor.execute(FINE_SQL.format(districts=districts, exact_joins=exact_joins, positions=positions))
        cursor.execute(RESOLVED_SQL.format(districts=districts, exact_joins=exact_joins))
        cursor.execute("ANALYZE planning_volume_fine; ANALYZE planning_volume_resolved")
        cursor.execute(WORK_TABLES_SQL)
        for layer in layers:
            cursor.execute(COUNTS_SQL.format(district=columns[layer]))
            cursor.execute(MEDIANS_SQL.format(district=columns[layer]))
        cursor.execute("ANALYZE planning_volume_agg; ANALYZE planning_volume_median")
        cursor.execute(WRITE_SQL, params)
        written = cursor.rowcount
        cursor.execute(
            "DROP TABLE planning_volume_base, planning_volume_fine, planning_volume_resolved, "
            "planning_volume_agg, planning_volume_median"
            + "".join(
                f", planning_volume_exact_{i}, {grid}_pieces, {grid}_piece_cells, {grid}_cells"
                for i, grid in enumerate(grids.values(), start=1)
            )
        )
    return written


def territory_first_month(*, territory: Territory, since: datetime, until: datetime):
    """The first whole month (local time) of the territory's reports in [since, until), or None: the
    month of the first report, or the next one when the data start after its first
    PARTIAL_MONTH_DAYS days (a month half covered would make the next year's change a rise)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (min(created_at) AT TIME ZONE %s)::date FROM signalements_signalement "
            "WHERE territory_id = %s AND created_at >= %s AND created_at < %s",
            [settings.TIME_ZONE, territory.pk, since, until],
        )
        first = cursor.fetchone()[0]
    if first is None:
        return None
    return first.replace(day=1) if first.day <= 1 + PARTIAL_MONTH_DAYS else month_add(first, 1)
