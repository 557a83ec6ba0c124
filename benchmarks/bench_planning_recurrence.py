"""Planners' analyses (issue 20): places that come back every season and the weekly early-warning
scan, on the benchmark's synthetic reports (three years, seeded seasonal places), against baselines."""

from datetime import timedelta

import numpy as np
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from cartography.planning import early_warning
from cartography.planning.grid import DEFAULT_CELL_SIZE_M, cell_columns_sql
from cartography.planning.models import Season
from cartography.planning.recurrence import recurrence_evaluate
from cartography.planning.services import early_warning_scan, recurring_places_compute
from signalements.models import Category, Signalement

from .data import territory_get
from .measure import Figure, Report, Stopwatch, Target

# The largest category drives the scan's cost: it is scanned again with every cylinder of every
# replica computed (the dense baseline), on fewer replicas, extrapolated.
BASELINE_REPLICAS = 49
# Issue 20: every analysis from scratch in 30 s; volumes and hotspots take most of it.
TARGET_S = 12.0


def _largest_category_cases(territory, end_date, baseline_days: int):
    column, row = cell_columns_sql("location_metric", DEFAULT_CELL_SIZE_M)
    since = end_date - timedelta(days=baseline_days - 1)
    category = (
        Signalement.objects.filter(territory=territory, created_at__date__gte=since)
        .values("category")
        .order_by()
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()["category"]
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {column}, {row}, created_at::date FROM signalements_signalement "
            "WHERE territory_id = %s AND category_id = %s AND created_at::date BETWEEN %s AND %s",
            [territory.pk, category, since, end_date],
        )
        rows = cursor.fetchall()
    cells = np.array([(r[0], r[1]) for r in rows])
    day = np.array([(r[2] - since).days for r in rows])
    place_cells, case_place = np.unique(cells, axis=0, return_inverse=True)
    return (place_cells + 0.5) * DEFAULT_CELL_SIZE_M, case_place.ravel(), day


def run() -> Report:
    territory = territory_get()
    reports = Signalement.objects.filter(territory=territory).count()
    report = Report("recurrence")
    with Stopwatch() as recurrence:
        run_ = recurring_places_compute(territory=territory)
    judged = {}
    for slug, season in (("feuilles-mortes", Season.AUTUMN), ("trottoir-verglace", Season.WINTER)):
        result = recurrence_evaluate(
            territory=territory, category_id=Category.objects.get(slug=slug).pk, season=season
        )
        if result is not None:
            judged[f"{slug}/{season}"] = {
                "held_out_year": result.held_out_year,
                "hit_rate": result.hit_rate,
                "pai": result.pai,
                "naive_hit_rate": result.naive_hit_rate,
                "naive_pai": result.naive_pai,
            }
    end_date = timezone.localdate() - timedelta(days=1)
    with Stopwatch() as scan:
        warning = early_warning_scan(territory=territory, end_date=end_date)
    xy, case_place, day = _largest_category_cases(territory, end_date, early_warning.BASELINE_DAYS)
    # alpha 1: every replica is computed (no sequential stop), so that the rates compare.
    arguments = {"days": early_warning.BASELINE_DAYS, "seed": 1, "alpha": 1.0}
    with Stopwatch() as sparse:
        early_warning.space_time_permutation_scan(
            xy, case_place, day, replicas=BASELINE_REPLICAS, **arguments
        )
    with Stopwatch() as dense:
        early_warning.space_time_permutation_scan(
            xy, case_place, day, replicas=BASELINE_REPLICAS, sparse=False, **arguments
        )
    report.figures += [
        Figure(
            "recurring places + early-warning scan from scratch",
            recurrence.seconds + scan.seconds,
            "s",
            target=Target(TARGET_S),
        ),
        Figure(f"recurring places, {reports:,} reports, every category and season", recurrence.seconds, "s"),
        Figure(
            f"early-warning scan, every category, {early_warning.BASELINE_DAYS}-day baseline, "
            f"up to {early_warning.REPLICAS} replicas",
            scan.seconds,
            "s",
        ),
        Figure(
            f"scan replicas, largest category ({len(day):,} cases, {len(xy):,} cells)",
            BASELINE_REPLICAS / sparse.seconds,
            "replicas/s",
            "every cylinder of every replica (dense numpy)",
            BASELINE_REPLICAS / dense.seconds,
        ),
    ]
    report.details = {
        "reports": reports,
        "recurring_places": run_.rows,
        "clusters": warning.rows,
        "held_out": judged,
    }
    report.notes.append(
        f"{run_.rows:,} recurring places, {warning.rows} early-warning clusters to {end_date}; "
        f"held-out judgement: {judged}"
    )
    return report
