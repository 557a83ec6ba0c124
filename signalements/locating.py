"""Where the reports are: locating them again after a boundary or work zone changed, and the
addresses they carry for the local geocoder. Cartography's rules say where points fall
(cartography.selectors); this module writes the reports' table with them, and registers itself with
cartography (cartography.located) when the app starts."""

from django.db import connection, transaction

from cartography.selectors import (
    default_team_sql,
    districts_of_points_sql,
    join_locating,
    zone_teams_of_points_sql,
)

from .models import Signalement


def relocated_sql(*, territory_scoped: bool) -> str:
    """CREATE TABLE … AS of the reports whose district or team the current boundaries change."""
    in_territory = "r.territory_id = %(territory_id)s" if territory_scoped else "true"
    reports = {"points": "signalements_signalement", "point": "location", "metric": "location_metric"}
    return f"""
CREATE UNLOGGED TABLE signalement_relocated AS
WITH district_of AS MATERIALIZED (
    {districts_of_points_sql(**reports, where=f"r.territory_id = dp.territory_id AND {in_territory}")}
),
zone_team_of AS MATERIALIZED (
    {zone_teams_of_points_sql(**reports, category="r.category_id", where=in_territory)}
),
located AS (
    SELECT r.id, r.district_id AS was_district_id, r.team_id AS was_team_id, r.team_is_manual, d.district_id,
           COALESCE(z.team_id, {default_team_sql("r.category_id", "r.territory_id")}) AS team_id
      FROM signalements_signalement r
      LEFT JOIN district_of d ON d.id = r.id
      LEFT JOIN zone_team_of z ON z.id = r.id
     WHERE {in_territory}
)
SELECT id, district_id, team_id FROM located
 WHERE was_district_id IS DISTINCT FROM district_id
    OR (NOT team_is_manual AND was_team_id IS DISTINCT FROM team_id)
"""


# The rows are read again as they are now: a team chosen by hand since keeps it, and a row already
# right is left alone. `updated_at` is kept: it is the report's last change by a person, and says
# when a report was resolved ("resolved in the last N days" on the public map, its fading with age,
# the retention of closed reports); an edit of the boundaries changes none of that.
RELOCATE_SQL = """
UPDATE signalements_signalement s
   SET district_id = loc.district_id,
       team_id = CASE WHEN s.team_is_manual THEN s.team_id ELSE loc.team_id END
  FROM signalement_relocated loc
 WHERE s.id = loc.id
   AND (s.district_id IS DISTINCT FROM loc.district_id
        OR (NOT s.team_is_manual AND s.team_id IS DISTINCT FROM loc.team_id))
"""


@transaction.atomic
def signalements_relocate(*, territory_id: int | None = None) -> int:
    """Recompute district and team of every report, set-based, after boundaries or work zones
    changed. Teams chosen by hand are kept. Returns the number of reports that moved.

    What moves is found by a statement that only reads, so that parallel workers share the parts
    out (an UPDATE is never parallel), then one UPDATE writes it. Relocations take turns.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('signalements_relocate'))")
        with join_locating(cursor, parallel=True):
            cursor.execute(
                relocated_sql(territory_scoped=territory_id is not None), {"territory_id": territory_id}
            )
            cursor.execute(RELOCATE_SQL)
            moved = cursor.rowcount
        cursor.execute("DROP TABLE signalement_relocated")
        return moved


def report_addresses(territory_id: int):
    """(address, point) of the territory's reports that carry an address."""
    return (
        Signalement.objects.filter(territory_id=territory_id)
        .exclude(address="")
        .values_list("address", "location")
        .iterator(chunk_size=5000)
    )
