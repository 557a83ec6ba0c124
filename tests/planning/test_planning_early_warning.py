"""Early warning (issue 20, item 4): the prospective space-time permutation scan finds a seeded
outbreak, finds nothing in a background without one, and the planners hear of a cluster once."""

import io
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point
from django.core.management import call_command
from django.utils import timezone
from pyproj import Transformer

from cartography.planning import early_warning
from cartography.planning.digest import early_warning_digest
from cartography.planning.early_warning import BASELINE_DAYS, REPLICAS, space_time_permutation_scan
from cartography.planning.models import AnalysisRun, EarlyWarningCluster
from cartography.planning.services import analysis_run, early_warning_scan
from cartography.planning.tasks import early_warning_weekly
from signalements.bulk import BulkRow, signalements_bulk_load
from signalements.models import Category
from signalements.roles import AGENT, PLANNER, roles_sync
from tests.conftest import PLACE_SAINT_LAMBERT

END = date(2026, 11, 29)


def background(rng, *, places=300, cases=2000, days=365):
    xy = rng.uniform(0, 5000, (places, 2))
    return xy, rng.integers(0, places, cases), rng.integers(0, days, cases)


def test_a_seeded_outbreak_is_found_with_a_small_p_value():
    rng = np.random.default_rng(7)
    xy, case_place, case_day = background(rng)
    near = np.argsort(np.hypot(*(xy - xy[10]).T))[:3]
    case_place = np.concatenate([case_place, rng.choice(near, 10)])
    case_day = np.concatenate([case_day, rng.integers(362, 365, 10)])  # the last three days

    (cluster, *others) = space_time_permutation_scan(xy, case_place, case_day, days=365, replicas=199, seed=1)

    assert set(near) <= set(cluster.places) and len(cluster.places) <= 5 and cluster.centre in near
    assert cluster.days <= 4 and cluster.observed >= 10 > 5 * cluster.expected
    assert cluster.p_value == pytest.approx(1 / 200)
    assert not others


def test_the_sparse_replicas_give_the_p_values_of_every_cylinder_computed():
    rng = np.random.default_rng(12)
    xy, case_place, case_day = background(rng, places=150, cases=1200, days=120)
    near = np.argsort(np.hypot(*(xy - xy[3]).T))[:2]
    case_place = np.concatenate([case_place, rng.choice(near, 6)])
    case_day = np.concatenate([case_day, np.full(6, 118)])
    arguments = {"days": 120, "replicas": 99, "seed": 5, "alpha": 0.8}
    sparse = space_time_permutation_scan(xy, case_place, case_day, **arguments)
    dense = space_time_permutation_scan(xy, case_place, case_day, sparse=False, **arguments)
    assert len(sparse) >= 2
    assert [(c.centre, c.days, c.p_value) for c in sparse] == [(c.centre, c.days, c.p_value) for c in dense]


def test_backgrounds_without_outbreak_give_false_alarms_at_the_test_level_at_most():
    """Places and days drawn independently: a cluster at p < 0.05 is a false alarm, which a
    well-calibrated test raises in about one background in twenty (fixed seeds: 1 in 20 here)."""
    alarms = 0
    for seed in range(20):
        xy, case_place, case_day = background(np.random.default_rng(seed))
        alarms += bool(
            space_time_permutation_scan(xy, case_place, case_day, days=365, replicas=99, seed=seed)
        )
    assert alarms <= 2


def test_a_place_that_always_has_many_reports_is_no_alarm():
    """Space-time permutation: expected counts come from the place's own past, not from its area."""
    rng = np.random.default_rng(4)
    xy, case_place, case_day = background(rng)
    busy = np.full(600, 5)  # a fifth of all reports, every day of the year, at one place
    case_place = np.concatenate([case_place, busy])
    case_day = np.concatenate([case_day, rng.integers(0, 365, 600)])
    assert space_time_permutation_scan(xy, case_place, case_day, days=365, replicas=199, seed=4) == []


def metres_from_saint_lambert(east: np.ndarray, north: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    to_metric = Transformer.from_crs(4326, settings.METRIC_SRID, always_xy=True)
    to_wgs84 = Transformer.from_crs(settings.METRIC_SRID, 4326, always_xy=True)
    x, y = to_metric.transform(*PLACE_SAINT_LAMBERT)
    return to_wgs84.transform(x + east, y + north)


@pytest.fixture
def outbreak(liege):
    """Half a year of scattered litter reports in central Liège, and eleven in two days at one
    corner 300 m east of Place Saint-Lambert."""
    rng = np.random.default_rng(3)
    dechets = Category.objects.get(slug="dechets")
    end = datetime(END.year, END.month, END.day, 12, tzinfo=UTC)
    lon, lat = metres_from_saint_lambert(rng.uniform(-1500, 1500, 700), rng.uniform(-1000, 1000, 700))
    ages = rng.uniform(0, 180, 700)
    corner_lon, corner_lat = metres_from_saint_lambert(300 + rng.normal(0, 10, 11), rng.normal(0, 10, 11))
    rows = [
        BulkRow(row=i + 1, lon=x, lat=y, category_id=dechets.pk, created_at=end - timedelta(days=float(age)))
        for i, (x, y, age) in enumerate(zip(lon, lat, ages, strict=True))
    ] + [
        BulkRow(
            row=701 + i, lon=x, lat=y, category_id=dechets.pk, created_at=end - timedelta(hours=3 + 4 * i)
        )
        for i, (x, y) in enumerate(zip(corner_lon, corner_lat, strict=True))
    ]
    signalements_bulk_load(rows, source="early-warning-test")
    return Point(
        *(float(v[0]) for v in metres_from_saint_lambert(np.array([300.0]), np.array([0.0]))), srid=4326
    )


@pytest.fixture
def planners(liege):
    groups = roles_sync()
    User = get_user_model()
    planner = User.objects.create_user("planifie", email="planner@example.org", password="x")
    planner.groups.add(groups[PLANNER])
    User.objects.create_user("sans-adresse", password="x").groups.add(groups[PLANNER])
    User.objects.create_user("agent-x", email="agent@example.org", password="x").groups.add(groups[AGENT])
    return planner


def test_the_weekly_scan_stores_the_outbreak_and_the_planners_hear_of_it_once(
    liege, outbreak, planners, mailoutbox
):
    run = early_warning_scan(territory=liege, end_date=END, replicas=199)

    assert run.kind == AnalysisRun.Kind.EARLY_WARNING and run.rows == 1
    cluster = EarlyWarningCluster.objects.get(run=run)
    assert cluster.category.slug == "dechets" and cluster.p_value < 0.05
    assert cluster.end_date == END and cluster.start_date >= END - timedelta(days=2)
    assert cluster.observed >= 10 and cluster.expected < 2
    outbreak.transform(settings.METRIC_SRID)
    centre = cluster.centre.transform(settings.METRIC_SRID, clone=True)
    assert centre.distance(outbreak) < 100 and cluster.radius_m <= 300
    assert cluster.district is not None

    now = datetime(2026, 11, 30, 6, tzinfo=UTC)
    assert early_warning_digest(now=now) == 1
    (mail,) = mailoutbox
    assert mail.to == ["planner@example.org"]
    assert "Alerte précoce" in mail.subject and "Déchets" in mail.body
    assert cluster.district.name in mail.body and "/planification/" in mail.body
    cluster.refresh_from_db()
    assert cluster.notified_at == now

    # Announced once: neither a second digest nor a scan run again for the same week says it again.
    assert early_warning_digest(now=now + timedelta(hours=1)) == 0
    again = early_warning_scan(territory=liege, end_date=END, replicas=199)
    assert not AnalysisRun.objects.filter(pk=run.pk).exists()
    assert EarlyWarningCluster.objects.get(run=again).notified_at == now
    assert early_warning_digest(now=now + timedelta(hours=2)) == 0
    assert len(mailoutbox) == 1


def test_no_digest_without_a_cluster(liege, planners, mailoutbox):
    early_warning_scan(territory=liege, end_date=END, replicas=99)
    assert early_warning_digest(now=datetime(2026, 11, 30, 6, tzinfo=UTC)) == 0
    assert mailoutbox == []


def test_the_command_scans_and_lists_the_clusters(liege, outbreak):
    out = io.StringIO()
    call_command("early_warning", territory="liege", end_date=END, replicas=99, stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == f"liege: 1 cluster(s) to {END.isoformat()}"
    assert lines[1].strip().startswith("dechets")


def test_the_registry_scans_up_to_the_day_before_now(liege, outbreak):
    run = analysis_run(territory=liege, kind="early_warning", now=datetime(2026, 11, 30, 6, tzinfo=UTC))

    assert run.parameters["end_date"] == END.isoformat() and run.finished_at is not None
    assert run.rows == EarlyWarningCluster.objects.filter(run=run).count() == 1
    assert run.parameters["baseline_days"] == BASELINE_DAYS and run.parameters["replicas"] == REPLICAS


def test_planning_compute_runs_the_scan_like_the_other_analyses(liege, outbreak):
    out = io.StringIO()
    call_command("planning_compute", territory="liege", only=["early_warning"], stdout=out)
    assert "liege: early_warning" in out.getvalue()
    run = AnalysisRun.objects.get(territory=liege, kind=AnalysisRun.Kind.EARLY_WARNING)
    assert run.finished_at is not None and run.rows == EarlyWarningCluster.objects.filter(run=run).count()


def test_the_weekly_task_scans_through_the_registry_then_sends_the_digest(
    liege, outbreak, planners, mailoutbox, monkeypatch
):
    # Monday 30 November 2026: the scan ends on Sunday 29, the day of the outbreak.
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: date(2026, 11, 30))
    assert early_warning_weekly() == 1

    run = AnalysisRun.objects.get(territory=liege, kind=AnalysisRun.Kind.EARLY_WARNING)
    assert run.parameters["end_date"] == END.isoformat() and run.rows == 1
    (mail,) = mailoutbox
    assert mail.to == ["planner@example.org"]
    # A second run the same week replaces the scan and announces nothing again.
    assert early_warning_weekly() == 0
    assert AnalysisRun.objects.filter(territory=liege, kind=AnalysisRun.Kind.EARLY_WARNING).count() == 1
    assert len(mailoutbox) == 1


def test_the_early_stop_only_ever_drops_clusters():
    """The sequential stop (EARLY_EXCEEDANCES among the first replicas) never adds a cluster: with it
    disabled, every cluster found with it is found again, with the same p-value."""
    rng = np.random.default_rng(21)
    for seed in range(6):
        xy, case_place, case_day = background(np.random.default_rng(seed), places=200, cases=1500, days=91)
        near = np.argsort(np.hypot(*(xy - xy[seed]).T))[:2]
        case_place = np.concatenate([case_place, rng.choice(near, 4 + seed)])
        case_day = np.concatenate([case_day, np.full(4 + seed, 90)])
        arguments = {"days": 91, "replicas": 199, "seed": seed}
        with_stop = space_time_permutation_scan(xy, case_place, case_day, **arguments)
        early_warning.EARLY_EXCEEDANCES, saved = 10**6, early_warning.EARLY_EXCEEDANCES
        try:
            without = space_time_permutation_scan(xy, case_place, case_day, **arguments)
        finally:
            early_warning.EARLY_EXCEEDANCES = saved
        assert [(c.centre, c.p_value) for c in with_stop] in ([], [(c.centre, c.p_value) for c in without])
