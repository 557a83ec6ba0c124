"""Celery tasks of the planners' analyses: thin, idempotent (each rewrites its table whole)."""

from celery import shared_task

from cartography.models import Territory

from .services import ANALYSES, analysis_run


@shared_task
def planning_analysis_compute(kind: str, territory_id: int | None = None) -> int:
    """Recompute one analysis for one territory (None: every territory); returns the rows written."""
    territories = Territory.objects.order_by("slug")
    if territory_id is not None:
        territories = territories.filter(pk=territory_id)
    return sum(analysis_run(territory=territory, kind=kind).rows for territory in territories)


@shared_task
def planning_volumes_compute() -> int:
    return planning_analysis_compute(ANALYSES["volumes"].kind.value)


@shared_task
def planning_hotspots_compute() -> int:
    return planning_analysis_compute(ANALYSES["hotspots"].kind.value)
