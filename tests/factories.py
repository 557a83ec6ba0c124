from datetime import UTC, datetime

import factory
from django.contrib.gis.geos import Point

from cartography.selectors import locate
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
