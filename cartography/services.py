from django.db import connection, transaction

from .selectors import district_sql, team_sql

RELOCATE_SQL = f"""
UPDATE signalements_signalement s
   SET district_id = loc.district_id,
       team_id = CASE WHEN s.team_is_manual THEN s.team_id ELSE loc.team_id END,
       updated_at = statement_timestamp()
  FROM (SELECT x.id,
               {district_sql("x.location", "x.territory_id")} AS district_id,
               {team_sql("x.location", "x.category_id")} AS team_id
          FROM signalements_signalement x
         WHERE %(territory_id)s::bigint IS NULL OR x.territory_id = %(territory_id)s::bigint) loc
 WHERE s.id = loc.id
   AND (s.district_id IS DISTINCT FROM loc.district_id
        OR (NOT s.team_is_manual AND s.team_id IS DISTINCT FROM loc.team_id))
"""


@transaction.atomic
def signalements_relocate(*, territory_id: int | None = None) -> int:
    """Recompute district and team of every report, in one statement, after boundaries or work
    zones changed. Teams chosen by hand are kept. Returns the number of reports that moved."""
    with connection.cursor() as cursor:
        cursor.execute(RELOCATE_SQL, {"territory_id": territory_id})
        return cursor.rowcount
