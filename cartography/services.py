import logging
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.gis.db.models.functions import PointOnSurface
from django.contrib.gis.geos import Point
from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.db.models.functions import Greatest, Now

from config.celery import app as celery_app
from config.celery import delay_or_leave_for_sweep

from .addresses import AddressRow
from .located import addresses_of, points_relocate
from .models import District, Place, Territory
from .selectors import (
    cells_fresh,
)


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
    for address, location in addresses_of(territory.pk):
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


ADDRESS_SOURCE = "addresses"


@dataclass(frozen=True)
class AddressImport:
    streets: int
    addresses: int
    outside: int


@transaction.atomic
def places_import_addresses(
    *, territory: Territory, rows: Iterable[AddressRow], numbers: bool = False
) -> AddressImport:
    """Replace a territory's places from an address register: one place per street, at the address
    nearest the middle of its addresses (a point on the street, even a curved one), and with
    `numbers` one per address. Rows outside the territory are skipped. Idempotent: a second run
    replaces the first. The rows are read inside the transaction, so a bad row raised by the reader
    leaves nothing written."""
    from .geocoding import normalize

    boundary = territory.geom.prepared
    streets: dict[tuple[str, str], list[AddressRow]] = defaultdict(list)
    outside = 0
    for row in rows:
        if not boundary.contains(Point(row.lon, row.lat, srid=4326)):
            outside += 1
            continue
        streets[(normalize(row.street), row.postcode)].append(row)
    postcodes_of: dict[str, int] = Counter(name for name, _ in streets)
    places: dict[tuple[str, str], Place] = {}

    def place_add(kind: str, label: str, lon: float, lat: float) -> None:
        search_name = normalize(label)
        places.setdefault(
            (kind, search_name),
            Place(
                territory=territory,
                kind=kind,
                name=label,
                search_name=search_name,
                point=Point(lon, lat, srid=4326),
                source=ADDRESS_SOURCE,
            ),
        )

    for (name, postcode), seen in streets.items():
        first = seen[0]
        # The same street name in two merged municipalities: say which one.
        label = (
            first.street if postcodes_of[name] == 1 else f"{first.street}, {postcode} {first.city}".strip()
        )
        mid_lon = statistics.median(r.lon for r in seen)
        mid_lat = statistics.median(r.lat for r in seen)
        middle = min(seen, key=lambda r: (r.lon - mid_lon) ** 2 + (r.lat - mid_lat) ** 2)
        place_add(Place.Kind.STREET, label, middle.lon, middle.lat)
        if numbers:
            for row in seen:
                if row.number:
                    address = (
                        f"{label} {row.number}"
                        if postcodes_of[name] == 1
                        else (f"{first.street} {row.number}, {postcode} {first.city}".strip())
                    )
                    place_add(Place.Kind.ADDRESS, address, row.lon, row.lat)
    Place.objects.filter(territory=territory, source=ADDRESS_SOURCE).delete()
    # The register is better than streets guessed from report addresses: it replaces them.
    Place.objects.filter(
        territory=territory,
        kind=Place.Kind.STREET,
        search_name__in=[k[1] for k in places if k[0] == "street"],
    ).delete()
    Place.objects.bulk_create(places.values(), batch_size=5000)
    counts = Counter(kind for kind, _ in places)
    return AddressImport(
        streets=counts[Place.Kind.STREET], addresses=counts[Place.Kind.ADDRESS], outside=outside
    )


logger = logging.getLogger(__name__)

# Relocation requests. A boundary or work zone edit marks its territory (relocation_requested_at) in
# its own transaction, and hands the relocation to Celery once committed. A broker outage loses
# nothing: the mark stays until a relocation that started after it has run, and a periodic sweep
# relocates the territories still marked.


def relocation_request(*, territory_ids: Iterable[int]) -> None:
    """Record, in the current transaction, that the reports of these territories must be located
    again; once the transaction commits, enqueue the relocation of each.

    Each request gives the mark a new value, later than the one it replaces (even within one
    microsecond), so that a relocation clears only the request it read before it started."""
    ids = sorted(set(territory_ids))
    if not ids:
        return
    Territory.objects.filter(pk__in=ids).update(
        relocation_requested_at=Greatest(Now(), F("relocation_requested_at") + timedelta(microseconds=1))
    )
    for territory_id in ids:
        transaction.on_commit(lambda territory_id=territory_id: relocation_enqueue(territory_id))


def relocation_enqueue(territory_id: int) -> None:
    """Hand a requested relocation to Celery. A broker outage must not fail the edit that asked for
    it: the territory stays marked and the periodic sweep relocates it."""
    delay_or_leave_for_sweep(
        celery_app.signature("cartography.tasks.relocate_signalements"),
        territory_id,
        what=f"relocation of territory {territory_id}",
        logger=logger,
    )


# Two relocations of one territory take turns on this lock (transaction-scoped), so that the second
# one reads the mark as the first one left it.
_LOCK = "SELECT {}(hashtext('cartography.territory_relocate'), %s::integer)"


def territory_relocate(*, territory_id: int, requested_only: bool = False, wait: bool = True) -> int | None:
    """Locate again every report of a territory, and settle the relocation request this covers.

    The mark is read before the relocation statement starts, so the edit that set it is committed
    and seen by that statement; it is cleared only if it still has the value read. An edit committed
    while the relocation runs has given it a new value: it stays for the next relocation.

    Returns the number of reports moved, or None when nothing ran: no request pending
    (`requested_only`), or, without `wait`, another relocation of the territory running now (it
    leaves the mark if it did not cover it). Called inside a transaction that edited boundaries (an
    import), the relocation sees those edits and is committed with them. Relies on READ COMMITTED
    (PostgreSQL's and Django's default): each statement sees what was committed before it began."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            _LOCK.format("pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock"), [territory_id]
        )
        if not wait and not cursor.fetchone()[0]:
            return None
        requested_at = (
            Territory.objects.filter(pk=territory_id)
            .values_list("relocation_requested_at", flat=True)
            .first()
        )
        if requested_only and requested_at is None:
            return None
        moved = points_relocate(territory_id=territory_id)
        if requested_at is not None:
            Territory.objects.filter(pk=territory_id, relocation_requested_at=requested_at).update(
                relocation_requested_at=None
            )
        return moved


def relocations_run(*, territory_id: int | None = None, wait: bool = True) -> int:
    """Relocate each territory whose request is pending (only this one if given); returns the
    number of reports moved. One territory's failure is logged and leaves its mark for the next
    sweep; the others still run."""
    pending = Territory.objects.filter(relocation_requested_at__isnull=False)
    if territory_id is not None:
        pending = pending.filter(pk=territory_id)
    moved = 0
    for pk in pending.order_by("pk").values_list("pk", flat=True):
        try:
            moved += territory_relocate(territory_id=pk, requested_only=True, wait=wait) or 0
        except DatabaseError:
            logger.exception("relocation of territory %s failed, left for the sweep", pk)
    return moved


# The locate cells are built at the commit of each edit (cartography.database). A build that
# failed left them stale, and locating reads the rules until the next edit: this builds them again
# at once, for the territories the failed build covered (every territory with `force`).
_CELLS_MARK_SQL = """
INSERT INTO cartography_locatecellsstate AS s (id, stale, everywhere, territory_ids)
VALUES (1, true, true, '{}')
ON CONFLICT (id) DO UPDATE SET stale = true, everywhere = s.everywhere OR %(force)s
 WHERE %(force)s OR s.stale
"""


def locate_cells_build_pending(cursor) -> None:
    """Run now the build that this transaction's commit would run (the deferred trigger), if any."""
    cursor.execute("SET CONSTRAINTS locatecells_refresh IMMEDIATE")
    cursor.execute("SET CONSTRAINTS locatecells_refresh DEFERRED")


def locate_cells_refresh(*, force: bool = False) -> bool:
    """Build the locate cells if they are stale (always, with `force`), now rather than at commit;
    True if they are fresh afterwards. A failed build is logged by the database and returns False."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_CELLS_MARK_SQL, {"force": force})
        locate_cells_build_pending(cursor)
        return cells_fresh(cursor)
