"""The district of each report in any district layer, in SQL. The territory's locating layer is
stored on each report (`Signalement.district`); another layer is found by point-in-polygon on the
metric copy of the location, against the layer's districts cut into small pieces (ST_Subdivide).
A report on a border goes to one district only (the lowest id of those its point intersects).

Testing a million points against the pieces one by one is the cost (8.5 s at a million reports
through the reports' GiST index, fetching every point from the table). Most points are far from
any boundary, so the layer is first laid on a grid of CELL_M cells (`grid_create`):

- a cell that no district boundary crosses lies wholly in the same districts (or in none): its
  district is the one its centre is in, by the same rule, and every point of the cell gets it;
- a border cell (a boundary within it) leaves its points to the exact test (`exact_sql`), against
  the pieces whose bounding box covers the cell only, in the order of the pieces, so that PostGIS
  tests each piece's points one after the other with its cached prepared geometry.

Border cells: the boundaries are cut into segments of at most CELL_M / 2, and the cells within one
cell of every vertex are border cells. Each boundary point is within CELL_M / 2 of a vertex, so a
boundary point in a cell (or within CELL_M / 4 of it, more than the rounding of a point's cell) puts
a vertex in that cell's 3 × 3 neighbourhood: a cell that is not marked has no boundary in it.
The answer is the exact test's for every point (tests/planning/test_planning_layers.py compares them).
"""

from datetime import datetime

from django.conf import settings

from cartography.models import Territory

CELL_M = 25


def cell_sql(x: str, y: str) -> tuple[str, str]:
    """The column and row of the grid cell of the metric coordinates `x`, `y` (SQL expressions)."""
    return f"floor({x} / {CELL_M})::int", f"floor({y} / {CELL_M})::int"


def grid_create(cursor, *, territory: Territory, layer: str, prefix: str) -> None:
    """Temporary tables, dropped at commit, for the districts of `layer`: `{prefix}_pieces`
    (piece_id, district_id, geom), `{prefix}_piece_cells` (piece_id, district_id, cx, cy: the cells
    each piece's bounding box covers) and `{prefix}_cells` (cx, cy, border, district_id: the district
    of a cell without a boundary, null for a border cell or a cell outside the layer)."""
    params = {"srid": settings.METRIC_SRID, "territory": territory.pk, "layer": layer, "size": CELL_M}
    cursor.execute(f"DROP TABLE IF EXISTS {prefix}_pieces, {prefix}_piece_cells, {prefix}_cells")
    cursor.execute(
        f"""CREATE TEMP TABLE {prefix}_pieces ON COMMIT DROP AS
            SELECT row_number() OVER () AS piece_id, district_id, geom
              FROM (SELECT d.id AS district_id, ST_Subdivide(ST_Transform(d.geom, %(srid)s), 32) AS geom
                      FROM cartography_district d
                     WHERE d.territory_id = %(territory)s AND d.layer = %(layer)s) pieces""",
        params,
    )
    x0, y0 = cell_sql("ST_XMin(p.geom)", "ST_YMin(p.geom)")
    x1, y1 = cell_sql("ST_XMax(p.geom)", "ST_YMax(p.geom)")
    cursor.execute(
        f"""CREATE TEMP TABLE {prefix}_piece_cells ON COMMIT DROP AS
            SELECT p.piece_id, p.district_id, cx, cy
              FROM {prefix}_pieces p, generate_series({x0}, {x1}) cx, generate_series({y0}, {y1}) cy"""
    )
    vx, vy = cell_sql("ST_X(v.geom)", "ST_Y(v.geom)")
    # The centre test runs after the sort by piece (OFFSET 0 keeps the subquery's order below it).
    cursor.execute(
        f"""CREATE TEMP TABLE {prefix}_cells ON COMMIT DROP AS
            WITH border AS (
                SELECT DISTINCT {vx} + dx AS cx, {vy} + dy AS cy
                  FROM cartography_district d,
                       ST_DumpPoints(ST_Segmentize(
                           ST_Boundary(ST_Transform(d.geom, %(srid)s)), %(size)s / 2.0)) v,
                       generate_series(-1, 1) dx, generate_series(-1, 1) dy
                 WHERE d.territory_id = %(territory)s AND d.layer = %(layer)s
            )
            SELECT cx, cy, border, min(district_id) FILTER (WHERE inside) AS district_id
              FROM (SELECT cx, cy, border, district_id,
                           NOT border AND ST_Intersects(geom, ST_SetSRID(ST_MakePoint(
                               (cx + 0.5) * %(size)s, (cy + 0.5) * %(size)s), %(srid)s)) AS inside
                      FROM (SELECT pc.cx, pc.cy, pc.district_id, p.geom, b.cx IS NOT NULL AS border
                              FROM {prefix}_piece_cells pc
                              JOIN {prefix}_pieces p ON p.piece_id = pc.piece_id
                              LEFT JOIN border b ON b.cx = pc.cx AND b.cy = pc.cy
                             ORDER BY pc.piece_id OFFSET 0) candidates
                    OFFSET 0) tested
             GROUP BY cx, cy, border""",
        params,
    )
    cursor.execute(f"ANALYZE {prefix}_piece_cells; ANALYZE {prefix}_cells")


def exact_sql(*, points: str, where: str, prefix: str) -> str:
    """SQL for (id, district_id) of the rows of `points` (with id, cx, cy and the metric x, y) that
    satisfy `where` (their cell is a border cell), by the exact test against the pieces of the grid
    `prefix` (made by `grid_create`); a point in no district has no row."""
    srid = int(settings.METRIC_SRID)
    # Sorted by piece before the pieces' outlines join them (a sort of the outlines spilled 300 MB).
    return f"""
        SELECT c.id, min(c.district_id) AS district_id
          FROM (SELECT r.id, r.x, r.y, pc.piece_id, pc.district_id
                  FROM {points} r JOIN {prefix}_piece_cells pc ON pc.cx = r.cx AND pc.cy = r.cy
                 WHERE {where}
                 ORDER BY pc.piece_id OFFSET 0) c
          JOIN {prefix}_pieces p ON p.piece_id = c.piece_id
         WHERE ST_Intersects(p.geom, ST_SetSRID(ST_MakePoint(c.x, c.y), {srid}))
         GROUP BY c.id"""


def located_create(
    cursor, *, territory: Territory, layer: str, since: datetime, until: datetime, table: str
) -> None:
    """A temporary table `table` (id, district_id), dropped at commit, of the territory's reports
    created in [since, until) that lie in a district of `layer`."""
    grid_create(cursor, territory=territory, layer=layer, prefix=table)
    cx, cy = cell_sql("ST_X(s.location_metric)", "ST_Y(s.location_metric)")
    cursor.execute(f"DROP TABLE IF EXISTS {table}, {table}_points")
    cursor.execute(
        f"""CREATE TEMP TABLE {table}_points ON COMMIT DROP AS
            SELECT s.id, c.cx, c.cy, ST_X(s.location_metric) AS x, ST_Y(s.location_metric) AS y,
                   c.border, c.district_id
              FROM signalements_signalement s
              JOIN {table}_cells c ON c.cx = {cx} AND c.cy = {cy}
             WHERE s.territory_id = %(territory)s
               AND s.created_at >= %(since)s AND s.created_at < %(until)s""",
        {"territory": territory.pk, "since": since, "until": until},
    )
    cursor.execute(
        f"""CREATE TEMP TABLE {table} ON COMMIT DROP AS
            SELECT id, district_id FROM {table}_points WHERE NOT border AND district_id IS NOT NULL
            UNION ALL
            {exact_sql(points=f"{table}_points", where="r.border", prefix=table)}"""
    )
    cursor.execute(f"ANALYZE {table}")


def district_join_sql(*, territory: Territory, layer: str, located: str, report: str) -> tuple[str, str]:
    """The join and the expression giving the district of the row `report` (an alias with `id` and
    `district_id`) in `layer`: the stored district for the locating layer, else the row of `located`
    (made by `located_create`)."""
    if layer == territory.locating_layer:
        return "", f"{report}.district_id"
    return f"JOIN {located} located ON located.id = {report}.id", "located.district_id"
