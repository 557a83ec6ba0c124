"""The district of each report in a layer other than the locating one (cartography.planning.layers):
the grid (a cell's district when no boundary crosses it, the exact test in border cells) gives the
answer of the exact test for every report, on Liège's real statistical sectors, including reports
on and next to their boundaries."""

import random
from datetime import UTC, datetime

from django.conf import settings
from django.contrib.gis.geos import Point
from django.db import connection

from cartography.models import District
from cartography.planning.layers import CELL_M, located_create
from signalements.models import Category, Signalement

SINCE, UNTIL = datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)

# The exact test of every report against the sectors cut into pieces, as the layer was located
# before the grid: a report on a border goes to the lowest district id.
EXACT_SQL = """
WITH pieces AS MATERIALIZED (
    SELECT d.id AS district_id, ST_Subdivide(ST_Transform(d.geom, %(srid)s), 32) AS geom
      FROM cartography_district d WHERE d.territory_id = %(territory)s AND d.layer = 'sectors'
)
SELECT s.id, min(p.district_id)
  FROM pieces p JOIN signalements_signalement s ON ST_Intersects(p.geom, s.location_metric)
 WHERE s.territory_id = %(territory)s
 GROUP BY s.id
"""


def _points(territory) -> list[tuple[float, float]]:
    """Points spread over the sectors, the vertices of their boundaries (on a border, up to the
    rounding of the transformation), points a few centimetres from them, and cell corners."""
    rng = random.Random(20)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(geom) e "
            "FROM cartography_district WHERE territory_id = %s AND layer = 'sectors') x",
            [territory.pk],
        )
        x0, y0, x1, y1 = cursor.fetchone()
        cursor.execute(
            "SELECT ST_X(p.geom), ST_Y(p.geom) FROM cartography_district d, "
            "ST_DumpPoints(ST_Boundary(d.geom)) p WHERE d.territory_id = %s AND d.layer = 'sectors'",
            [territory.pk],
        )
        vertices = cursor.fetchall()
        # Corners of grid cells near the centre, back in longitude and latitude.
        cursor.execute(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform(ST_SetSRID(ST_MakePoint("
            "  (floor(ST_X(c) / %(size)s) + dx) * %(size)s, (floor(ST_Y(c) / %(size)s) + dy) * %(size)s),"
            "  %(srid)s), 4326) p"
            "  FROM (SELECT ST_Transform(ST_SetSRID(ST_MakePoint(5.5714, 50.6455), 4326), %(srid)s) c) c,"
            "  generate_series(-20, 20, 4) dx, generate_series(-20, 20, 4) dy) corners",
            {"size": CELL_M, "srid": settings.METRIC_SRID},
        )
        corners = cursor.fetchall()
    spread = [(rng.uniform(x0, x1), rng.uniform(y0, y1)) for _ in range(600)]
    on_borders = rng.sample(vertices, 300)
    near_borders = [(x + rng.uniform(-1e-6, 1e-6), y + rng.uniform(-1e-6, 1e-6)) for x, y in on_borders]
    return spread + on_borders + near_borders + corners


def test_the_grid_gives_every_report_the_district_of_the_exact_test(liege):
    category = Category.objects.get(slug="dechets")
    Signalement.objects.bulk_create(
        Signalement(
            territory=liege,
            category=category,
            location=Point(x, y, srid=4326),
            created_at=datetime(2025, 6, 1, tzinfo=UTC),
            channel="web",
            team_is_manual=False,
            description="",
        )
        for x, y in _points(liege)
    )
    sectors = District.objects.filter(territory=liege, layer="sectors").count()
    assert sectors > 100

    with connection.cursor() as cursor:
        located_create(
            cursor, territory=liege, layer="sectors", since=SINCE, until=UNTIL, table="test_located"
        )
        cursor.execute("SELECT id, district_id FROM test_located")
        located = dict(cursor.fetchall())
        cursor.execute("SELECT count(*) FILTER (WHERE border), count(*) FROM test_located_points")
        border, total = cursor.fetchone()
        cursor.execute(EXACT_SQL, {"srid": settings.METRIC_SRID, "territory": liege.pk})
        exact = dict(cursor.fetchall())

    assert located == exact
    # Both ways were taken: cells without a boundary, and border cells tested exactly.
    assert 0 < border < total
    assert len(exact) > 800
