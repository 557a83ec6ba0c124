"""Celery tasks: thin, idempotent, safe to retry. Each calls a service."""

from celery import shared_task

from .services import locate_cells_refresh, relocations_run


@shared_task
def relocate_signalements(territory_id: int | None = None) -> int:
    """After a boundary or work zone edit: relocate the territory (None: every territory) if its
    request is still pending. A burst of edits queues one task each; the first to run covers every
    edit committed before it started, and the others find nothing left to do."""
    return relocations_run(territory_id=territory_id)


@shared_task
def sweep_relocations() -> int:
    """Relocate the territories still marked (broker down when the edit was saved, or the task
    failed). One already being relocated is left to that relocation."""
    return relocations_run(wait=False)


@shared_task
def refresh_locate_cells() -> bool:
    """Build the locate cells again if a build failed; nothing to do otherwise."""
    return locate_cells_refresh()
