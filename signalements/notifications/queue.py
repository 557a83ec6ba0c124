"""Notifications queued for a report's reporter and followers, and handed to Celery after commit.
Delivery (rendering, sending) is in `delivery`."""

import logging
from collections.abc import Iterable

from django.db import transaction

from config.celery import app as celery_app
from config.celery import delay_or_leave_for_sweep

from ..models import (
    Notification,
    ReporterContact,
    Signalement,
    Support,
)

logger = logging.getLogger(__name__)


def followers_notify(signalement: Signalement, kind: str, **cause) -> None:
    """Queue one e-mail per person following the report: its reporter and its supporters, once
    they confirmed their address (trust.optin)."""
    recipients: dict[str, str] = {}
    reporter = (
        ReporterContact.objects.filter(
            signalement=signalement, wants_updates=True, email_confirmed_at__isnull=False
        )
        .exclude(email="")
        .first()
    )
    if reporter is not None:
        recipients[reporter.email.lower()] = reporter.language
    for email, language in (
        Support.objects.filter(signalement=signalement, wants_updates=True, email_confirmed_at__isnull=False)
        .exclude(email="")
        .values_list("email", "language")
    ):
        recipients.setdefault(email.lower(), language)
    notifications_queue(signalement=signalement, kind=kind, recipients=recipients.items(), **cause)


def notifications_queue(
    *, signalement: Signalement, kind: str, recipients: Iterable[tuple[str, str]], **cause
) -> None:
    """One e-mail row per (address, language), sent after commit; a row already there for the same
    cause and address is kept, so that retries send nothing twice."""
    rows = [
        Notification(signalement=signalement, kind=kind, recipient=email, language=language, **cause)
        for email, language in recipients
    ]
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    if rows:
        transaction.on_commit(lambda: enqueue_notifications(signalement.pk))


def enqueue_notifications(signalement_id: int) -> None:
    delay_or_leave_for_sweep(
        celery_app.signature("signalements.tasks.notifications_deliver"),
        signalement_id,
        what=f"notifications of {signalement_id}",
        logger=logger,
    )
