"""The daily full dump (settings CELERY_BEAT_SCHEDULE): thin, and safe to run again."""

from celery import shared_task

from .services import opendata_dump_write


@shared_task(acks_late=True)
def opendata_dump() -> list[str]:
    return [str(path) for path in opendata_dump_write().values()]
