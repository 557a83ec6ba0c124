"""Sending the queued e-mails. Each Notification row is sent at most once."""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from ..models import Notification
from ..trust.optin import confirmation_url

logger = logging.getLogger(__name__)


def _render(notification: Notification) -> tuple[str, str]:
    signalement = notification.signalement
    context = {
        "signalement": signalement,
        "notification": notification,
        "tracking_url": settings.SITE_URL + reverse("tracking", args=[signalement.tracking_token]),
        "status_change": notification.status_change,
        "comment": notification.comment,
    }
    reporter = getattr(signalement, "reporter", None)
    reporter_email = getattr(reporter, "email", "")
    is_reporter = notification.recipient.lower() == reporter_email.lower()
    context["is_reporter"] = is_reporter
    if notification.kind == Notification.Kind.CONFIRM or (
        notification.kind == Notification.Kind.SUBMITTED
        and reporter is not None
        and reporter.email_confirmed_at is None
    ):
        # Signed when sent, so that the link's life starts then. The private link comes only
        # after the confirmation: an address typed by mistake must not receive it.
        context["confirm_url"] = confirmation_url(signalement_id=signalement.pk, email=notification.recipient)
        context["tracking_url"] = ""
        context["max_age_days"] = settings.SIGNALEMENT_CONFIRMATION_MAX_AGE.days
    elif notification.kind == Notification.Kind.MERGED:
        # The duplicate's reporter keeps their own private link (its page now follows the master);
        # nobody gets the master's link, which belongs to another reporter.
        master = signalement.duplicate_of
        context["master"] = master
        if not is_reporter:
            context["tracking_url"] = settings.SITE_URL + reverse(
                "public-signalement", args=[master.reference]
            )
    elif notification.kind != Notification.Kind.SUBMITTED and not is_reporter:
        # Followers other than the reporter get the public page, not the reporter's private link.
        context["tracking_url"] = settings.SITE_URL + reverse(
            "public-signalement", args=[signalement.reference]
        )
    with translation.override(notification.language):
        subject = render_to_string(f"signalements/email/{notification.kind}_subject.txt", context).strip()
        body = render_to_string(f"signalements/email/{notification.kind}.txt", context)
    return subject, body


def notifications_send(*, signalement_id: int | None = None) -> int:
    """Send pending e-mails, one per transaction: the row is locked while its e-mail is sent and
    marked sent before the lock is released, so two workers or a retried task never send it twice,
    and a failing SMTP server leaves only the failed e-mail pending."""
    sent = 0
    while True:
        with transaction.atomic():
            pending = Notification.objects.select_for_update(skip_locked=True, of=("self",)).filter(
                sent_at__isnull=True
            )
            if signalement_id is not None:
                pending = pending.filter(signalement_id=signalement_id)
            notification = (
                pending.select_related(
                    "signalement",
                    "signalement__reporter",
                    "signalement__team",
                    "signalement__category",
                    "signalement__duplicate_of__category",
                    "signalement__duplicate_of__team",
                    "status_change",
                    "comment",
                )
                .order_by("created_at", "id")
                .first()
            )
            if notification is None:
                return sent
            subject, body = _render(notification)
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [notification.recipient])
            Notification.objects.filter(pk=notification.pk).update(sent_at=timezone.now())
            sent += 1


def teams_overdue_digest() -> int:
    """Each morning, one e-mail per team listing its open reports past their deadline."""
    from cartography.models import Team

    from ..models import OPEN_STATUSES, Signalement

    sent = 0
    now = timezone.now()
    for team in Team.objects.filter(is_active=True).prefetch_related("members"):
        overdue = list(
            Signalement.objects.filter(team=team, status__in=OPEN_STATUSES, deadline_at__lt=now)
            .select_related("category", "district")
            .defer("district__geom")
            .order_by("deadline_at")
        )
        recipients = sorted({team.public_email, *(m.email for m in team.members.all())} - {""})
        if not overdue or not recipients:
            continue
        context = {"team": team, "overdue": overdue, "site_url": settings.SITE_URL}
        with translation.override(settings.LANGUAGE_CODE):
            subject = render_to_string("signalements/email/digest_subject.txt", context).strip()
            body = render_to_string("signalements/email/digest.txt", context)
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
        sent += 1
    return sent
