"""The planners' analyses as services: each one recomputes a territory's table whole, in one
transaction, under an `AnalysisRun` row (parameters, rows written, finished_at). `ANALYSES` is the
registry the Celery beat tasks and `manage.py planning_compute` run; a new analysis adds its entry:
`parameters(territory, now)` gives what the run records (its window among them), `compute(run, now)`
writes the rows in the open transaction and returns how many."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.db.models.functions import Now

from cartography.models import Territory

from . import hotspots, volumes
from .models import AnalysisRun
from .window import Window, territory_window

ANALYSIS_WORK_MEM = "64MB"


@dataclass(frozen=True)
class Analysis:
    kind: AnalysisRun.Kind
    parameters: Callable[[Territory, datetime | None], dict]
    compute: Callable[[AnalysisRun, datetime | None], int]


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


ANALYSES: dict[str, Analysis] = {
    AnalysisRun.Kind.VOLUMES.value: Analysis(
        AnalysisRun.Kind.VOLUMES, parameters=_volumes_parameters, compute=_volumes_compute
    ),
    AnalysisRun.Kind.HOTSPOTS.value: Analysis(
        AnalysisRun.Kind.HOTSPOTS, parameters=_hotspots_parameters, compute=_hotspots_compute
    ),
}


def analysis_run(*, territory: Territory, kind: str, now: datetime | None = None) -> AnalysisRun:
    """Run one analysis of the registry over one territory, its table rewritten in one
    transaction: readers see the previous run's rows or the new ones, never a mix."""
    analysis = ANALYSES[kind]
    with transaction.atomic():
        with connection.cursor() as cursor:
            # For this transaction only: JIT compilation cost a second per large query for less than
            # it saved, and the aggregates' sorts and hashes spilled to disk at the default work_mem.
            cursor.execute(f"SET LOCAL jit = off; SET LOCAL work_mem = '{ANALYSIS_WORK_MEM}'")
        run = AnalysisRun.objects.create(
            territory=territory, kind=analysis.kind, parameters=analysis.parameters(territory, now)
        )
        rows = analysis.compute(run, now)
        AnalysisRun.objects.filter(pk=run.pk).update(rows=rows, finished_at=Now())
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
