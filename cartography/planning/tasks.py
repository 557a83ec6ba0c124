"""Celery tasks of the planners' analyses: thin, idempotent, safe to retry."""

from celery import shared_task

from cartography.models import Territory

from .digest import early_warning_digest
from .early_warning import early_warning_scan
from .recurrence import recurring_places_compute


@shared_task
def recurring_places_refresh() -> int:
    """Every territory's places that come back every season, rewritten."""
    return sum(recurring_places_compute(territory=territory).rows for territory in Territory.objects.all())


@shared_task
def early_warning_weekly() -> int:
    """The weekly space-time scan of every territory up to yesterday, then the planners' digest of
    the clusters that emerged. Run again, it replaces the week's scan and announces nothing twice."""
    for territory in Territory.objects.all():
        early_warning_scan(territory=territory)
    return early_warning_digest()
