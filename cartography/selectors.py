from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

from django.conf import settings
from django.db import connection

# The locate rules, written once as SQL fragments over a point expression and a category
# expression, so that one report (intake), a bulk load and a set-based relocation share them.
# Every lookup goes through the GiST index of a subdivided table.


# Rules over the subdivided parts (aliases dp and wp), shared by the one-point lookups below and
# the set-based relocation (cartography.services), which joins parts to reports instead.
DISTRICT_PART_RULE = "dp.locating"  # the territory's locating layer only
DISTRICT_RANK = "dp.district_id"  # on a shared border, the lower id, whoever asks


def zone_part_rule(category: str) -> str:
    """The zone part serves the category: it names it or names none (a catch-all zone)."""
    return f"wp.team_active AND (wp.category_ids = '{{}}' OR {category} = ANY(wp.category_ids))"


# Among zones that serve: the higher priority, then the smaller zone, then the lower id.
ZONE_PRECEDENCE = "wp.priority DESC, wp.area, wp.work_zone_id"
# A zone naming the category beats a catch-all zone, then ZONE_PRECEDENCE.
ZONE_RANK = f"(wp.category_ids = '{{}}'), {ZONE_PRECEDENCE}"
# A zone for every category (the locate cells keep its team for categories created later).
CATCH_ALL_ZONE_RULE = "wp.team_active AND wp.category_ids = '{}'"


def district_part_sql(point: str) -> str:
    """The part (district_id, territory_id) of the locating layer that holds the point; on a shared
    border, the lower district id."""
    return f"""SELECT dp.district_id, dp.territory_id FROM cartography_districtpart dp
        WHERE {DISTRICT_PART_RULE} AND ST_Intersects(dp.geom, {point})
        ORDER BY {DISTRICT_RANK} LIMIT 1"""


def territory_outline_sql(point: str) -> str:
    """The territory whose outline holds the point: asked only where no district covers it (a
    territory without districts, or a gap between them)."""
    return f"""(SELECT tp.territory_id FROM cartography_territorypart tp
          WHERE ST_Intersects(tp.geom, {point}) ORDER BY tp.territory_id LIMIT 1)"""


def default_team_sql(category: str, territory: str) -> str:
    """The category's default team, if it is active and serves this territory (several cities may
    share one installation and its categories)."""
    return f"""(SELECT c.default_team_id
           FROM signalements_category c
           JOIN cartography_team team ON team.id = c.default_team_id AND team.is_active
                AND (team.territory_id IS NULL OR team.territory_id = {territory})
          WHERE c.id = {category})"""


def team_sql(point: str, category: str, territory: str) -> str:
    """The best zone serving the category at the point (ZONE_RANK), else the category's default
    team. Zone parts carry their zone's team, priority and categories (cartography.database): no join."""
    return f"""COALESCE(
        (SELECT wp.team_id FROM cartography_workzonepart wp
          WHERE {zone_part_rule(category)} AND ST_Intersects(wp.geom, {point})
          ORDER BY {ZONE_RANK} LIMIT 1),
        {default_team_sql(category, territory)})"""


# Many points at once (a relocation, a bulk load) join parts to points rather than probe the parts
# once per point: each part finds the points in its box through the points' spatial index, then
# the exact test runs on WGS84 as in a one-point lookup, one polygon at a time (PostGIS keeps it
# prepared). The reports' only spatial index is on their metric copy (`metric`): there the box is
# the part's, projected and widened, as an edge straight in degrees bends a little once projected
# (the exact test decides anyway). Points indexed as they are (no `metric`) meet the part's own box.
BOX_MARGIN_M = 50


def _parts_over_points(
    parts: str, alias: str, points: str, point: str, metric: str | None, where: str
) -> str:
    if metric:
        box = f"r.{metric} && ST_Expand(ST_Transform({alias}.geom, {settings.METRIC_SRID}), {BOX_MARGIN_M})"
    else:
        box = f"r.{point} && {alias}.geom"
    return f"""{parts} {alias}
        JOIN {points} r
          ON {box}
         AND {where}
         AND ST_Intersects({alias}.geom, r.{point})"""


def districts_of_points_sql(
    *, points: str, point: str, metric: str | None = None, where: str = "true"
) -> str:
    """(id, district_id, territory_id) of the rows of `points` (alias r) that lie in a district, as
    district_part_sql()."""
    join = _parts_over_points("cartography_districtpart", "dp", points, point, metric, where)
    return f"""SELECT DISTINCT ON (r.id) r.id, dp.district_id, dp.territory_id FROM {join}
         WHERE {DISTRICT_PART_RULE} ORDER BY r.id, {DISTRICT_RANK}"""


def zone_teams_of_points_sql(
    *, points: str, point: str, metric: str | None = None, category: str, where: str = "true"
) -> str:
    """(id, team_id) of the rows of `points` (alias r) in a zone serving their category, as the
    first choice of team_sql()."""
    rule = f"{zone_part_rule(category)} AND {where}"
    join = _parts_over_points("cartography_workzonepart", "wp", points, point, metric, rule)
    return f"SELECT DISTINCT ON (r.id) r.id, wp.team_id FROM {join} ORDER BY r.id, {ZONE_RANK}"


@contextmanager
def local_settings(cursor, values: dict[str, str]) -> Iterator[None]:
    """PostgreSQL settings for the statements run inside the block, in the current transaction.

    The previous values come back after the block, not at the end of the transaction (as SET LOCAL
    alone would do): the statements that follow in the caller's transaction run as before. If the
    block fails, the rollback of its transaction or savepoint restores them.
    """
    cursor.execute(f"SELECT {', '.join(['current_setting(%s)'] * len(values))}", list(values))
    previous = dict(zip(values, cursor.fetchone(), strict=True))
    for name, value in values.items():
        cursor.execute("SELECT set_config(%s, %s, true)", [name, value])
    yield
    for name, value in previous.items():
        cursor.execute("SELECT set_config(%s, %s, true)", [name, value])


def join_locating(cursor, *, parallel: bool = False):
    """local_settings() for the joins above: their DISTINCT ON sorts hold a row per point, in memory
    rather than on disk; no JIT, as the joins' row estimates are far off and compiling cost more
    than it saved (0.7 s at 100,000 reports).

    `parallel`, for statements that only read (or create a table as they read): the parts are
    shared out among parallel workers whatever the estimates, which are far too low to call for
    them. The part tables ask for workers despite their size (parallel_workers, set by cartography's
    first migration); smaller tables get none, so that a lookup run once per row never starts
    workers each time.
    Temporary tables are never read in parallel: the points must be in an ordinary table. Left in
    the transaction, free workers made each later one-point lookup start two (90 ms).
    """
    values = {"work_mem": "256MB", "jit": "off"}
    if parallel:
        values |= {"parallel_setup_cost": "0", "parallel_tuple_cost": "0"}
    return local_settings(cursor, values)


# Lateral joins rather than scalar subqueries: each lookup runs once, however often its answer is used.
# OFFSET 0 keeps the territory a subquery of its own: pulled up, its expression was copied into the
# filter and the output, and every run initialised the outline lookup twice (FINDINGS.md: locate).
def rules_at_point_sql(point: str, category: str) -> str:
    """(territory_id, district_id, team_id) at the point by the rules, no row outside every territory."""
    return f"""SELECT terr.id AS territory_id, district.district_id,
       {team_sql(point, category, "terr.id")} AS team_id
  FROM (SELECT) here
  LEFT JOIN LATERAL ({district_part_sql(point)}) district ON true
 CROSS JOIN LATERAL (
       SELECT COALESCE(district.territory_id, {territory_outline_sql(point)}) AS id OFFSET 0) terr
 WHERE terr.id IS NOT NULL"""


_POINT_PARAMS = "ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)"
LOCATE_SQL = rules_at_point_sql(_POINT_PARAMS, "%(category_id)s")


def cell_columns(category: str) -> str:
    """The team of the category in the cell c, and whether the cell does not know the category."""
    return f"""CASE WHEN {category} IS NULL THEN c.catch_all_team_id
            ELSE c.team_ids[array_position(c.category_ids, {category})] END AS team_id,
       c.id IS NOT NULL AND {category} IS NOT NULL
           AND array_position(c.category_ids, {category}) IS NULL AS unknown"""


# The fast path: one probe of the locate cells (cartography.models.LocateCell), whose answers are
# the rules above computed once per face. A row per cell holding the point (none: no territory),
# or no row at all if the cells are stale in this transaction (or have no state row).
LOCATE_CELL_SQL = f"""
SELECT c.territory_id, c.district_id, {cell_columns("%(category_id)s::bigint")}
  FROM cartography_locatecellsstate s
  LEFT JOIN cartography_locatecell c
         ON ST_Intersects(c.geom, {_POINT_PARAMS})
 WHERE s.id = 1 AND NOT s.stale
"""


def cell_holding_sql(point: str) -> str:
    """LEFT JOIN of the locate cell (alias c) whose interior holds the point: one at most, as the
    cells do not overlap. None on an edge between cells, which may disagree, nor outside them all:
    cell_edge_sql() tells those apart."""
    return f"LEFT JOIN cartography_locatecell c ON ST_Contains(c.geom, {point})"


def cell_edge_sql(point: str) -> str:
    """Whether the point, held by no cell's interior, lies on a cell's edge (else it is outside
    every territory, if the cells are fresh): the rules must say there, as LOCATE_CELL_SQL's
    disagreeing cells send locate() to them."""
    return f"EXISTS (SELECT FROM cartography_locatecell edge WHERE ST_Intersects(edge.geom, {point}))"


def cells_fresh(cursor) -> bool:
    """Whether the locate cells hold the rules' answers in this transaction."""
    cursor.execute("SELECT true FROM cartography_locatecellsstate WHERE id = 1 AND NOT stale")
    return cursor.fetchone() is not None


@dataclass(frozen=True)
class Location:
    territory_id: int
    district_id: int | None
    team_id: int | None


def cells_answer(cursor, params: dict) -> tuple | None | Literal[False]:
    """The cells' answer at a point (LOCATE_CELL_SQL's parameters): (territory, district, team),
    None outside every territory, or False when the cells cannot say: stale, a category they do
    not know, or a point on the edge of cells that disagree (the rules break those ties)."""
    cursor.execute(LOCATE_CELL_SQL, params)
    rows = cursor.fetchall()
    if not rows or any(unknown for *_, unknown in rows):
        return False
    answers = {row[:3] for row in rows if row[0] is not None}
    if len(answers) > 1:
        return False
    return answers.pop() if answers else None


def locate(*, lon: float, lat: float, category_id: int | None) -> Location | None:
    """Territory, district and responsible team of a point, or None outside every territory."""
    params = {"lon": lon, "lat": lat, "category_id": category_id}
    with connection.cursor() as cursor:
        row = cells_answer(cursor, params)
        if row is False:
            cursor.execute(LOCATE_SQL, params)
            row = cursor.fetchone()
    if row is None:
        return None
    return Location(territory_id=row[0], district_id=row[1], team_id=row[2])
