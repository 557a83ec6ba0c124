from datetime import UTC, datetime

import factory
from django.contrib.gis.geos import Point
from django.db import connection

from cartography.models import District
from cartography.selectors import locate
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
