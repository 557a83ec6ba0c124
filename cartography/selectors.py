from dataclasses import dataclass

from django.db import connection

# The locate rules, written once as SQL fragments over a point expression and a category
# expression, so that one report (intake), a bulk load and a set-based relocation share them.
# Every lookup goes through the GiST index of a subdivided table.


def territory_sql(point: str) -> str:
    return f"""(SELECT tp.territory_id FROM cartography_territorypart tp
        WHERE ST_Intersects(tp.geom, {point}) ORDER BY tp.territory_id LIMIT 1)"""


def district_sql(point: str, territory: str) -> str:
    return f"""(SELECT dp.district_id
        FROM cartography_districtpart dp
        JOIN cartography_territory t ON t.id = dp.territory_id AND t.locating_layer = dp.layer
        WHERE dp.territory_id = {territory} AND ST_Intersects(dp.geom, {point})
        ORDER BY dp.district_id LIMIT 1)"""


def team_sql(point: str, category: str, territory: str) -> str:
    """A zone naming the category beats a catch-all zone (one with no category), then the higher
    priority wins, then the smaller zone; with no zone, the category's default team, if it serves
    this territory (several cities may share one installation and its categories)."""
    return f"""COALESCE(
        (SELECT wz.team_id
           FROM cartography_workzonepart wp
           JOIN cartography_workzone wz ON wz.id = wp.work_zone_id
           JOIN cartography_team team ON team.id = wz.team_id AND team.is_active
           LEFT JOIN cartography_workzone_categories wc
                  ON wc.workzone_id = wz.id AND wc.category_id = {category}
          WHERE ST_Intersects(wp.geom, {point})
            AND (wc.id IS NOT NULL OR NOT EXISTS (
                    SELECT 1 FROM cartography_workzone_categories any_wc WHERE any_wc.workzone_id = wz.id))
          ORDER BY (wc.id IS NULL), wz.priority DESC, wp.area, wz.id
          LIMIT 1),
        (SELECT c.default_team_id
           FROM signalements_category c
           JOIN cartography_team team ON team.id = c.default_team_id AND team.is_active
                AND (team.territory_id IS NULL OR team.territory_id = {territory})
          WHERE c.id = {category}))"""


LOCATE_SQL = f"""
WITH pt AS (SELECT ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) AS geom),
terr AS (SELECT {territory_sql("pt.geom")} AS id FROM pt)
SELECT terr.id, {district_sql("pt.geom", "terr.id")}, {team_sql("pt.geom", "%(category_id)s", "terr.id")}
FROM pt, terr
WHERE terr.id IS NOT NULL
"""


@dataclass(frozen=True)
class Location:
    territory_id: int
    district_id: int | None
    team_id: int | None


def locate(*, lon: float, lat: float, category_id: int | None) -> Location | None:
    """Territory, district and responsible team of a point, or None outside every territory."""
    with connection.cursor() as cursor:
        cursor.execute(LOCATE_SQL, {"lon": lon, "lat": lat, "category_id": category_id})
        row = cursor.fetchone()
    if row is None:
        return None
    return Location(territory_id=row[0], district_id=row[1], team_id=row[2])
