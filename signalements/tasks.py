"""Celery tasks: thin, idempotent, safe to retry. Each loads and calls a service."""

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from .deadlines import public_holidays_top_up
from .duplicates import duplicate_groups_propose
from .models import Notification, Signalement
from .notifications import notifications_send, teams_overdue_digest
from .opendata.tasks import opendata_dump  # noqa: F401 - registered with Celery here
from .services import signalement_process
from .trust import retention


@shared_task(bind=True, max_retries=5, default_retry_delay=30, acks_late=True)
def signalement_after_submit(self, signalement_id: int) -> bool:
    processed = signalement_process(signalement_id=signalement_id)
    notifications_send(signalement_id=signalement_id)
    return processed


@shared_task(bind=True, max_retries=5, default_retry_delay=60, acks_late=True)
def notifications_deliver(self, signalement_id: int | None = None) -> int:
    try:
        return notifications_send(signalement_id=signalement_id)
    except OSError as exc:  # SMTP server unreachable: try again later, nothing was marked sent
        raise self.retry(exc=exc) from exc


@shared_task
def sweep_unprocessed() -> int:
    """Enqueue again what never ran (broker down when it was due): reports and e-mails."""
    limit = timezone.now() - settings.SIGNALEMENT_SWEEP_AFTER
    ids = list(
        Signalement.objects.filter(processed_at__isnull=True, created_at__lt=limit).values_list(
            "id", flat=True
        )[:1000]
    )
    for signalement_id in ids:
        signalement_after_submit.delay(signalement_id)
    if Notification.objects.filter(sent_at__isnull=True, created_at__lt=limit).exists():
        notifications_deliver.delay()
    return len(ids)


@shared_task
def duplicates_cluster() -> int:
    return duplicate_groups_propose()


@shared_task
def deadlines_digest() -> int:
    return teams_overdue_digest()


@shared_task
def public_holidays_next_year() -> int:
    return public_holidays_top_up(year=timezone.localdate().year + 1)


@shared_task
def contacts_anonymise() -> int:
    retention.login_logs_prune()
    return retention.contacts_anonymise().reports
