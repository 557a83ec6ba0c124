"""Reads that carry a rule."""

import hmac
import re
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.gis.db.models.functions import Distance
from django.contrib.gis.geos import Point
from django.contrib.gis.measure import D
from django.contrib.postgres.search import SearchQuery
from django.db import connection
from django.db.models import (
    BigIntegerField,
    BooleanField,
    Case,
    DurationField,
    ExpressionWrapper,
    F,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, Now
from django.utils import timezone

from .models import (
    OPEN_STATUSES,
    SEARCH_CONFIG,
    TRACKING_SEPARATOR,
    Category,
    Comment,
    DuplicateGroup,
    Moderation,
    Photo,
    Signalement,
    StatusChange,
)
from .trust.moderation import history_public

NEARBY_LIMIT = 5


def _with_names(signalements: QuerySet[Signalement]) -> QuerySet[Signalement]:
    """Each report with its category, district and team, without the district's outline: a page of
    100 reports would otherwise carry 100 copies of a polygon that nothing about a report shows."""
    return signalements.select_related("category", "district", "team").defer("district__geom")


def signalements_public() -> QuerySet[Signalement]:
    """Reports the public may see: never those of sensitive categories."""
    return _with_names(Signalement.objects.filter(category__is_sensitive=False))


def signalements_visible_to(user) -> QuerySet[Signalement]:
    """The public list and detail: sensitive reports only for the roles that read every report
    (a crew reads its own through its work list, not here)."""
    from .trust.policy import reaches_every_report

    if reaches_every_report(user):
        return _with_names(Signalement.objects.all())
    return signalements_public()


def nearby_open_queryset(*, category: Category, location: Point) -> QuerySet[Signalement]:
    """Open reports of the same category within its duplicate radius and time window, nearest first.

    The distance test runs on the metric copy of the point, through its GiST index (ST_DWithin);
    a Distance(...) <= radius filter would compute the distance of every row instead. PostGIS
    transforms the WGS84 point (GDAL would build a new transformation, some 14 ms, each call).
    """
    here = location
    window = timedelta(days=category.duplicate_window_days)
    return (
        Signalement.objects.alias(
            age=ExpressionWrapper(Now() - F("created_at"), output_field=DurationField())
        )
        .filter(
            # bigint like the column, or the index's btree_gist (int8) part could not take it
            category_id=Cast(Value(category.pk), BigIntegerField()),
            status_open=True,  # through the partial spatial index of open reports
            # As an age, not `created_at >= …`: the planner would AND the created_at btree's
            # thousands of recent rows with the few the spatial index finds (FINDINGS.md: nearby).
            age__lte=window,
            location_metric__dwithin=(here, D(m=category.duplicate_radius_m)),
        )
        .annotate(distance=Distance("location_metric", here))
        .order_by("distance", "-created_at")
    )


def is_public(signalement: Signalement) -> bool:
    """Whether the public may see this report: its point, text and photos (signalements_public)."""
    return not signalement.category.is_sensitive


def nearby_open_signalements(
    *,
    category: Category,
    location: Point,
    limit: int = NEARBY_LIMIT,
    exclude_id: int | None = None,
    public: bool = True,
) -> list[Signalement]:
    """At most `limit` likely duplicates of a report at `location`, with their public photos.

    Shown to the public (`public`, the default) they never include a sensitive report: a citizen
    filing one sees no others. The desk's duplicate candidates (public=False) do."""
    if public and category.is_sensitive:
        return []  # every candidate is of this very category
    queryset = (
        nearby_open_queryset(category=category, location=location)
        .select_related("category")
        .prefetch_related(Prefetch("photos", queryset=Photo.objects.filter(is_public=True)))
    )
    if exclude_id is not None:
        queryset = queryset.exclude(pk=exclude_id)
    return list(queryset[:limit])


@dataclass(frozen=True)
class TrackingView:
    signalement: Signalement
    history: list[StatusChange]
    comments: list[Comment]
    photos: list[Photo]


def tracking_view(*, token: str) -> TrackingView | None:
    """What the reporter sees through the private link: never internal notes or private texts.
    None unless the token is a report's reference and that report's secret (Signalement.tracking_token)."""
    reference, separator, secret = token.partition(TRACKING_SEPARATOR)
    if not separator or not secret:
        return None
    signalement = (
        Signalement.objects.select_related(
            "category",
            "district",
            "team",
            "reporter",
            "duplicate_of__category",
            "duplicate_of__district",
            "duplicate_of__team",
        )
        .defer("district__geom", "duplicate_of__district__geom")
        .filter(reference=reference)
        .first()
    )
    if signalement is None or not hmac.compare_digest(signalement.tracking_secret.encode(), secret.encode()):
        return None
    return TrackingView(
        signalement=signalement,
        history=history_public(signalement),
        # The reporter's own messages as written; the city's replies as the public sees them.
        comments=list(
            signalement.comments.filter(is_internal=False)
            .exclude(from_citizen=False, moderation__in=(Moderation.HIDDEN, Moderation.PENDING))
            .annotate(shown_text=Case(When(from_citizen=True, then=F("text")), default=F("public_text")))
        ),
        photos=list(signalement.photos.filter(is_public=True)),
    )


def signalements_for_staff(user) -> QuerySet[Signalement]:
    """What a staff member may see: everything for agents, planners and administrators; a crew
    member sees only the reports of its teams (trust.policy)."""
    from .trust.policy import signalements_in_scope

    return signalements_in_scope(user, _with_names(Signalement.objects.all()))


def signalements_queue(user, *, every_status: bool = False) -> QuerySet[Signalement]:
    """The desk's work queue: open reports, overdue first, then new ones, then by deadline.

    With `every_status` (a search, or a filter on a closed status) every report the user may read,
    newest first: the queue's order means nothing for closed reports, and sorting a million of
    them by it would not be read from any index."""
    now = timezone.now()
    if every_status:
        return (
            signalements_for_staff(user)
            .annotate(
                overdue=Case(
                    When(status__in=OPEN_STATUSES, deadline_at__lt=now, then=Value(True)),
                    default=Value(False),
                    output_field=BooleanField(),
                )
            )
            .order_by("-created_at", "-id")
        )
    return (
        signalements_for_staff(user)
        .filter(status__in=OPEN_STATUSES)
        .annotate(
            overdue=Case(
                When(deadline_at__lt=now, then=Value(True)), default=Value(False), output_field=BooleanField()
            ),
            is_new=Case(
                When(status="new", then=Value(True)), default=Value(False), output_field=BooleanField()
            ),
        )
        .order_by("-overdue", "-is_new", "deadline_at", "created_at")
    )


# S0001234, s1234 or 1234: a reference (at least seven digits once padded, models.Signalement).
REFERENCE_SEARCH = re.compile(r"^[sS]?\s*(\d{1,12})$")
SEARCH_WORDS = 8


def search_is_email(text: str) -> bool:
    return "@" in text


def signalements_search(
    queryset: QuerySet[Signalement], *, text: str, with_contacts: bool
) -> QuerySet[Signalement]:
    """The reports of `queryset` that `text` names: a reference (unique index), a reporter's
    e-mail (only `with_contacts`: others must not learn whose report it is), or words starting
    the words of the address or the description (GIN full-text indexes). Without contacts the
    description searched is its public version, as those roles read it."""
    text = text.strip()
    if match := REFERENCE_SEARCH.match(text):
        return queryset.filter(reference=f"S{int(match[1]):07d}")
    if search_is_email(text):
        if not with_contacts:
            return queryset.none()
        return queryset.filter(reporter__email__iexact=text)
    words = re.findall(r"[^\W_]+", text)[:SEARCH_WORDS]
    if not words:
        return queryset.none()
    # Word starts ("avr" finds "Avroy"); the words are letters and digits only, so that nothing
    # typed can change the query's syntax.
    query = SearchQuery(" & ".join(f"{word}:*" for word in words), search_type="raw", config=SEARCH_CONFIG)
    matches = Q(public_words=query)
    if with_contacts:
        matches |= Q(private_words=query)
    if _search_is_common(" & ".join(f"{word}:*" for word in words), with_contacts=with_contacts):
        # Found in many of the newest reports: the page's walk by date meets its 50 rows (and the
        # count its cap) after a few thousand reports, each checked by reading its stored words.
        return queryset.filter(matches)
    # Else the matches are read from the GIN indexes first (OFFSET 0 keeps PostgreSQL from folding
    # the subquery into the page's scan by date): planned together, a rare word had every report
    # read, as the planner does not know how rare a word start is.
    sql, params = Signalement.objects.filter(matches).order_by().values("pk").query.sql_with_params()
    return queryset.filter(pk__in=RawSQL(f"{sql} OFFSET 0", params))


SEARCH_PROBE_ROWS = 20_000
SEARCH_PROBE_COMMON = 250
SEARCH_PROBE_SQL = """
SELECT count(*) FROM (
    SELECT 1 FROM (
        SELECT public_words, private_words FROM signalements_signalement
         ORDER BY created_at DESC LIMIT %(rows)s
    ) newest
     WHERE public_words @@ to_tsquery(%(config)s::regconfig, %(query)s)
        {private}
     LIMIT %(common)s
) found
"""


def _search_is_common(query: str, *, with_contacts: bool) -> bool:
    """Whether `query` matches many of the newest reports, read by date (at most 20,000 rows)."""
    private = "OR private_words @@ to_tsquery(%(config)s::regconfig, %(query)s)" if with_contacts else ""
    params = {
        "rows": SEARCH_PROBE_ROWS,
        "config": SEARCH_CONFIG,
        "query": query,
        "common": SEARCH_PROBE_COMMON,
    }
    with connection.cursor() as cursor:
        cursor.execute(SEARCH_PROBE_SQL.format(private=private), params)
        return cursor.fetchone()[0] >= SEARCH_PROBE_COMMON


def reporter_history(*, email: str = "", phone: str = "", limit: int = 10) -> list[Signalement]:
    """A citizen's earlier reports, found by e-mail or phone, for the agent on the phone."""
    if not email and not phone:
        return []
    condition = Q()
    if email:
        condition |= Q(reporter__email__iexact=email)
    if phone:
        condition |= Q(reporter__phone=phone)
    return list(
        Signalement.objects.filter(condition).select_related("category").order_by("-created_at")[:limit]
    )


DESK_NEARBY_LIMIT = 10


def nearby_open_for_desk(
    *, signalement: Signalement, user, limit: int = DESK_NEARBY_LIMIT
) -> list[Signalement]:
    """Open reports of the same category that the desk may merge into `signalement`: within the
    category's radius and filed within its time window before or after it, nearest first, in the
    user's staff scope, with their photos.

    The window is around the report's own date, not today's: an agent opening a report of last
    month looks for what was filed about the same problem then (nearby_open_queryset serves intake,
    where the two are the same)."""
    category = signalement.category
    window = timedelta(days=category.duplicate_window_days)
    here = signalement.location_metric
    return list(
        signalements_for_staff(user)
        .filter(
            category_id=Cast(Value(category.pk), BigIntegerField()),
            status_open=True,
            duplicate_of__isnull=True,
            created_at__range=(signalement.created_at - window, signalement.created_at + window),
            location_metric__dwithin=(here, D(m=category.duplicate_radius_m)),
        )
        .exclude(pk=signalement.pk)
        .annotate(distance=Distance("location_metric", here))
        .prefetch_related("photos")
        .order_by("distance", "-created_at")[:limit]
    )


def duplicate_groups_for_desk() -> QuerySet:
    """The groups the clustering job proposed, newest first, each with its members oldest first
    (the oldest is the proposed master) and their photos."""
    members = _with_names(Signalement.objects.all()).prefetch_related("photos").order_by("created_at", "id")
    return (
        DuplicateGroup.objects.filter(state=DuplicateGroup.State.PROPOSED)
        .select_related("category")
        .prefetch_related(Prefetch("members", queryset=members))
        .order_by("-created_at", "-id")
    )
