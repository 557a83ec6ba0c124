"""The public map's district counts come from a table of monthly counts kept by triggers
(cartography.publicmap.database) plus the filters' partial months read from the reports: they must equal
an exact count of the reports, after inserts, changes of status, of dates and of district, deletions."""

import random
from datetime import timedelta

import mapbox_vector_tile
import pytest
from django.db.models import Count, Q
from django.utils import timezone

from cartography.models import District
from cartography.publicmap import selectors
from cartography.publicmap.filters import map_filters
from cartography.publicmap.selectors import CELLS_FROM, POINTS_FROM, district_counts, tile_mvt
from signalements.models import Category, Signalement
from tests.factories import SignalementFactory
from tests.publicmap.test_publicmap import tile_of

pytestmark = pytest.mark.django_db

FILTERS = [
    {},
    {"status": ["open", "in_progress", "resolved"], "resolved_days": 3650},
    {"status": ["resolved"], "resolved_days": 1},
    {"status": ["resolved"], "resolved_days": 45},
    {"status": ["open"], "period": 30},
    {"status": ["in_progress", "resolved"], "resolved_days": 400, "period": 365},
    {"period": 7},
    {"resolved_days": 90, "period": 90},
]
STATUSES = ["new", "acknowledged", "planned", "in_progress", "resolved", "closed", "rejected", "duplicate"]


@pytest.fixture(autouse=True)
def fresh_at_once(settings):
    settings.PUBLIC_MAP_FRESHNESS_SECONDS = 0
    settings.PUBLIC_MAP_CACHE_SECONDS = 0


def exact(filters) -> dict[int, int]:
    rows = Signalement.objects.filter(category_id__in=filters.category_ids, district__isnull=False).filter(
        Q(status__in=filters.open_statuses)
        | Q(status__in=filters.resolved_statuses, updated_at__gte=filters.resolved_since)
    )
    if filters.created_since is not None:
        rows = rows.filter(created_at__gte=filters.created_since)
    if filters.district_id is not None:
        rows = rows.filter(district_id=filters.district_id)
    return dict(rows.values_list("district_id").annotate(n=Count("id")).values_list("district_id", "n"))


def every_filter(categories, district):
    for view in FILTERS:
        yield map_filters(**view)
        yield map_filters(**view, category=categories[0])
        yield map_filters(**view, group=categories[1].group)
        if district is not None:
            yield map_filters(**view, district=district)


def assert_exact(categories, district):
    for filters in every_filter(categories, district):
        assert district_counts(filters, token=str(random.random())) == exact(filters), filters.key


def test_district_counts_stay_exact_through_inserts_changes_and_deletions(liege):
    rng = random.Random(7)
    categories = list(Category.objects.order_by("id"))
    now = timezone.now()
    made = []
    for index in range(60):
        created = now - timedelta(days=rng.randint(0, 500), hours=rng.randint(0, 23))
        report = SignalementFactory(
            category=categories[index % len(categories)],
            status=STATUSES[index % len(STATUSES)],
            created_at=created,
        )
        Signalement.objects.filter(pk=report.pk).update(
            updated_at=created + timedelta(days=rng.randint(0, 60)) if index % 3 else created
        )
        made.append(report)
    district = District.objects.get(pk=made[0].district_id)
    assert_exact(categories, district)

    # Status changes, one by one and in bulk; a move to another month; a report relocated.
    for report in made[:10]:
        Signalement.objects.filter(pk=report.pk).update(status="resolved", updated_at=timezone.now())
    Signalement.objects.filter(pk__in=[r.pk for r in made[10:30]]).update(status="closed")
    Signalement.objects.filter(pk__in=[r.pk for r in made[30:35]]).update(
        updated_at=now - timedelta(days=40), created_at=now - timedelta(days=41)
    )
    other = District.objects.exclude(pk=made[40].district_id).filter(layer=district.layer).first()
    Signalement.objects.filter(pk=made[40].pk).update(district=other)
    Signalement.objects.filter(pk=made[41].pk).update(district=None)
    assert_exact(categories, district)

    # Deletions, one and many.
    Signalement.objects.filter(pk=made[45].pk).delete()
    Signalement.objects.filter(pk__in=[r.pk for r in made[50:]]).delete()
    assert_exact(categories, district)


def test_the_monthly_counts_table_matches_the_reports_after_a_bulk_insert(liege):
    from django.db import connection

    categories = list(Category.objects.order_by("id"))
    now = timezone.now()
    for index in range(12):
        SignalementFactory(category=categories[index % 3], created_at=now - timedelta(days=31 * index))
    with connection.cursor() as cursor:
        # Copies of every report in one statement: the statement trigger counts them all at once.
        cursor.execute("SELECT count(*) FROM signalements_signalement WHERE district_id IS NOT NULL")
        (before,) = cursor.fetchone()
        cursor.execute("SELECT coalesce(sum(n), 0) FROM publicmap_district_month")
        assert cursor.fetchone()[0] == before
    Signalement.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT coalesce(sum(n), 0) FROM publicmap_district_month),"
            " (SELECT coalesce(sum(n), 0) FROM publicmap_cell_month)"
        )
        assert cursor.fetchone() == (0, 0)


def cells_of(z: int, x: int, y: int, filters) -> dict[tuple, int]:
    tile = mapbox_vector_tile.decode(tile_mvt(z=z, x=x, y=y, filters=filters, token="t"))
    return {
        tuple(f["geometry"]["coordinates"]): f["properties"]["count"]
        for f in tile.get("cells", {}).get("features", [])
    }


def assert_cells_exact(monkeypatch, categories, reports):
    tiles = {tile_of(r.location.x, r.location.y, z) for r in reports for z in range(CELLS_FROM, POINTS_FROM)}
    for filters in every_filter(categories, None):
        for zxy in tiles:
            monkeypatch.setattr(selectors, "COUNTED_CELLS", True)
            counted = cells_of(*zxy, filters)
            monkeypatch.setattr(selectors, "COUNTED_CELLS", False)
            assert counted == cells_of(*zxy, filters), (zxy, filters.key)


def test_cells_from_the_counts_equal_the_cells_of_the_reports(liege, monkeypatch):
    rng = random.Random(11)
    categories = list(Category.objects.order_by("id"))
    now = timezone.now()
    made = []
    for index in range(40):
        created = now - timedelta(days=rng.randint(0, 400), hours=rng.randint(0, 23))
        report = SignalementFactory(
            category=categories[index % 4], status=STATUSES[index % len(STATUSES)], created_at=created
        )
        Signalement.objects.filter(pk=report.pk).update(
            updated_at=created + timedelta(days=rng.randint(0, 60)) if index % 3 else created
        )
        made.append(report)
    shown = made[::4]
    assert_cells_exact(monkeypatch, categories, shown)
    assert any(cells_of(*tile_of(r.location.x, r.location.y, CELLS_FROM), map_filters()) for r in shown)

    Signalement.objects.filter(pk__in=[r.pk for r in made[:12]]).update(status="resolved", updated_at=now)
    Signalement.objects.filter(pk=made[12].pk).update(location=made[16].location)
    Signalement.objects.filter(pk__in=[r.pk for r in made[20:30]]).delete()
    assert_cells_exact(monkeypatch, categories, shown)


def test_the_bulk_loader_s_set_based_path_keeps_the_counts(liege, monkeypatch):
    from django.db import connection

    from signalements.bulk import signalements_bulk_load
    from signalements.bulk.core import SET_BASED_CHECKS_SQL
    from tests.bulk.test_bulk_load import synthetic

    with connection.cursor() as cursor:
        cursor.execute(SET_BASED_CHECKS_SQL)
        assert cursor.fetchone()[0], "the counts' triggers (enabled ALWAYS) leave the set-based path on"
    result = signalements_bulk_load(synthetic(liege, 300), source="bulk")
    assert result.inserted == 300
    categories = list(Category.objects.order_by("id"))
    assert_exact(
        categories, District.objects.get(pk=Signalement.objects.exclude(district=None).first().district_id)
    )
    shown = list(Signalement.objects.order_by("id")[:5])
    assert_cells_exact(monkeypatch, categories, shown)
