from datetime import UTC, datetime

import factory
from django.contrib.gis.geos import Point
from django.db import connection

from cartography.models import District
from cartography.selectors import LOCATE_SQL, Location, cells_answer, locate
from cartography.services import locate_cells_build_pending
from signalements.models import Category, Signalement

from .conftest import PLACE_SAINT_LAMBERT


class SignalementFactory(factory.django.DjangoModelFactory):
    """A stored report, located by the real locate query like intake does."""

    class Meta:
        model = Signalement

    category = factory.LazyFunction(lambda: Category.objects.get(slug="dechets"))
    location = factory.LazyFunction(lambda: Point(*PLACE_SAINT_LAMBERT, srid=4326))
    created_at = factory.LazyFunction(lambda: datetime.now(UTC))
    channel = "web"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        located = locate(
            lon=kwargs["location"].x, lat=kwargs["location"].y, category_id=kwargs["category"].pk
        )
        kwargs.setdefault("territory_id", located.territory_id)
        kwargs.setdefault("district_id", located.district_id)
        kwargs.setdefault("team_id", located.team_id)
        return super()._create(model_class, *args, **kwargs)


def locate_cells_build() -> None:
    """Build the locate cells as the commit of the test's edits would (the deferred trigger)."""
    with connection.cursor() as cursor:
        locate_cells_build_pending(cursor)


def located_by_rules(params: dict) -> Location | None:
    """The rules' answer at a point (locate()'s parameters), whatever the cells say."""
    with connection.cursor() as cursor:
        cursor.execute(LOCATE_SQL, params)
        row = cursor.fetchone()
    return None if row is None else Location(*row)


def located_by_cells(params: dict) -> Location | None | bool:
    """The cells' answer at a point: False where they cannot say (cartography.selectors.cells_answer)."""
    with connection.cursor() as cursor:
        answer = cells_answer(cursor, params)
    return answer if answer in (None, False) else Location(*answer)


def cells_and_rules_compared(extent, category_ids: list, *, side: int) -> tuple[int, int]:
    """Assert that on a side x side grid over `extent` and a little beyond its edge, cycling
    through `category_ids`, the cells answer as the rules do. How many points were compared, and
    how many of them lay outside every territory."""
    xmin, ymin, xmax, ymax = extent
    compared = outside = 0
    for i in range(side):
        for j in range(side):
            lon = xmin - 0.01 + (xmax - xmin + 0.02) * (i + 0.5) / side
            lat = ymin - 0.01 + (ymax - ymin + 0.02) * (j + 0.5) / side
            params = {"lon": lon, "lat": lat, "category_id": category_ids[(i * side + j) % len(category_ids)]}
            expected = located_by_rules(params)
            assert located_by_cells(params) == expected, params
            compared += 1
            outside += expected is None
    return compared, outside


def cells_build_breaks() -> str:
    """Make the cells' build fail, in the test's transaction; returns the definition to restore."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_functiondef('cartography_locatecells_rebuild'::regproc)")
        definition = cursor.fetchone()[0]
        cursor.execute(
            "CREATE OR REPLACE FUNCTION cartography_locatecells_rebuild(territories bigint[]) RETURNS void"
            " LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'broken geometry'; END $$"
        )
    return definition


def district_border_point(territory) -> tuple[float, float, int]:
    """A point on the border of two of the territory's districts, and the lower of their ids (the
    one the rules choose there)."""
    districts = list(District.objects.filter(territory=territory, layer="districts").order_by("pk"))
    for first in districts:
        for second in districts:
            if second.pk > first.pk and second.geom.touches(first.geom):
                border = first.geom.boundary.intersection(second.geom.boundary)
                lon, lat = border.coords if border.geom_type == "Point" else border.coords[0][0]
                return lon, lat, first.pk
    raise AssertionError("no two districts touch")
