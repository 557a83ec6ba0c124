"""Places that come back every year (issue 20, item 3) on synthetic Liège reports whose seeded
places are known: leaves every autumn along three streets, ice every winter on four slopes."""

import io
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
import shapely
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone
from pyproj import Transformer

from cartography.planning.models import AnalysisRun, RecurringPlace, Season
from cartography.planning.recurrence import (
    hot_cells,
    recurrence_evaluate,
    season_of,
    season_start,
)
from cartography.planning.services import recurring_places_compute
from cartography.planning.tasks import recurring_places_refresh
from signalements.bulk import signalements_bulk_load
from signalements.management.commands.load_demo import synthetic_rows
from signalements.models import Category
from signalements.synthetic import generate, seeded_places

END = datetime(2026, 11, 30, tzinfo=UTC)
TODAY = date(2026, 12, 1)
CATEGORIES = [
    "feuilles-mortes",
    "trottoir-verglace",
    "depot-sauvage",
    "tags-graffitis",
    "dechets",
    "nid-de-poule",
]
SEED = 11


def synthetic_batch(liege, *, count=15_000, patterns=True):
    return generate(
        area_wgs84=shapely.from_wkb(bytes(liege.geom.wkb)),
        metric_srid=settings.METRIC_SRID,
        count=count,
        start=END - timedelta(days=3 * 365),
        end=END,
        categories=CATEGORIES,
        now=END,
        seed=SEED,
        patterns=patterns,
    )


@pytest.fixture
def three_years(liege):
    batch = synthetic_batch(liege)
    signalements_bulk_load(synthetic_rows(batch), source="recurrence-test")
    return batch


def cells_of(lines, size_m=100) -> set[tuple[int, int]]:
    """The grid cells a seeded place crosses (sampled every 5 m)."""
    to_metric = Transformer.from_crs(4326, settings.METRIC_SRID, always_xy=True)
    cells = set()
    for line in lines:
        for fraction in np.linspace(0, 1, 80):
            x, y = to_metric.transform(*line.interpolate(fraction, normalized=True).coords[0])
            cells.add((int(np.floor(x / size_m)), int(np.floor(y / size_m))))
    return cells


def test_seasons_follow_the_meteorological_calendar():
    assert season_of(date(2025, 12, 3)) == (Season.WINTER, 2026)
    assert season_of(date(2026, 2, 28)) == (Season.WINTER, 2026)
    assert season_of(date(2026, 3, 1)) == (Season.SPRING, 2026)
    assert season_of(date(2026, 11, 30)) == (Season.AUTUMN, 2026)
    assert season_start(Season.WINTER, 2026) == date(2025, 12, 1)


def test_generator_seeds_its_places_without_moving_the_background(liege):
    with_places = synthetic_batch(liege, count=5_000)
    without = synthetic_batch(liege, count=5_000, patterns=False)
    moved = with_places.lon != without.lon
    assert moved.any()
    assert set(with_places.category[moved]) <= {
        "feuilles-mortes",
        "trottoir-verglace",
        "depot-sauvage",
        "tags-graffitis",
    }
    assert (with_places.created_at == without.created_at).all()
    assert (with_places.status == without.status).all()
    truth = with_places.truth
    assert truth == seeded_places(
        area_wgs84=shapely.from_wkb(bytes(liege.geom.wkb)),
        metric_srid=settings.METRIC_SRID,
        start=END - timedelta(days=3 * 365),
        end=END,
        seed=SEED,
    )
    area = shapely.from_wkb(bytes(liege.geom.wkb))
    assert all(area.contains(place) for place in [*truth.leaf_streets, *truth.ice_places, truth.emerging])
    # The emerging place only gets reports in the last months, more and more of them.
    to_metric = Transformer.from_crs(4326, settings.METRIC_SRID, always_xy=True)
    ex, ey = to_metric.transform(truth.emerging.x, truth.emerging.y)
    x, y = to_metric.transform(with_places.lon, with_places.lat)
    near = (np.hypot(x - ex, y - ey) < 40) & (with_places.category == truth.emerging_category)
    dates = with_places.created_at[near]
    assert dates.min() >= np.datetime64(truth.emerging_from.replace(tzinfo=None), "s") - np.timedelta64(
        30, "D"
    )


def test_hot_means_well_above_an_even_spread():
    counts = np.array([[0], [1], [2], [9], [3]])
    hot = hot_cells(counts, area_cells=1000)
    assert hot[:, 0].tolist() == [False, False, True, True, True]
    # A season spread evenly has no hot cell, even with many reports per cell.
    assert not hot_cells(np.full((1000, 1), 5), area_cells=1000).any()


def test_recurring_places_find_the_leaf_streets_and_icy_slopes(three_years, liege):
    run = recurring_places_compute(territory=liege, today=TODAY)
    assert (
        run.kind == AnalysisRun.Kind.RECURRENCE and run.rows == RecurringPlace.objects.filter(run=run).count()
    )
    truth = three_years.truth
    for slug, season, places in (
        ("feuilles-mortes", Season.AUTUMN, truth.leaf_streets),
        ("trottoir-verglace", Season.WINTER, truth.ice_places),
    ):
        listed = RecurringPlace.objects.filter(run=run, category__slug=slug, season=season).order_by("rank")
        top = {(p.cell_x, p.cell_y) for p in listed[: 4 * len(places)]}
        for place in places:
            assert cells_of([place]) & top, f"{slug}: a seeded place is missing from the top of the list"
        first = listed[0]
        assert len(first.years_hot) >= 2 and first.years_observed >= 2
        assert first.district is not None and first.geom.contains(first.geom.centroid)
    leaves = RecurringPlace.objects.filter(run=run, category__slug="feuilles-mortes", season=Season.AUTUMN)
    # Leaves fall from September (week 35 or 36) on: the usual first week is in autumn, acted on before.
    best = leaves.order_by("rank").first()
    assert 35 <= best.usual_first_week <= 48
    assert (best.usual_first_week - best.action_week_to) % 52 == 1
    assert (best.usual_first_week - best.action_week_from) % 52 == 3
    # A second run replaces the first.
    recurring_places_compute(territory=liege, today=TODAY)
    assert not AnalysisRun.objects.filter(pk=run.pk).exists()


@pytest.mark.parametrize(
    ("slug", "season"), [("feuilles-mortes", Season.AUTUMN), ("trottoir-verglace", Season.WINTER)]
)
def test_recurrence_beats_last_season_alone_on_the_held_out_year(three_years, liege, slug, season):
    result = recurrence_evaluate(
        territory=liege, category_id=Category.objects.get(slug=slug).pk, season=season, today=TODAY
    )
    assert result.held_out_year == 2026 and result.training_years[-1] == 2025
    assert result.area_share == pytest.approx(0.05, abs=0.001)
    assert result.hit_rate > result.naive_hit_rate
    assert result.pai == pytest.approx(result.hit_rate / result.area_share)
    assert result.pai > 1


def test_the_evaluation_command_prints_both_rankings(three_years, liege):
    out = io.StringIO()
    call_command(
        "recurrence_evaluate", territory="liege", category=["feuilles-mortes"], season=["autumn"], stdout=out
    )
    header, line = out.getvalue().strip().splitlines()
    assert header.split("\t")[6:10] == ["hit_rate", "PAI", "naive_hit_rate", "naive_PAI"]
    fields = line.split("\t")
    assert fields[:3] == ["feuilles-mortes", "autumn", "2026"] and float(fields[6]) > float(fields[8])


def test_planning_compute_runs_the_recurrence_like_the_other_analyses(three_years, liege):
    out = io.StringIO()
    call_command("planning_compute", territory="liege", only=["recurrence"], stdout=out)
    assert "liege: recurrence" in out.getvalue()
    run = AnalysisRun.objects.get(territory=liege, kind=AnalysisRun.Kind.RECURRENCE)
    assert run.finished_at is not None and run.parameters["today"] == timezone.localdate().isoformat()
    assert run.rows == RecurringPlace.objects.filter(run=run).count() > 0
    # The beat task goes the same way, and replaces the run.
    assert recurring_places_refresh() == run.rows
    assert not AnalysisRun.objects.filter(pk=run.pk).exists()
