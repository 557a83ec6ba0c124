"""Volumes per district (cartography.planning.volumes): counts, rates, changes and delays against
figures computed by hand on a handful of reports in Liège's real districts."""

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.gis.geos import Point
from django.core.management import call_command
from django.db import connection

from cartography.models import District
from cartography.planning.models import AnalysisRun, DistrictVolume
from cartography.planning.services import analysis_run
from cartography.planning.tasks import planning_analysis_compute
from cartography.planning.volumes import district_volumes_compute
from cartography.planning.window import Window, territory_window
from signalements.models import Category, Signalement, StatusChange
from tests.conftest import PLACE_SAINT_LAMBERT
from tests.factories import SignalementFactory

WINDOW = Window(start=date(2025, 1, 1), end=date(2026, 1, 1))
NOW = datetime(2026, 1, 15, tzinfo=UTC)


def _at(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def _report(day: str, *, category: str = "dechets", status: str = "new", history=(), **extra) -> Signalement:
    """A report at Saint-Lambert, with its history: (from, to, days after creation) rows."""
    created = _at(day)
    report = SignalementFactory(
        category=Category.objects.get(slug=category),
        location=Point(*PLACE_SAINT_LAMBERT, srid=4326),
        created_at=created,
        status=status,
        **extra,
    )
    for from_status, to_status, days in history:
        StatusChange.objects.create(
            signalement=report,
            from_status=from_status,
            to_status=to_status,
            created_at=created + timedelta(days=days),
        )
    return report


@pytest.fixture
def reports(liege):
    """March 2024: 2 reports. March 2025: 4 of `dechets` (one resolved in 2 days within its deadline,
    one in 8 days after it, one imported closed, one duplicate) and 1 pothole. April 2025: one open
    report past its deadline. December 2024: one report (winter 2025)."""
    _report("2024-03-05", status="closed", history=[("", "closed", 0)])
    _report("2024-03-20", status="closed", history=[("", "closed", 0)])
    first = _report(
        "2025-03-03",
        status="resolved",
        deadline_at=_at("2025-03-08"),
        history=[("", "new", 0), ("new", "resolved", 2)],
    )
    _report(
        "2025-03-10",
        status="resolved",
        deadline_at=_at("2025-03-15"),
        history=[("", "new", 0), ("new", "acknowledged", 1), ("acknowledged", "resolved", 8)],
    )
    # Imported already closed: its resolution time is unknown, not 0.
    _report("2025-03-12", status="closed", deadline_at=_at("2025-03-17"), history=[("", "closed", 0)])
    _report(
        "2025-03-14",
        status="duplicate",
        duplicate_of=first,
        history=[("", "new", 0), ("new", "duplicate", 1)],
    )
    _report("2025-03-20", category="nid-de-poule", history=[("", "new", 0)])
    _report("2025-04-01", deadline_at=_at("2025-04-08"), history=[("", "new", 0)])
    _report("2024-12-15", history=[("", "new", 0)])
    return liege


def _district():
    return District.objects.get(
        territory__slug="liege", layer="districts", geom__contains=Point(*PLACE_SAINT_LAMBERT)
    )


def _row(**filters) -> DistrictVolume:
    return DistrictVolume.objects.get(**filters)


def test_a_month_of_a_category_has_its_counts_rates_change_and_delays(reports):
    district = _district()
    District.objects.filter(pk=district.pk).update(population=20000)

    district_volumes_compute(territory=reports, window=WINDOW, now=NOW)

    dechets = Category.objects.get(slug="dechets")
    march = _row(district=district, category=dechets, period="month", period_start=date(2025, 3, 1))
    assert (march.count, march.previous_year_count) == (4, 2)
    assert march.change_vs_previous_year == pytest.approx(1.0)  # 4 against 2
    assert march.per_1000_residents == pytest.approx(0.2)  # 4 × 1,000 / 20,000
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_Area(geom::geography) / 1e6 FROM cartography_district WHERE id = %s", [district.pk]
        )
        km2 = cursor.fetchone()[0]
    assert march.per_km2 == pytest.approx(4 / km2)
    # Timed: 2 and 8 days; the imported one and the duplicate are not.
    assert march.median_days_to_resolve == pytest.approx(5.0)
    assert march.share_resolved_in_time == pytest.approx(0.5)
    assert march.share_duplicates == pytest.approx(0.25)
    assert (march.year, march.season, march.month, march.layer, march.group_id) == (
        2025,
        "spring",
        3,
        "districts",
        dechets.group_id,
    )


def test_groups_and_all_categories_add_up_and_other_layers_get_the_same_reports(reports):
    district_volumes_compute(territory=reports, window=WINDOW, now=NOW)

    dechets = Category.objects.get(slug="dechets")
    march = {"period": "month", "period_start": date(2025, 3, 1)}
    group = _row(district=_district(), category=None, group=dechets.group, **march)
    every = _row(district=_district(), category=None, group=None, **march)
    assert (group.count, every.count) == (4, 5)
    sectors = DistrictVolume.objects.filter(layer="sectors", category=None, group=None, **march)
    assert sum(sectors.values_list("count", flat=True)) == 5


def test_seasons_are_meteorological_and_winter_belongs_to_its_january(reports):
    district_volumes_compute(territory=reports, window=WINDOW, now=NOW)

    every = {"district": _district(), "category": None, "group": None, "period": "season"}
    spring = _row(period_start=date(2025, 3, 1), **every)
    assert (spring.year, spring.season, spring.month, spring.count, spring.previous_year_count) == (
        2025,
        "spring",
        None,
        6,  # March (5) and April (1)
        2,
    )
    winter = _row(period_start=date(2024, 12, 1), **every)
    # Winter 2025 (December 2024 to February 2025); winter 2024 is before the first report.
    assert (winter.year, winter.season, winter.count, winter.previous_year_count) == (2025, "winter", 1, None)
    assert winter.change_vs_previous_year is None


def test_an_open_report_past_its_deadline_is_late_and_imports_have_no_delay(reports):
    district_volumes_compute(territory=reports, window=WINDOW, now=NOW)

    april = _row(
        district=_district(), category__slug="dechets", period="month", period_start=date(2025, 4, 1)
    )
    assert april.share_resolved_in_time == 0.0
    assert april.median_days_to_resolve is None
    # April 2024 had no report but lies after the first one: compared with 0, no ratio.
    assert (april.previous_year_count, april.change_vs_previous_year) == (0, None)
    # The year before the window is read for the comparisons, not written.
    assert not DistrictVolume.objects.filter(period="month", period_start=date(2024, 3, 1)).exists()


def test_a_rerun_rewrites_the_rows_and_records_its_run(reports):
    first = analysis_run(territory=reports, kind="volumes", now=NOW)
    count = DistrictVolume.objects.filter(district__territory=reports).count()

    second = analysis_run(territory=reports, kind="volumes", now=NOW)

    assert DistrictVolume.objects.filter(district__territory=reports).count() == count == second.rows
    assert second.finished_at is not None and second.pk != first.pk
    # April 2025 is left out: the data stop on its first day (window.PARTIAL_MONTH_DAYS).
    assert second.parameters["window"] == {
        "start": "2024-03-01",
        "end": "2025-04-01",
        "time_zone": "Europe/Brussels",
    }


def test_a_run_leaves_its_table_analysed_for_the_readers_plans(reports):
    # Rewritten whole, the table kept the statistics of its previous contents (of an empty table
    # after a fresh load) until autovacuum passed: the readers' plans then took 0.3 s instead of 0.01.
    run = analysis_run(territory=reports, kind="volumes", now=NOW)

    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'planning_districtvolume'")
        (estimated,) = cursor.fetchone()
    assert run.rows > 0 and estimated == DistrictVolume.objects.count()


def test_the_window_follows_the_data_of_a_historical_territory(reports):
    window = territory_window(territory_id=reports.pk, months=36, now=NOW)

    # From March 2024 (data from the 5th) to March 2025: April 2025 has one day of data.
    assert (window.start, window.end) == (date(2024, 3, 1), date(2025, 4, 1))
    assert territory_window(territory_id=reports.pk, months=6, now=NOW).start == date(2024, 10, 1)
    _report("2025-04-28")
    assert territory_window(territory_id=reports.pk, months=36, now=NOW).end == date(2025, 5, 1)
    # A live territory: the current month is never analysed.
    assert territory_window(
        territory_id=reports.pk, months=36, now=datetime(2025, 4, 29, tzinfo=UTC)
    ).end == date(2025, 4, 1)


def test_the_task_and_the_command_run_the_registry(reports):
    rows = planning_analysis_compute("volumes", reports.pk)

    assert rows == DistrictVolume.objects.filter(district__territory=reports).count() > 0
    out = io.StringIO()
    call_command("planning_compute", territory="liege", only=["volumes"], stdout=out)
    assert "liege: volumes" in out.getvalue()
    assert (
        AnalysisRun.objects.filter(territory=reports, kind="volumes", finished_at__isnull=False).count() == 2
    )


def test_a_season_the_data_do_not_cover_is_not_written(reports):
    # The data start on 20 February 2024: winter 2024 (December 2023 to February 2024) is not
    # covered, spring 2024 is.
    _report("2024-02-20", status="closed", history=[("", "closed", 0)])
    district_volumes_compute(territory=reports, window=Window(date(2024, 2, 1), date(2026, 1, 1)), now=NOW)

    seasons = DistrictVolume.objects.filter(period="season", district=_district(), category=None, group=None)
    assert not seasons.filter(period_start=date(2023, 12, 1)).exists()
    assert seasons.get(period_start=date(2024, 3, 1)).count == 2


def test_the_beat_schedule_names_the_planning_tasks():
    from django.conf import settings

    from config.celery import app as celery_app

    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    for name in ("planning_volumes_compute", "planning_hotspots_compute"):
        task = f"cartography.planning.tasks.{name}"
        assert task in scheduled and task in celery_app.tasks


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_beat_task(liege, broker):
    from celery.contrib.testing.worker import start_worker

    from config.celery import app as celery_app
    from tests.conftest import wait_for

    _report("2025-03-03", history=[("", "new", 0)])
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        celery_app.send_task("cartography.planning.tasks.planning_volumes_compute")
        wait_for(
            lambda: AnalysisRun.objects.filter(kind="volumes", finished_at__isnull=False).exists(),
            "the worker wrote the volumes",
        )

    run = AnalysisRun.objects.get(kind="volumes")
    assert run.rows == DistrictVolume.objects.count() > 0
