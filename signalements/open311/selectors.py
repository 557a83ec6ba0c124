"""Reads of the Open311 server: which reports, services and updates, under the public rules.

A service request is a public report (selectors.signalements_public: never a sensitive category),
with its public description, its last public status text and its first public photo. Updates are
the public status changes and the city's public replies, never internal notes; texts are read in
their public versions (trust.moderation)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from ..models import OPEN_STATUSES, Category, Comment, Moderation, Photo, Signalement, StatusChange
from ..selectors import signalements_public
from ..trust.moderation import contact_details_mask

OPEN, CLOSED = "open", "closed"


class RequestInvalid(Exception):
    """A parameter the standard's 400 answers, with the message of each."""

    def __init__(self, errors: list[str]):
        super().__init__(errors)
        self.errors = errors


def open311_status(status: str) -> str:
    """open or closed, from the workflow (signalements.workflow): closed once resolved, closed,
    rejected or merged into another report."""
    return OPEN if status in OPEN_STATUSES else CLOSED


def services() -> QuerySet[Category]:
    return Category.objects.filter(is_active=True).select_related("group")


def service(code: str) -> Category | None:
    return services().filter(slug=code).first()


def parse_datetime(name: str, value: str) -> datetime:
    """A W3C / ISO 8601 date-time; without an offset, in the city's time zone."""
    from django.utils.dateparse import parse_date
    from django.utils.dateparse import parse_datetime as django_parse

    try:
        parsed = django_parse(value)
        if parsed is None and (day := parse_date(value)) is not None:
            parsed = datetime(day.year, day.month, day.day)
    except ValueError:
        parsed = None
    if parsed is None:
        raise RequestInvalid([f"{name}: not a W3C date-time (e.g. 2026-01-31T00:00:00Z): {value[:40]!r}"])
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.get_default_timezone())
    return parsed


def date_window(params) -> tuple[datetime, datetime]:
    """start_date and end_date, at most OPEN311_DEFAULT_WINDOW_DAYS apart: the last days when
    neither is given, that many days from the one that is."""
    span = timedelta(days=settings.OPEN311_DEFAULT_WINDOW_DAYS)
    start_text, end_text = params.get("start_date", "").strip(), params.get("end_date", "").strip()
    start = parse_datetime("start_date", start_text) if start_text else None
    end = parse_datetime("end_date", end_text) if end_text else None
    if start is None and end is None:
        end = timezone.now()
    if start is None:
        start = end - span
    if end is None:
        end = start + span
    if start > end:
        raise RequestInvalid(["start_date: after end_date"])
    if end - start > span:
        raise RequestInvalid([f"end_date: the range may not span more than {span.days} days"])
    return start, end


@dataclass(frozen=True)
class Page:
    number: int
    size: int

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size


def page_of(params) -> Page:
    """The page extension: page (from 1) and page_size (at most OPEN311_MAX_REQUESTS, the default)."""
    limit = settings.OPEN311_MAX_REQUESTS
    errors, values = [], {}
    for name, default in (("page", 1), ("page_size", limit)):
        text = params.get(name, "").strip()
        if not text:
            values[name] = default
        elif not text.isdigit() or int(text) < 1:
            errors.append(f"{name}: a positive whole number")
        else:
            values[name] = int(text)
    if errors:
        raise RequestInvalid(errors)
    if values["page_size"] > limit:
        raise RequestInvalid([f"page_size: at most {limit}"])
    return Page(values["page"], values["page_size"])


def _with_public_extras(queryset: QuerySet[Signalement]) -> QuerySet[Signalement]:
    last_public_text = (
        StatusChange.objects.filter(signalement=OuterRef("pk"), is_public=True)
        .exclude(text="")
        .order_by("-created_at", "-id")
        .values("text")[:1]
    )
    first_public_photo = (
        Photo.objects.filter(signalement=OuterRef("pk"), is_public=True)
        .order_by("created_at", "id")
        .values("image")[:1]
    )
    return queryset.annotate(status_text=Subquery(last_public_text), photo=Subquery(first_public_photo))


def requests_find(params) -> list[Signalement]:
    """GET requests: by service_request_id (a comma list, which overrides every other filter), or
    by service_code, status, start_date and end_date on the date of the request; newest first."""
    queryset = signalements_public()
    ids = [value.strip() for value in params.get("service_request_id", "").split(",") if value.strip()]
    if ids:
        if len(ids) > settings.OPEN311_MAX_REQUESTS:
            raise RequestInvalid([f"service_request_id: at most {settings.OPEN311_MAX_REQUESTS}"])
        return list(_with_public_extras(queryset.filter(reference__in=ids)).order_by("-created_at", "-id"))
    errors = []
    codes = [value.strip() for value in params.get("service_code", "").split(",") if value.strip()]
    if codes:
        known = set(Category.objects.filter(slug__in=codes).values_list("slug", flat=True))
        if unknown := [code for code in codes if code not in known]:
            errors.append(f"service_code: unknown {', '.join(unknown)[:200]}")
        queryset = queryset.filter(category__slug__in=codes)
    statuses = {value.strip() for value in params.get("status", "").split(",") if value.strip()}
    if statuses - {OPEN, CLOSED}:
        errors.append("status: open or closed, comma-separated")
    elif statuses == {OPEN}:
        queryset = queryset.filter(status__in=OPEN_STATUSES)
    elif statuses == {CLOSED}:
        queryset = queryset.exclude(status__in=OPEN_STATUSES)
    try:
        start, end = date_window(params)
    except RequestInvalid as exc:
        errors += exc.errors
    try:
        page = page_of(params)
    except RequestInvalid as exc:
        errors += exc.errors
    if errors:
        raise RequestInvalid(errors)
    queryset = queryset.filter(created_at__gte=start, created_at__lte=end).order_by("-created_at", "-id")
    return list(_with_public_extras(queryset)[page.offset : page.offset + page.size])


def request_get(reference: str) -> Signalement | None:
    return _with_public_extras(signalements_public().filter(reference=reference)).first()


def public_text(text: str | None) -> str:
    """A history text as the public reads it (trust.moderation.history_public)."""
    return contact_details_mask(text).text if text else ""


@dataclass(frozen=True)
class Update:
    update_id: str
    service_request_id: str
    status: str
    updated_datetime: datetime
    description: str
    media_url: str = ""


def updates_find(params) -> list[Update]:
    """mySociety's servicerequestupdates: the public status changes (not the first, the report's
    creation) and the city's public replies of public reports, between start_date and end_date,
    oldest first; a reply carries the status the report had then."""
    start, end = date_window(params)
    page = page_of(params)
    public_reports = signalements_public().values("pk")
    wanted = page.offset + page.size
    changes = (
        StatusChange.objects.filter(
            signalement__in=public_reports, is_public=True, created_at__gte=start, created_at__lte=end
        )
        .exclude(from_status="")
        .select_related("signalement")
        .order_by("created_at", "id")[:wanted]
    )
    status_then = (
        StatusChange.objects.filter(
            signalement=OuterRef("signalement"), created_at__lte=OuterRef("created_at")
        )
        .order_by("-created_at", "-id")
        .values("to_status")[:1]
    )
    replies = (
        Comment.objects.filter(
            signalement__in=public_reports,
            is_internal=False,
            from_citizen=False,
            created_at__gte=start,
            created_at__lte=end,
        )
        .exclude(moderation__in=(Moderation.HIDDEN, Moderation.PENDING))
        .annotate(status_then=Subquery(status_then))
        .select_related("signalement")
        .order_by("created_at", "id")[:wanted]
    )
    updates = [
        Update(
            update_id=f"status-{change.pk}",
            service_request_id=change.signalement.reference,
            status=open311_status(change.to_status),
            updated_datetime=change.created_at,
            description=public_text(change.text),
        )
        for change in changes
    ] + [
        Update(
            update_id=f"reply-{reply.pk}",
            service_request_id=reply.signalement.reference,
            status=open311_status(reply.status_then or reply.signalement.status),
            updated_datetime=reply.created_at,
            description=reply.public_text,
        )
        for reply in replies
    ]
    updates.sort(key=lambda update: (update.updated_datetime, update.update_id))
    return updates[page.offset : page.offset + page.size]
