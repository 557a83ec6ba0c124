"""The public map's district and cell counts come from tables of monthly and daily counts kept by
triggers (cartography.publicmap.database) plus what they do not hold read from the reports: they must
equal an exact count of the reports, after inserts, changes of status, of dates and of district,
deletions, and once the days the map no longer reads are forgotten."""

import math
import random
from datetime import timedelta

import mapbox_vector_tile
import pytest
from django.core.cache import cache
from django.db.models import Count, Q
from django.utils import timezone

from cartography.models import District
from cartography.publicmap import selectors
from cartography.publicmap.filters import map_filters
from cartography.publicmap.selectors import CELLS_FROM, EVERY_CATEGORY, POINTS_FROM, tile_mvt
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
# Liège lies across the meridian 5.625° E, an edge of the tiles of every zoom up to 10.
LIEGE_Z10 = (tile_of(5.55, 50.64, 10), tile_of(5.7, 50.64, 10))
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


def every_filter(categories, district, views=FILTERS):
    for view in views:
        yield map_filters(**view)
        yield map_filters(**view, category=categories[0])
        yield map_filters(**view, group=categories[1].group)
        if district is not None:
            yield map_filters(**view, district=district)


def tile_counts(filters, token: str) -> dict[int, int]:
    """The districts' counts drawn by the two zoom 10 tiles over Liège (all its districts)."""
    drawn = {}
    for z, x, y in LIEGE_Z10:
        tile = mapbox_vector_tile.decode(tile_mvt(z=z, x=x, y=y, filters=filters, token=token))
        drawn |= {f["properties"]["id"]: f["properties"]["count"] for f in tile["districts"]["features"]}
    return drawn


def district_counts(filters, token: str) -> dict[int, int]:
    """The districts the tiles count reports in, and their counts."""
    return {district: n for district, n in tile_counts(filters, token).items() if n}


def assert_exact(categories, district, views=FILTERS):
    for filters in every_filter(categories, district, views):
        # Counted in the tile's own query (no counts kept: PUBLIC_MAP_CACHE_SECONDS is 0).
        assert district_counts(filters, token=str(random.random())) == exact(filters), filters.key


def test_a_view_s_tiles_count_the_districts_once_per_change(liege, settings):
    settings.PUBLIC_MAP_CACHE_SECONDS = 60
    filters = map_filters()
    SignalementFactory(category=Category.objects.get(slug="dechets"))
    first = tile_counts(filters, token="before")
    assert sum(first.values()) == 1
    # The same view and token: the counts the first tile's query kept, without reading them again.
    SignalementFactory(category=Category.objects.get(slug="dechets"))
    assert tile_counts(filters, token="before") == first
    kept = cache.get(selectors._district_counts_key(filters, "before"))
    assert kept == {k: v for k, v in first.items() if v}
    # A change gives another token: counted again.
    assert sum(tile_counts(filters, token="after").values()) == 2


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
        # Each report once per category, and once again in the rows of every category.
        cursor.execute(
            "SELECT coalesce(sum(n) FILTER (WHERE category_id <> %(every)s), 0),"
            " coalesce(sum(n) FILTER (WHERE category_id = %(every)s), 0) FROM publicmap_district_month",
            {"every": EVERY_CATEGORY},
        )
        assert cursor.fetchone() == (before, before)
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


def assert_loaded_counts_exact(liege, monkeypatch) -> None:
    from signalements.bulk import signalements_bulk_load
    from tests.bulk.test_bulk_load import synthetic

    result = signalements_bulk_load(synthetic(liege, 300), source="bulk")
    assert result.inserted == 300
    assert_tables_match_the_reports()
    categories = list(Category.objects.order_by("id"))
    assert_exact(
        categories, District.objects.get(pk=Signalement.objects.exclude(district=None).first().district_id)
    )
    shown = list(Signalement.objects.order_by("id")[:5])
    assert_cells_exact(monkeypatch, categories, shown)


@pytest.mark.parametrize("set_based", [True, False])
def test_a_bulk_load_in_a_transaction_keeps_the_counts(liege, monkeypatch, settings, set_based):
    """With the row triggers off (set-based checks), the loader appends the counts of what it
    inserts; with them on, the count triggers do, and the loader adds nothing."""
    from django.db import connection

    from signalements.bulk.core import SET_BASED_CHECKS_SQL

    with connection.cursor() as cursor:
        cursor.execute(SET_BASED_CHECKS_SQL)
        assert cursor.fetchone()[0], "the count triggers, which the loader stands in for, leave the path on"
    settings.SIGNALEMENT_BULK_SET_BASED_CHECKS = set_based
    assert_loaded_counts_exact(liege, monkeypatch)


@pytest.mark.django_db(transaction=True)
def test_a_bulk_load_on_two_connections_keeps_the_counts(liege, monkeypatch, settings):
    """Outside a transaction, the helper connection computes each range's counts while the loader
    inserts the range before (signalements.bulk.pipeline)."""
    settings.SIGNALEMENT_BULK_CHUNK_ROWS = 100
    assert_loaded_counts_exact(liege, monkeypatch)


@pytest.mark.parametrize("name", ["publicmap_days_forget", "publicmap_counts_compact"])
def test_the_beat_schedule_forgets_the_old_days_and_compacts_the_counts(name):
    from django.conf import settings

    from cartography.publicmap import tasks
    from config.celery import app as celery_app

    task = f"cartography.publicmap.tasks.{name}"
    assert task in {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert getattr(tasks, name).name == task and task in celery_app.tasks


def test_the_day_counts_stay_exact_across_their_window_and_once_old_days_are_forgotten(liege):
    """ "Resolved in the last N days" reads its partial month from the counts per day within
    DAYS_COUNTED days, from the reports beyond; the days older than the counts keep are deleted."""
    from django.db import connection

    from cartography.publicmap.database import DAYS_KEPT
    from cartography.publicmap.selectors import DAYS_COUNTED
    from cartography.publicmap.tasks import publicmap_days_forget

    rng = random.Random(5)
    categories = list(Category.objects.order_by("id"))
    now = timezone.now()
    made = []
    for index in range(50):
        changed = now - timedelta(days=rng.randint(0, DAYS_KEPT + 30), hours=rng.randint(0, 23))
        report = SignalementFactory(
            category=categories[index % 3],
            status=("resolved", "closed", "new", "in_progress")[index % 4],
            created_at=changed - timedelta(days=rng.randint(0, 40)),
        )
        Signalement.objects.filter(pk=report.pk).update(updated_at=changed)
        made.append(report)
    district = District.objects.get(pk=made[0].district_id)
    edges = [
        {"resolved_days": days, **period}
        for days in (1, 30, DAYS_COUNTED - 1, DAYS_COUNTED, DAYS_COUNTED + 1, DAYS_KEPT + 20)
        for period in ({}, {"period": 90})
    ]
    assert_exact(categories, district, edges)

    # Reopened now, after a resolution beyond the counted days; resolved again, long ago.
    Signalement.objects.filter(pk__in=[r.pk for r in made[:8]]).update(status="new", updated_at=now)
    Signalement.objects.filter(pk__in=[r.pk for r in made[8:16]]).update(
        status="closed", updated_at=now - timedelta(days=DAYS_KEPT + 5)
    )
    # What a day that left the window can hold (a report changed since, not taken away): a count
    # the map must not read, and that is deleted once older than the days kept.
    today = timezone.localdate()
    lagging = [today - timedelta(days=DAYS_COUNTED + 1), today - timedelta(days=DAYS_KEPT + 1)]
    with connection.cursor() as cursor:
        for day in lagging:
            cursor.execute(
                "INSERT INTO publicmap_district_day VALUES (%s, %s, %s, 'closed', %s, 7)",
                [day, district.pk, categories[0].pk, day.replace(day=1)],
            )
            cursor.execute(
                "INSERT INTO publicmap_cell_day VALUES (16, 0, 0, %s, %s, 'closed', %s, 7)",
                [day, categories[0].pk, day.replace(day=1)],
            )
    assert_exact(categories, district, edges)
    assert publicmap_days_forget() == 2  # the nightly task (settings.CELERY_BEAT_SCHEDULE)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT array_agg(DISTINCT updated_day) FROM publicmap_district_day WHERE n = 7),"
            " (SELECT array_agg(DISTINCT updated_day) FROM publicmap_cell_day WHERE n = 7)"
        )
        assert cursor.fetchone() == ([lagging[0]], [lagging[0]])
    assert_exact(categories, district, edges)


def assert_tables_match_the_reports():
    """Every table of counts, the rows of each key added up, equals a count of the reports by its
    own keys (sums of zero aside)."""
    from django.db import connection

    from cartography.publicmap.database import COUNTED, EVERY_CATEGORY_TABLES

    with connection.cursor() as cursor:
        for table, (keys, select, _reads) in COUNTED.items():
            columns = ", ".join(keys)
            cursor.execute(
                f"SELECT {columns}, count(*) FROM ({select.format(rows='signalements_signalement')})"
                f" AS k({columns}) GROUP BY {columns} ORDER BY {columns}"
            )
            recounted = cursor.fetchall()
            cursor.execute(
                f"SELECT {columns}, sum(n) FROM {table}"
                f" GROUP BY {columns} HAVING sum(n) <> 0 ORDER BY {columns}"
            )
            assert cursor.fetchall() == recounted, table
        # The districts' rows of every category: each key's reports whatever their category.
        for table in EVERY_CATEGORY_TABLES:
            keys = [key for key in COUNTED[table][0] if key != "category_id"]
            columns = ", ".join(keys)
            cursor.execute(
                f"SELECT {columns}, sum(n) FROM {table} WHERE category_id <> %(every)s"
                f" GROUP BY {columns} HAVING sum(n) <> 0 ORDER BY {columns}",
                {"every": EVERY_CATEGORY},
            )
            per_category = cursor.fetchall()
            cursor.execute(
                f"SELECT {columns}, sum(n) FROM {table} WHERE category_id = %(every)s"
                f" GROUP BY {columns} HAVING sum(n) <> 0 ORDER BY {columns}",
                {"every": EVERY_CATEGORY},
            )
            assert cursor.fetchall() == per_category, table


def test_every_migrate_makes_the_rows_of_every_category_again(liege):
    """Counts written without their rows of every category (by functions older than them, or a
    dump restored) get them after the next migrate, from the rows per category; the default view
    then counts as before."""
    from django.db import connection

    from cartography.publicmap import database
    from config.database import declared_install

    categories = list(Category.objects.order_by("id"))
    now = timezone.now()
    for index in range(9):
        SignalementFactory(
            category=categories[index % 4],
            status=("new", "resolved", "in_progress")[index % 3],
            created_at=now - timedelta(days=3 * index),
        )
    filters = map_filters()
    expected = district_counts(filters, token="before")
    assert sum(expected.values()) > 0
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM publicmap_district_month WHERE category_id = %s", [EVERY_CATEGORY])
        cursor.execute("DELETE FROM publicmap_district_day WHERE category_id = %s", [EVERY_CATEGORY])
    assert district_counts(filters, token="deleted") == {}

    declared_install(database.FUNCTIONS, database.TRIGGERS, connection, tuple(database.AFTER_INSTALL))

    assert_tables_match_the_reports()
    assert district_counts(filters, token="after") == expected


def test_the_low_zooms_of_every_category_run_one_generic_plan_per_connection(liege):
    """A low-zoom tile of every category runs prepared, with a generic plan: the tiles of two
    views' counts, counted in their query (no counts kept), run the one plan; a view of one
    category is planned at each call; both count exactly."""
    from django.db import connection

    categories = list(Category.objects.order_by("id"))
    for index in range(6):
        SignalementFactory(category=categories[index % 2], status=("new", "resolved")[index % 2])

    def generic_plans() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT coalesce(sum(generic_plans), 0) FROM pg_prepared_statements WHERE statement LIKE %s",
                ["%district_counted%"],
            )
            return cursor.fetchone()[0]

    before = generic_plans()
    every = map_filters()
    assert district_counts(every, token="a") == district_counts(every, token="b") == exact(every)
    assert generic_plans() == before + 2 * len(LIEGE_Z10)
    one = map_filters(category=categories[0])
    assert district_counts(one, token="c") == exact(one)
    assert generic_plans() == before + 2 * len(LIEGE_Z10)


def rows_per_key() -> dict[str, tuple[int, int]]:
    """Per table of counts, its rows and its keys."""
    from django.db import connection

    from cartography.publicmap.database import COUNTED

    with connection.cursor() as cursor:
        found = {}
        for table, (keys, _select, _reads) in COUNTED.items():
            cursor.execute(f"SELECT count(*), count(DISTINCT ({', '.join(keys)})) FROM {table}")
            found[table] = cursor.fetchone()
        return found


def test_compacting_leaves_one_row_per_key_and_every_count_as_it_was(liege):
    """Changes appended by many statements are merged into one row per key by the nightly task;
    keys whose changes add up to zero go; the counts read by the map are the same before and
    after, and the triggers go on appending to the merged rows."""
    from django.db import connection

    from cartography.publicmap.tasks import publicmap_counts_compact

    categories = list(Category.objects.filter(is_sensitive=False).order_by("id")[:3])
    now = timezone.now()
    reports = [
        SignalementFactory(category=categories[i % 3], status="new", created_at=now - timedelta(days=i))
        for i in range(12)
    ]
    for report in reports[:6]:  # a statement each: the same keys get rows of -1 and +1 again and again
        Signalement.objects.filter(pk=report.pk).update(status="resolved", updated_at=now)
        Signalement.objects.filter(pk=report.pk).update(status="new")
    Signalement.objects.filter(pk=reports[6].pk).update(status="closed", updated_at=now)
    before = rows_per_key()
    assert any(rows > keys for rows, keys in before.values()), "the changes were appended, not merged"
    district = District.objects.get(pk=reports[0].district_id)
    views = [{}, {"status": ["resolved"], "resolved_days": 1}]
    counts_before = [district_counts(f, token="a") for f in every_filter(categories, district, views)]

    deleted = publicmap_counts_compact()  # the nightly task (settings.CELERY_BEAT_SCHEDULE)

    after = rows_per_key()
    # The rows of a merged key are deleted, their sum inserted as one.
    assert deleted >= sum(rows for rows, _ in before.values()) - sum(rows for rows, _ in after.values()) > 0
    for table, (rows, keys) in after.items():
        assert rows == keys, table
    assert_tables_match_the_reports()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM publicmap_district_month WHERE n = 0)"
            " + (SELECT count(*) FROM publicmap_cell_month WHERE n = 0)"
        )
        assert cursor.fetchone()[0] == 0
    assert [district_counts(f, token="b") for f in every_filter(categories, district, views)] == counts_before
    assert publicmap_counts_compact() == 0  # nothing more to merge

    Signalement.objects.filter(pk=reports[7].pk).update(status="in_progress")
    assert_tables_match_the_reports()
    assert_exact(categories, district, views)


@pytest.mark.django_db(transaction=True)
def test_two_transactions_changing_reports_of_the_same_counts_never_wait_for_each_other(liege):
    """Two connections change reports whose counts share keys, the second while the first is still
    open, and the first again in the other order of categories: neither waits for a lock the other
    holds (the counts are appended, no row of them is locked), both commit, and every count is
    exact."""
    import threading

    from django.db import connection, transaction

    categories = list(Category.objects.filter(is_sensitive=False).order_by("id")[:2])
    now = timezone.now()
    # Resolved today: the monthly and the daily counts, of districts and cells, are all shared.
    first = [SignalementFactory(category=c, status="resolved", created_at=now) for c in categories]
    second = [SignalementFactory(category=c, status="resolved", created_at=now) for c in categories]
    Signalement.objects.update(updated_at=now)
    assert_tables_match_the_reports()

    holding, second_done = threading.Event(), threading.Event()
    errors = []

    def first_writer():
        try:
            with transaction.atomic():
                Signalement.objects.filter(pk__in=[r.pk for r in first]).update(status="closed")
                holding.set()
                # The other connection commits while this one is open: had it waited for a row of
                # counts this one holds, it would not have ended.
                if not second_done.wait(20):
                    raise AssertionError("the second transaction waited for the first")
                # Again, the same keys of counts in the other order of categories.
                Signalement.objects.filter(pk=first[1].pk).update(status="resolved")
                Signalement.objects.filter(pk=first[0].pk).update(status="resolved")
        except Exception as exc:  # noqa: BLE001 - the assertion below shows it
            errors.append(exc)
        finally:
            connection.close()

    def second_writer():
        try:
            holding.wait(10)
            with transaction.atomic():
                for report in reversed(second):
                    Signalement.objects.filter(pk=report.pk).update(status="closed")
                Signalement.objects.filter(pk__in=[r.pk for r in second]).update(
                    status="closed", updated_at=now
                )
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            second_done.set()
            connection.close()

    threads = [threading.Thread(target=first_writer), threading.Thread(target=second_writer)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    assert set(
        Signalement.objects.filter(pk__in=[r.pk for r in second]).values_list("status", flat=True)
    ) == {"closed"}
    assert set(Signalement.objects.filter(pk__in=[r.pk for r in first]).values_list("status", flat=True)) == {
        "resolved"
    }
    assert_tables_match_the_reports()
    district = District.objects.get(pk=first[0].district_id)
    assert_exact(categories, district, [{}, {"status": ["resolved"], "resolved_days": 1}])


def count_rows_written() -> dict[str, int]:
    """Rows inserted or updated in each table of counts by the current transaction."""
    from django.db import connection

    from cartography.publicmap.database import COUNTED

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, n_tup_ins + n_tup_upd FROM pg_stat_xact_user_tables WHERE relname = ANY(%s)",
            [list(COUNTED)],
        )
        return dict(cursor.fetchall())


def test_an_update_writes_only_the_counts_whose_keys_it_changes(liege):
    """A change no key is made of (priority, description) writes no count; a new district moves the
    districts' counts only (the cells' keys are the point's); a new status moves them all; and every
    table still equals a recount."""
    now = timezone.now()
    category = Category.objects.filter(is_sensitive=False).order_by("id").first()
    reports = [SignalementFactory(category=category, status="resolved", created_at=now) for _ in range(3)]
    ids = [r.pk for r in reports]
    written = count_rows_written()

    Signalement.objects.filter(pk__in=ids).update(priority="high", description="Autre texte")
    assert count_rows_written() == written

    other = District.objects.filter(layer="districts").exclude(pk=reports[0].district_id).first()
    Signalement.objects.filter(pk__in=ids).update(district=other)
    after_move = count_rows_written()
    moved = {table for table, n in after_move.items() if n != written.get(table, 0)}
    assert moved == {"publicmap_district_month", "publicmap_district_day"}
    assert_tables_match_the_reports()

    Signalement.objects.filter(pk__in=ids).update(status="closed")
    changed = {table for table, n in count_rows_written().items() if n != after_move.get(table, 0)}
    assert changed == {
        "publicmap_district_month",
        "publicmap_district_day",
        "publicmap_cell_month",
        "publicmap_cell_day",
    }
    assert_tables_match_the_reports()


def test_a_boundary_edit_does_not_make_old_resolved_reports_recent(liege):
    """A relocation keeps each report's last change: a report resolved a year ago and moved to
    another district by an edit of the boundaries is not "resolved in the last 30 days" on the map,
    and the counts follow it to its new district."""
    from signalements.locating import signalements_relocate

    category = Category.objects.filter(is_sensitive=False).order_by("id").first()
    year_ago = timezone.now() - timedelta(days=365)
    report = SignalementFactory(category=category, status="resolved", created_at=year_ago)
    Signalement.objects.filter(pk=report.pk).update(updated_at=year_ago)
    old = District.objects.get(pk=report.district_id)
    neighbour = District.objects.filter(territory=liege, layer=old.layer).exclude(pk=old.pk).first()
    District.objects.filter(pk=old.pk).update(geom=neighbour.geom)
    District.objects.filter(pk=neighbour.pk).update(geom=old.geom)

    assert signalements_relocate(territory_id=liege.pk) >= 1

    report.refresh_from_db()
    assert report.district_id == neighbour.pk
    assert report.updated_at == year_ago
    recent = map_filters(status=["resolved"], resolved_days=30)
    assert district_counts(recent, token=str(random.random())).get(neighbour.pk, 0) == 0
    assert_tables_match_the_reports()


def mercator(lon: float, lat: float) -> tuple[float, float]:
    from cartography.publicmap.selectors import WORLD

    return lon / 180 * WORLD, math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) / math.pi * WORLD


def coarse_cells(z: int, x: int, y: int, reports, per_tile: int) -> dict[tuple, int]:
    """The reports' count per cell of a grid of per_tile × per_tile cells on the tile, counted here,
    keyed as the decoded tile's cells (their centre in the tile's extent, y up)."""
    from cartography.publicmap.selectors import EXTENT, WORLD

    size = 2 * WORLD / 2**z / per_tile
    left, bottom = x * per_tile, (2**z - 1 - y) * per_tile
    counted = {}
    for report in reports:
        mx, my = mercator(report.location.x, report.location.y)
        cx, cy = math.floor((mx + WORLD) / size) - left, math.floor((my + WORLD) / size) - bottom
        if 0 <= cx < per_tile and 0 <= cy < per_tile:
            key = (int((cx + 0.5) * EXTENT / per_tile), int((cy + 0.5) * EXTENT / per_tile))
            counted[key] = counted.get(key, 0) + 1
    return counted


def shown_by(filters, reports) -> list:
    """The reports the map shows under the filters, picked here."""
    return [
        r
        for r in Signalement.objects.filter(pk__in=[r.pk for r in reports])
        if r.category_id in filters.public_category_ids
        and (
            r.status in filters.open_statuses
            or (r.status in filters.resolved_statuses and r.updated_at >= filters.resolved_since)
        )
        and (filters.created_since is None or r.created_at >= filters.created_since)
        and (filters.district_id is None or r.district_id == filters.district_id)
    ]


@pytest.fixture
def crowd(liege):
    """Reports of every stage and age around Saint-Lambert, within one tile of zoom 16."""
    from django.contrib.gis.geos import Point

    from tests.conftest import PLACE_SAINT_LAMBERT

    rng = random.Random(16)
    categories = list(Category.objects.filter(is_sensitive=False).order_by("id")[:4])
    now = timezone.now()
    z, x, y = tile_of(*PLACE_SAINT_LAMBERT, POINTS_FROM)
    west, east = x / 2**z * 360 - 180, (x + 1) / 2**z * 360 - 180
    made = []
    for index in range(60):
        lon = rng.uniform(west, east)
        lat = PLACE_SAINT_LAMBERT[1] + rng.uniform(-0.0035, 0.0035)
        created = now - timedelta(days=rng.randint(0, 3000), hours=rng.randint(0, 23))
        report = SignalementFactory(
            category=categories[index % len(categories)],
            status=STATUSES[index % len(STATUSES)],
            created_at=created,
            location=Point(lon, lat, srid=4326),
        )
        Signalement.objects.filter(pk=report.pk).update(
            updated_at=min(now, created + timedelta(days=rng.randint(0, 60))) if index % 3 else created
        )
        made.append(report)
    return made


def test_a_crowded_tile_of_zoom_16_or_17_is_drawn_from_the_counts_as_the_reports_would_be(crowd, monkeypatch):
    """A crowded z16 tile's cells are the counted cells of zoom POINTS_FROM - 1's grid (4 × 4 a
    tile), a crowded z17 tile's those of its own grid (8 × 8): equal, cell by cell and whatever the
    filters, to those the reports give, read one by one, and to a count made here."""
    from cartography.publicmap.selectors import POINTS_ALWAYS_FROM

    monkeypatch.setattr(selectors, "CROWDED", 3)
    categories = list(Category.objects.order_by("id"))
    tiles = {
        tile_of(r.location.x, r.location.y, z) for r in crowd for z in range(POINTS_FROM, POINTS_ALWAYS_FROM)
    }
    drawn = 0
    for filters in every_filter(categories, District.objects.get(pk=crowd[0].district_id)):
        for z, x, y in tiles:
            shown = shown_by(filters, crowd)
            expected = coarse_cells(z, x, y, shown, 4 if z == POINTS_FROM else 8)
            monkeypatch.setattr(selectors, "COUNTED_CELLS", True)
            tile = mapbox_vector_tile.decode(tile_mvt(z=z, x=x, y=y, filters=filters, token="t"))
            monkeypatch.setattr(selectors, "COUNTED_CELLS", False)
            live = cells_of(z, x, y, filters)
            if sum(expected.values()) > 3:
                assert "reports" not in tile, (z, x, y, filters.key)
                counted = {
                    tuple(f["geometry"]["coordinates"]): f["properties"]["count"]
                    for f in tile["cells"]["features"]
                }
                assert counted == live == expected, (z, x, y, filters.key)
                assert all(set(f["properties"]) == {"count"} for f in tile["cells"]["features"])
                drawn += 1
            else:
                assert "cells" not in tile and live == {}, (z, x, y, filters.key)
    assert drawn >= 10, "crowded tiles were compared"


def test_a_tile_of_zoom_16_the_counts_say_is_not_crowded_shows_its_reports(crowd):
    """The counts decide; a tile of at most CROWDED reports still reads and draws them as points."""
    z, x, y = tile_of(crowd[0].location.x, crowd[0].location.y, POINTS_FROM)
    filters = map_filters(status=["open", "in_progress", "resolved"], resolved_days=3650)
    tile = mapbox_vector_tile.decode(tile_mvt(z=z, x=x, y=y, filters=filters, token="t"))
    assert "cells" not in tile
    inside = coarse_cells(z, x, y, shown_by(filters, crowd), 1)
    refs = {f["properties"]["ref"] for f in tile["reports"]["features"]}
    assert len(refs) >= sum(inside.values()) > 0
    assert all(
        set(f["properties"]) == {"ref", "category", "stage", "age"} for f in tile["reports"]["features"]
    )
