"""Duplicates are not hotspots (issue 20, item 5): a proposed duplicate group stays within its
category's time window and radius of its first report, however long the chain of reports."""

from datetime import timedelta

from django.conf import settings
from django.contrib.gis.geos import Point
from django.utils import timezone
from pyproj import Transformer

from signalements.desk.duplicates import duplicate_groups_propose
from signalements.models import Category, DuplicateGroup
from tests.conftest import PLACE_SAINT_LAMBERT
from tests.factories import SignalementFactory


def along(metres_east: float, metres_north: float = 0) -> Point:
    """A point `metres_east` east of Place Saint-Lambert, in the metric SRID's metres."""
    to_metric = Transformer.from_crs(4326, settings.METRIC_SRID, always_xy=True)
    to_wgs84 = Transformer.from_crs(settings.METRIC_SRID, 4326, always_xy=True)
    x, y = to_metric.transform(*PLACE_SAINT_LAMBERT)
    return Point(*to_wgs84.transform(x + metres_east, y + metres_north), srid=4326)


def assert_bounded(category: Category) -> list[list]:
    groups = []
    for group in DuplicateGroup.objects.filter(category=category):
        members = list(group.members.order_by("created_at", "id"))
        first = members[0]
        for member in members[1:]:
            assert member.created_at - first.created_at <= timedelta(days=category.duplicate_window_days)
            assert member.location_metric.distance(first.location_metric) <= category.duplicate_radius_m
        groups.append(members)
    return groups


def test_reports_every_35_metres_along_a_street_make_short_groups_not_one_chain(liege):
    dechets = Category.objects.get(slug="dechets")  # 40 m, 7 days
    now = timezone.now()
    reports = [
        SignalementFactory(category=dechets, location=along(35 * i), created_at=now - timedelta(hours=12 - i))
        for i in range(12)
    ]
    # Single linkage chained all twelve (each within 40 m of the next) into one 385 m group.
    assert duplicate_groups_propose() == 6
    groups = assert_bounded(dechets)
    assert [[r.pk for r in group] for group in groups] == sorted(
        [[reports[i].pk, reports[i + 1].pk] for i in range(0, 12, 2)]
    )


def test_reports_at_one_place_every_five_days_make_groups_within_the_window(liege):
    dechets = Category.objects.get(slug="dechets")  # 7 days
    now = timezone.now()
    for i in range(8):
        SignalementFactory(
            category=dechets, location=along(2 * i), created_at=now - timedelta(days=5 * (8 - i))
        )
    # The rolling gap chained them into one group spanning 35 days.
    assert duplicate_groups_propose() == 4
    groups = assert_bounded(dechets)
    assert sorted(len(group) for group in groups) == [2, 2, 2, 2]


def test_a_group_gathers_every_report_close_to_its_first_one(liege):
    dechets = Category.objects.get(slug="dechets")
    now = timezone.now()
    first = SignalementFactory(category=dechets, location=along(0), created_at=now - timedelta(days=3))
    near = [
        SignalementFactory(category=dechets, location=along(30, 10), created_at=now - timedelta(days=2)),
        SignalementFactory(category=dechets, location=along(-20, -25), created_at=now - timedelta(days=1)),
        SignalementFactory(category=dechets, location=along(5), created_at=now),
    ]
    assert duplicate_groups_propose() == 1
    (group,) = assert_bounded(dechets)
    assert [r.pk for r in group] == [first.pk, *(r.pk for r in near)]
