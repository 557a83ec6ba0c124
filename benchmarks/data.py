"""Benchmark inputs: the loaded city's territory, random points inside it, synthetic reports."""

from datetime import UTC, datetime, timedelta

import numpy as np
import shapely
from django.conf import settings

from cartography.models import Territory
from signalements.bulk import BulkRow
from signalements.management.commands.load_demo import synthetic_rows
from signalements.models import Category
from signalements.synthetic import generate

SEED = 62063
YEARS = 3


def territory_get() -> Territory:
    """The one territory `load_demo` loaded into the benchmark database."""
    return Territory.objects.get()


def territory_area(territory: Territory) -> shapely.Geometry:
    return shapely.from_wkb(bytes(territory.geom.wkb))


def random_points(territory: Territory, count: int, *, seed: int) -> list[tuple[float, float]]:
    """`count` (lon, lat) points drawn uniformly inside the territory."""
    rng = np.random.default_rng(seed)
    area = territory_area(territory)
    shapely.prepare(area)
    minx, miny, maxx, maxy = area.bounds
    points: list[tuple[float, float]] = []
    while len(points) < count:
        xs, ys = rng.uniform(minx, maxx, count), rng.uniform(miny, maxy, count)
        inside = shapely.contains_xy(area, xs, ys)
        points.extend(zip(xs[inside].tolist(), ys[inside].tolist(), strict=True))
    return points[:count]


def synthetic_reports(territory: Territory, count: int) -> list[BulkRow]:
    """`count` realistic reports over the last three years (to today, midnight UTC), fixed seed."""
    end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    batch = generate(
        area_wgs84=territory_area(territory),
        metric_srid=settings.METRIC_SRID,
        count=count,
        start=end - timedelta(days=365 * YEARS),
        end=end,
        categories=list(Category.objects.values_list("slug", flat=True)),
        now=end,
        seed=SEED,
    )
    return synthetic_rows(batch)
