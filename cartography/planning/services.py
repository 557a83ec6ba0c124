"""The planners' analyses as services: each one recomputes a territory's table whole, in one
transaction, under an `AnalysisRun` row (parameters, rows written, finished_at). `ANALYSES` is the
registry the Celery beat tasks and `manage.py planning_compute` run: volumes, emerging hotspots,
recurring places and the early-warning scan, all the same way. A new analysis adds its entry:
`parameters(territory, now, **options)` gives what the run records (its window or dates among them;
`options` are a caller's overrides, such as a scan's end date), `compute(run, now)` writes the rows
in the open transaction from those parameters and returns how many into `model`'s table."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import connection, models, transaction
from django.db.models.functions import Now
from django.utils import timezone

from cartography.models import Territory

from . import early_warning, hotspots, recurrence, volumes
from .grid import DEFAULT_CELL_SIZE_M
from .models import AnalysisRun, DistrictVolume, EarlyWarningCluster, HotspotPlace, RecurringPlace
from .window import Window, territory_window

ANALYSIS_WORK_MEM = "64MB"


@dataclass(frozen=True)
class Analysis:
    kind: AnalysisRun.Kind
    parameters: Callable[..., dict]  # (territory, now, **options)
    compute: Callable[[AnalysisRun, datetime | None], int]
    model: type[models.Model]


def _volumes_parameters(territory: Territory, now: datetime | None) -> dict:
    window = territory_window(territory_id=territory.pk, months=volumes.MONTHS, now=now)
    return {"window": window.as_json(), "compared_with": "same month or season a year before"}


def _volumes_compute(run: AnalysisRun, now: datetime | None) -> int:
    window = Window.from_json(run.parameters["window"])
    return volumes.district_volumes_compute(territory=run.territory, window=window, now=now)


def _hotspots_parameters(territory: Territory, now: datetime | None) -> dict:
    window = territory_window(territory_id=territory.pk, months=hotspots.MONTHS, now=now)
    return {
        "window": window.as_json(),
        "cell_size_m": hotspots.DEFAULT_CELL_SIZE_M,
        "alpha": hotspots.ALPHA,
        "fdr": "Benjamini-Hochberg on analytic two-sided p-values",
        "p_values": "negative_binomial",
        "neighbourhood": "queen contiguity (districts within 5 m) x months t-1..t+1",
        "cells_kept": "cells with a class other than no_pattern",
    }


def _hotspots_compute(run: AnalysisRun, now: datetime | None) -> int:
    return hotspots.emerging_hotspots_compute(
        run=run,
        window=Window.from_json(run.parameters["window"]),
        cell_size_m=run.parameters["cell_size_m"],
        alpha=run.parameters["alpha"],
        p_values=run.parameters["p_values"],
    )


def _today(now: datetime | None) -> date:
    return timezone.localdate(now) if now is not None else timezone.localdate()


def _recurrence_parameters(
    territory: Territory, now: datetime | None, *, size_m: int = DEFAULT_CELL_SIZE_M
) -> dict:
    return recurrence.recurrence_parameters(today=_today(now), size_m=size_m)


def _recurrence_compute(run: AnalysisRun, now: datetime | None) -> int:
    return recurrence.recurring_places_write(run=run)


def _early_warning_parameters(
    territory: Territory,
    now: datetime | None,
    *,
    end_date: date | None = None,
    replicas: int = early_warning.REPLICAS,
    category_ids: list[int] | None = None,
) -> dict:
    # Default: up to yesterday, the last whole day.
    end_date = end_date or _today(now) - timedelta(days=1)
    return early_warning.early_warning_parameters(
        end_date=end_date, replicas=replicas, category_ids=category_ids
    )


def _early_warning_compute(run: AnalysisRun, now: datetime | None) -> int:
    return early_warning.early_warning_write(run=run)


ANALYSES: dict[str, Analysis] = {
    AnalysisRun.Kind.VOLUMES.value: Analysis(
        AnalysisRun.Kind.VOLUMES,
        parameters=_volumes_parameters,
        compute=_volumes_compute,
        model=DistrictVolume,
    ),
    AnalysisRun.Kind.HOTSPOTS.value: Analysis(
        AnalysisRun.Kind.HOTSPOTS,
        parameters=_hotspots_parameters,
        compute=_hotspots_compute,
        model=HotspotPlace,
    ),
    AnalysisRun.Kind.RECURRENCE.value: Analysis(
        AnalysisRun.Kind.RECURRENCE,
        parameters=_recurrence_parameters,
        compute=_recurrence_compute,
        model=RecurringPlace,
    ),
    AnalysisRun.Kind.EARLY_WARNING.value: Analysis(
        AnalysisRun.Kind.EARLY_WARNING,
        parameters=_early_warning_parameters,
        compute=_early_warning_compute,
        model=EarlyWarningCluster,
    ),
}


def analysis_run(*, territory: Territory, kind: str, now: datetime | None = None, **options) -> AnalysisRun:
    """Run one analysis of the registry over one territory, its table rewritten in one
    transaction: readers see the previous run's rows or the new ones, never a mix. `options` go to
    the analysis's parameters (see the wrappers below)."""
    analysis = ANALYSES[kind]
    with transaction.atomic():
        with connection.cursor() as cursor:
            # For this transaction only: JIT compilation cost a second per large query for less than
            # it saved, and the aggregates' sorts and hashes spilled to disk at the default work_mem.
            cursor.execute(f"SET LOCAL jit = off; SET LOCAL work_mem = '{ANALYSIS_WORK_MEM}'")
        run = AnalysisRun.objects.create(
            territory=territory, kind=analysis.kind, parameters=analysis.parameters(territory, now, **options)
        )
        rows = analysis.compute(run, now)
        AnalysisRun.objects.filter(pk=run.pk).update(rows=rows, finished_at=Now())
        with connection.cursor() as cursor:
            # The table was rewritten whole: the planner's statistics with it, in the same transaction
            # (ANALYZE counts its rows), or the readers' plans assume the previous contents until
            # autovacuum passes (an empty table: nested loops over 240,000 rows, 0.3 s instead of 0.01).
            cursor.execute(f"ANALYZE {analysis.model._meta.db_table}")
    run.refresh_from_db()
    return run


def analyses_run(
    *, territories: list[Territory] | None = None, kinds: list[str] | None = None, now: datetime | None = None
) -> list[AnalysisRun]:
    """The analyses `kinds` (default: all of the registry) over `territories` (default: all)."""
    territories = list(Territory.objects.order_by("slug")) if territories is None else territories
    return [
        analysis_run(territory=territory, kind=kind, now=now)
        for territory in territories
        for kind in (kinds or list(ANALYSES))
    ]


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def recurring_places_compute(
    *, territory: Territory, size_m: int = DEFAULT_CELL_SIZE_M, today: date | None = None
) -> AnalysisRun:
    """The territory's recurring places (every category and season) as seen on `today` (default:
    today), through the registry."""
    now = _local_midnight(today) if today is not None else None
    return analysis_run(territory=territory, kind=AnalysisRun.Kind.RECURRENCE, now=now, size_m=size_m)


def early_warning_scan(
    *,
    territory: Territory,
    end_date: date | None = None,
    category_ids: list[int] | None = None,
    replicas: int = early_warning.REPLICAS,
) -> AnalysisRun:
    """The early-warning scan of every category of the territory (or `category_ids`) up to
    `end_date` (default: yesterday), through the registry. A second scan of the same end date
    replaces the first, keeping which clusters were already announced."""
    return analysis_run(
        territory=territory,
        kind=AnalysisRun.Kind.EARLY_WARNING,
        end_date=end_date,
        category_ids=category_ids,
        replicas=replicas,
    )
