import statistics
from collections import Counter, defaultdict

from django.contrib.gis.db.models.functions import PointOnSurface
from django.contrib.gis.geos import Point
from django.db import connection, transaction

from signalements.models import Signalement

from .models import District, Place, Territory
from .selectors import district_sql, team_sql

RELOCATE_SQL = f"""
UPDATE signalements_signalement s
   SET district_id = loc.district_id,
       team_id = CASE WHEN s.team_is_manual THEN s.team_id ELSE loc.team_id END,
       updated_at = statement_timestamp()
  FROM (SELECT x.id,
               {district_sql("x.location", territory="x.territory_id")} AS district_id,
               {team_sql("x.location", "x.category_id", "x.territory_id")} AS team_id
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
