"""Retention: the contact data of the people behind a report (the reporter's name, e-mail and phone,
supporters' and followers' e-mails, the e-mails queued for them, contact data typed in free text)
is anonymised a while after the report is closed; a person's data is exported or erased on request.

The report and its history stay: the history is append-only and holds no contact data (its texts
are the city's own); what was said to whom leaves with the queued e-mails."""

import re
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.db import transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from ..models import (
    OPEN_STATUSES,
    Comment,
    CrewUpdate,
    Notification,
    ReporterContact,
    Satisfaction,
    Signalement,
    StatusChange,
    Support,
)
from .moderation import contact_details_find

ERASED = "[…]"
BATCH = 500


@dataclass
class Anonymised:
    """What a run changed (or, dry, would change)."""

    reports: int = 0
    contacts: int = 0
    supports: int = 0
    notifications: int = 0
    texts: int = 0
    # History rows that mention the address: append-only, they cannot be changed. Staff texts
    # should never hold contact data; the person erasing is told if one does.
    history_mentions: int = 0

    def __add__(self, other: "Anonymised") -> "Anonymised":
        return Anonymised(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})


def contacts_scrub(text: str, *, known: Iterable[str] = ()) -> str:
    """The text without e-mail addresses and phone numbers (found as moderation finds them, the
    city's own contacts included) and without the given values (a person's name, e-mail, phone)."""
    if not text:
        return text
    for value in sorted({v.strip() for v in known if v and len(v.strip()) >= 3}, key=len, reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(value)}(?!\w)", ERASED, text, flags=re.IGNORECASE)
    for start, end in reversed(contact_details_find(text)):
        text = text[:start] + ERASED + text[end:]
    return text


def _scrub_rows(queryset, field: str, known: Iterable[str]) -> int:
    changed = 0
    for pk, text in queryset.values_list("pk", field):
        scrubbed = contacts_scrub(text, known=known)
        if scrubbed != text:
            queryset.model.objects.filter(pk=pk).update(**{field: scrubbed})
            changed += 1
    return changed


def _report_anonymise(signalement: Signalement, *, now: datetime, known: Iterable[str] = ()) -> Anonymised:
    """Remove every contact of one report (locked by the caller) and mark it anonymised."""
    known = set(known)
    contact = ReporterContact.objects.filter(signalement=signalement).first()
    if contact is not None:
        known |= {contact.name, contact.email, contact.phone}
    known |= set(
        Support.objects.filter(signalement=signalement).exclude(email="").values_list("email", flat=True)
    )
    done = Anonymised(reports=1)
    done.contacts = ReporterContact.objects.filter(
        signalement=signalement, anonymised_at__isnull=True
    ).update(name="", email="", phone="", show_name=False, wants_updates=False, anonymised_at=now)
    done.supports = (
        Support.objects.filter(signalement=signalement)
        .exclude(email="")
        .update(email="", wants_updates=False)
    )
    done.notifications, _ = Notification.objects.filter(signalement=signalement).delete()
    report = Signalement.objects.filter(pk=signalement.pk)
    done.texts = (
        _scrub_rows(report, "description", known)
        + _scrub_rows(report, "place_description", known)
        + _scrub_rows(Comment.objects.filter(signalement=signalement), "text", known)
        + _scrub_rows(CrewUpdate.objects.filter(signalement=signalement), "note", known)
        + _scrub_rows(Satisfaction.objects.filter(signalement=signalement), "text", known)
    )
    report.update(anonymised_at=now)
    return done


def _closed_long_ago(now: datetime):
    """Closed reports whose last closure is older than the retention period, and that were not
    anonymised since (a report reopened and closed again gets new supporters)."""
    cutoff = now - timedelta(days=settings.SIGNALEMENT_RETENTION_DAYS)
    closure = (
        StatusChange.objects.filter(signalement=OuterRef("pk"))
        .exclude(to_status=F("from_status"))  # notes keep the status: not a closure
        .order_by("-created_at", "-id")
        .values("created_at")[:1]
    )
    return (
        Signalement.objects.exclude(status__in=OPEN_STATUSES)
        .filter(Q(anonymised_at__isnull=True) | Q(anonymised_at__lt=F("updated_at")))
        .annotate(closed_at=Coalesce(Subquery(closure), F("updated_at")))
        .filter(closed_at__lt=cutoff)
    )


def contacts_anonymise(*, now: datetime | None = None, dry_run: bool = False) -> Anonymised:
    """Anonymise the reports closed longer ago than SIGNALEMENT_RETENTION_DAYS, one committed batch
    at a time. Running it again changes nothing."""
    now = now or timezone.now()
    if dry_run:
        ids = _closed_long_ago(now).values("pk")
        return Anonymised(
            reports=_closed_long_ago(now).count(),
            contacts=ReporterContact.objects.filter(signalement__in=ids, anonymised_at__isnull=True).count(),
            supports=Support.objects.filter(signalement__in=ids).exclude(email="").count(),
            notifications=Notification.objects.filter(signalement__in=ids).count(),
        )
    total, seen = Anonymised(), set()
    while True:
        with transaction.atomic():
            batch = list(
                _closed_long_ago(now)
                .exclude(pk__in=seen)
                .order_by("pk")
                .select_for_update(skip_locked=True, of=("self",))[:BATCH]
            )
            for signalement in batch:
                total += _report_anonymise(signalement, now=now)
        if not batch:
            return total
        seen.update(s.pk for s in batch)


def login_logs_prune(*, now: datetime | None = None) -> int:
    """Delete the login records (django-axes: successes, failures, attempts, each with an IP
    address and a user agent) older than SIGNALEMENT_LOGIN_LOG_DAYS; how many rows went."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    limit = (now or timezone.now()) - timedelta(days=settings.SIGNALEMENT_LOGIN_LOG_DAYS)
    return sum(
        model.objects.filter(attempt_time__lt=limit).delete()[0]
        for model in (AccessLog, AccessFailureLog, AccessAttempt)
    )


def _of_email(email: str) -> dict:
    return {
        "reports": Signalement.objects.filter(reporter__email__iexact=email),
        "supports": Support.objects.filter(email__iexact=email),
        "notifications": Notification.objects.filter(recipient__iexact=email),
    }


def citizen_data_export(*, email: str) -> dict:
    """Everything tied to one e-mail address: the reports it filed (with its contact and public
    messages), the reports it backs or follows, the e-mails sent to it. Nothing of anyone else."""
    of = _of_email(email)
    reports = []
    for s in of["reports"].select_related("category", "reporter").order_by("created_at", "pk"):
        reports.append(
            {
                "reference": s.reference,
                "created_at": s.created_at.isoformat(),
                "status": s.status,
                "category": s.category.slug,
                "location": [s.location.x, s.location.y],
                "address": s.address,
                "place_description": s.place_description,
                "description": s.description,
                "contact": {
                    "name": s.reporter.name,
                    "email": s.reporter.email,
                    "phone": s.reporter.phone,
                    "show_name": s.reporter.show_name,
                    "wants_updates": s.reporter.wants_updates,
                    "language": s.reporter.language,
                },
                "messages": [
                    {"at": c.created_at.isoformat(), "text": c.text}
                    for c in s.comments.filter(from_citizen=True).order_by("created_at", "pk")
                ],
            }
        )
    supports = [
        {
            "reference": reference,
            "created_at": created_at.isoformat(),
            "email": address,
            "wants_updates": wants_updates,
            "language": language,
        }
        for reference, created_at, address, wants_updates, language in of["supports"]
        .order_by("created_at", "pk")
        .values_list("signalement__reference", "created_at", "email", "wants_updates", "language")
    ]
    notifications = [
        {
            "reference": reference,
            "kind": kind,
            "recipient": recipient,
            "created_at": created_at.isoformat(),
            "sent_at": sent_at.isoformat() if sent_at else None,
        }
        for reference, kind, recipient, created_at, sent_at in of["notifications"]
        .order_by("created_at", "pk")
        .values_list("signalement__reference", "kind", "recipient", "created_at", "sent_at")
    ]
    return {"email": email, "reports": reports, "supports": supports, "notifications": notifications}


@transaction.atomic
def citizen_data_erase(*, email: str, now: datetime | None = None) -> Anonymised:
    """Erase one person's contact data on request, wherever the address appears: their reports are
    anonymised (kept, with their history), their supports and queued e-mails lose the address,
    free texts and the admin's log lose it. Running it again changes nothing."""
    now = now or timezone.now()
    email = email.strip()
    if not email:
        return Anonymised()
    done = Anonymised()
    of = _of_email(email)
    for signalement in of["reports"].select_for_update(of=("self",)).order_by("pk"):
        done += _report_anonymise(signalement, now=now, known=[email])
    done.supports += of["supports"].update(email="", wants_updates=False)
    deleted, _ = of["notifications"].delete()
    done.notifications += deleted
    known = [email]
    for model, field in (
        (Signalement, "description"),
        (Signalement, "place_description"),
        (Comment, "text"),
        (CrewUpdate, "note"),
        (Satisfaction, "text"),
    ):
        done.texts += _scrub_rows(model.objects.filter(**{f"{field}__icontains": email}), field, known)
    address = re.compile(re.escape(email), re.IGNORECASE)
    for entry in LogEntry.objects.filter(
        Q(change_message__icontains=email) | Q(object_repr__icontains=email)
    ):
        LogEntry.objects.filter(pk=entry.pk).update(
            change_message=address.sub(ERASED, entry.change_message),
            object_repr=address.sub(ERASED, entry.object_repr),
        )
    done.history_mentions = StatusChange.objects.filter(text__icontains=email).count()
    return done
