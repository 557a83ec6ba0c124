"""What cartography knows of the tables that hold located points: only what they register here.

Cartography answers where points fall; the apps that store points write their own tables. An app
registers, at start-up (its AppConfig.ready), a relocator (called when a territory's boundaries or
work zones changed: it locates that territory's points again and returns how many moved) and an
address source (the addresses its points carry, which feed the local geocoder's street names)."""

from collections.abc import Callable, Iterable, Iterator

from django.contrib.gis.geos import Point

Relocator = Callable[..., int]  # relocator(*, territory_id: int | None) -> int
AddressSource = Callable[[int], Iterable[tuple[str, Point]]]

_relocators: dict[str, Relocator] = {}
_address_sources: dict[str, AddressSource] = {}


def relocator_register(name: str, relocator: Relocator) -> None:
    """`relocator(territory_id=…)` locates the territory's points again (None: every territory)."""
    _relocators[name] = relocator


def address_source_register(name: str, source: AddressSource) -> None:
    """`source(territory_id)` yields (address, point) pairs of the territory's located points."""
    _address_sources[name] = source


def points_relocate(*, territory_id: int | None) -> int:
    """Run every registered relocator; the number of points that moved, over all tables."""
    return sum(relocator(territory_id=territory_id) for relocator in _relocators.values())


def addresses_of(territory_id: int) -> Iterator[tuple[str, Point]]:
    for source in _address_sources.values():
        yield from source(territory_id)
