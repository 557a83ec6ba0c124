"""Celery tasks of the public map: thin, idempotent."""

from celery import shared_task

from .services import counts_compact, day_counts_forget


@shared_task
def publicmap_days_forget() -> int:
    return day_counts_forget()


@shared_task
def publicmap_counts_compact() -> int:
    return counts_compact()
