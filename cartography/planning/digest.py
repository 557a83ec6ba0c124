"""The planners' weekly e-mail: the early-warning clusters that emerged this week, each announced once."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from signalements.roles import PLANNER

from .early_warning import ALPHA
from .models import EarlyWarningCluster

DIGEST_DAYS = 7


def planner_recipients() -> list[tuple[str, str]]:
    """(e-mail, language) of every active planner with an address; French unless a profile says
    otherwise (staff users have no language of their own yet)."""
    users = get_user_model().objects.filter(groups__name=PLANNER, is_active=True).exclude(email="")
    recipients = {}
    for user in users.order_by("pk"):
        language = getattr(getattr(user, "profile", None), "language", "") or settings.LANGUAGE_CODE
        recipients.setdefault(user.email.lower(), language)
    return sorted(recipients.items())


def early_warning_digest(*, now=None) -> int:
    """Send the clusters that ended in the last week and were never announced to every planner, then
    mark them announced, in one transaction: a worker that fails to send leaves them for the next
    run, and two workers never announce the same cluster (its rows stay locked meanwhile).
    Returns the number of e-mails sent."""
    now = now or timezone.now()
    since = timezone.localdate(now) - timedelta(days=DIGEST_DAYS)
    with transaction.atomic():
        clusters = list(
            EarlyWarningCluster.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(notified_at__isnull=True, p_value__lt=ALPHA, end_date__gt=since)
            .select_related("category", "district", "run__territory")
            .defer("district__geom", "run__territory__geom")
            .order_by("run__territory__name", "category__position", "p_value")
        )
        recipients = planner_recipients()
        if not clusters or not recipients:
            return 0
        sent = 0
        for email, language in recipients:
            with translation.override(language):
                context = {
                    "clusters": clusters,
                    "site_url": settings.SITE_URL,
                    "days": DIGEST_DAYS,
                }
                subject = render_to_string("planning/email/early_warning_subject.txt", context).strip()
                body = render_to_string("planning/email/early_warning.txt", context)
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [email])
            sent += 1
        EarlyWarningCluster.objects.filter(pk__in=[c.pk for c in clusters]).update(notified_at=now)
    return sent
