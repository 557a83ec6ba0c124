"""Celery tasks of the planners' analyses: thin, idempotent (each rewrites its table whole). Every
analysis runs through the registry (`services.ANALYSES`) the same way; the weekly early-warning scan
is followed by the planners' digest."""

from celery import shared_task

from cartography.models import Territory

from .digest import early_warning_digest
from .models import AnalysisRun
from .services import analysis_run


@shared_task
def planning_analysis_compute(kind: str, territory_id: int | None = None) -> int:
    """Recompute one analysis for one territory (None: every territory); returns the rows written."""
    territories = Territory.objects.order_by("slug")
    if territory_id is not None:
        territories = territories.filter(pk=territory_id)
    return sum(analysis_run(territory=territory, kind=kind).rows for territory in territories)


@shared_task
def planning_volumes_compute() -> int:
    return planning_analysis_compute(AnalysisRun.Kind.VOLUMES.value)


@shared_task
def planning_hotspots_compute() -> int:
    return planning_analysis_compute(AnalysisRun.Kind.HOTSPOTS.value)


@shared_task
def recurring_places_refresh() -> int:
    """Every territory's places that come back every season, rewritten."""
    return planning_analysis_compute(AnalysisRun.Kind.RECURRENCE.value)


@shared_task
def early_warning_weekly() -> int:
    """The weekly space-time scan of every territory up to yesterday, then the planners' digest of
    the clusters that emerged. Run again, it replaces the week's scan and announces nothing twice.
    Returns the e-mails sent."""
    planning_analysis_compute(AnalysisRun.Kind.EARLY_WARNING.value)
    return early_warning_digest()
