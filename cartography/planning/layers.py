"""The district of each report in any district layer, in SQL. The territory's locating layer is
stored on each report (`Signalement.district`); another layer is found by point-in-polygon on the
metric copy of the location, from the layer's districts cut into small pieces (ST_Subdivide, so that
each test reads few vertices) to the reports' GiST index. A report on a border goes to one district
only (the lowest id)."""

from datetime import datetime

from django.conf import settings

from cartography.models import Territory


def located_create(
    cursor, *, territory: Territory, layer: str, since: datetime, until: datetime, table: str
) -> None:
    """A temporary table `table` (id, district_id), dropped at commit, of the territory's reports
    created in [since, until) that lie in a district of `layer`."""
    pieces = f"{table}_pieces"
    cursor.execute(f"DROP TABLE IF EXISTS {table}, {pieces}")
    cursor.execute(
        f"""CREATE TEMP TABLE {pieces} ON COMMIT DROP AS
            SELECT d.id AS district_id, ST_Subdivide(ST_Transform(d.geom, %(srid)s), 32) AS geom
              FROM cartography_district d WHERE d.territory_id = %(territory)s AND d.layer = %(layer)s""",
        {"srid": settings.METRIC_SRID, "territory": territory.pk, "layer": layer},
    )
    cursor.execute(f"ANALYZE {pieces}")
    cursor.execute(
        f"""CREATE TEMP TABLE {table} ON COMMIT DROP AS
            SELECT s.id, min(p.district_id) AS district_id
              FROM {pieces} p
              JOIN signalements_signalement s ON ST_Intersects(p.geom, s.location_metric)
             WHERE s.territory_id = %(territory)s AND s.created_at >= %(since)s AND s.created_at < %(until)s
             GROUP BY s.id""",
        {"territory": territory.pk, "since": since, "until": until},
    )
    cursor.execute(f"ANALYZE {table}")


def district_join_sql(*, territory: Territory, layer: str, located: str, report: str) -> tuple[str, str]:
    """The join and the expression giving the district of the row `report` (an alias with `id` and
    `district_id`) in `layer`: the stored district for the locating layer, else the row of `located`
    (made by `located_create`)."""
    if layer == territory.locating_layer:
        return "", f"{report}.district_id"
    return f"JOIN {located} located ON located.id = {report}.id", "located.district_id"
