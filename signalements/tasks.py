"""Celery tasks: thin, idempotent, safe to retry. Each loads and calls a service."""

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from .models import Signalement
from .services import signalement_process


@shared_task(bind=True, max_retries=5, default_retry_delay=30, acks_late=True)
def signalement_after_submit(self, signalement_id: int) -> bool:
    return signalement_process(signalement_id=signalement_id)


@shared_task
def sweep_unprocessed() -> int:
    """Enqueue again the reports whose side effects never ran (broker down at submission)."""
    limit = timezone.now() - settings.SIGNALEMENT_SWEEP_AFTER
    ids = list(
        Signalement.objects.filter(processed_at__isnull=True, created_at__lt=limit, source="").values_list(
            "id", flat=True
        )[:1000]
    )
    for signalement_id in ids:
        signalement_after_submit.delay(signalement_id)
    return len(ids)
