import statistics
from collections import Counter, defaultdict

from django.contrib.gis.db.models.functions import PointOnSurface
from django.contrib.gis.geos import Point
from django.db import connection, transaction

from signalements.models import Signalement

from .models import District, Place, Territory
from .selectors import default_team_sql, districts_of_points_sql, set_join_locating, zone_teams_of_points_sql


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
# right is left alone.
RELOCATE_SQL = """
UPDATE signalements_signalement s
   SET district_id = loc.district_id,
       team_id = CASE WHEN s.team_is_manual THEN s.team_id ELSE loc.team_id END,
       updated_at = statement_timestamp()
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
        set_join_locating(cursor, parallel=True)
        cursor.execute(
            relocated_sql(territory_scoped=territory_id is not None), {"territory_id": territory_id}
        )
        cursor.execute(RELOCATE_SQL)
        moved = cursor.rowcount
        cursor.execute("DROP TABLE signalement_relocated")
        return moved


@transaction.atomic
def places_rebuild(*, territory: Territory) -> int:
    """Fill the local geocoder for a territory: every district of every layer, and every street
    named in at least two report addresses (placed at the median of those reports)."""
    from .geocoding import normalize, street_of

    Place.objects.filter(territory=territory, source__in=["districts", "reports"]).delete()
    places: dict[tuple[str, str], Place] = {}
    for district in District.objects.filter(territory=territory).annotate(inner=PointOnSurface("geom")):
        key = (Place.Kind.DISTRICT, normalize(district.name))
        places.setdefault(
            key,
            Place(
                territory=territory,
                kind=key[0],
                name=district.name,
                search_name=key[1],
                point=district.inner,
                source="districts",
            ),
        )
    streets: dict[str, list] = defaultdict(list)
    rows = (
        Signalement.objects.filter(territory=territory)
        .exclude(address="")
        .values_list("address", "location")
        .iterator(chunk_size=5000)
    )
    for address, location in rows:
        street = street_of(address)
        if street:
            streets[normalize(street)].append((street, location.x, location.y))
    for search_name, seen in streets.items():
        if len(seen) < 2 or not search_name:
            continue
        name = Counter(s for s, _, _ in seen).most_common(1)[0][0]
        lon = statistics.median(x for _, x, _ in seen)
        lat = statistics.median(y for _, _, y in seen)
        places.setdefault(
            (Place.Kind.STREET, search_name),
            Place(
                territory=territory,
                kind=Place.Kind.STREET,
                name=name,
                search_name=search_name,
                point=Point(lon, lat, srid=4326),
                source="reports",
            ),
        )
    Place.objects.bulk_create(places.values(), ignore_conflicts=True)
    return len(places)
