from celery import shared_task

from .services import signalements_relocate


@shared_task
def relocate_signalements(territory_id: int | None = None) -> int:
    return signalements_relocate(territory_id=territory_id)
