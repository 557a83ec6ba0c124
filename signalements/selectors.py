"""Reads that carry a rule."""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.gis.db.models.functions import Distance
from django.contrib.gis.geos import Point
from django.contrib.gis.measure import D
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from .models import OPEN_STATUSES, Category, Comment, Photo, Signalement, StatusChange

NEARBY_LIMIT = 5


def signalements_public() -> QuerySet[Signalement]:
    """Reports the public may see: never those of sensitive categories."""
    return Signalement.objects.filter(category__is_sensitive=False).select_related(
        "category", "district", "team"
    )


def signalements_visible_to(user) -> QuerySet[Signalement]:
    if user.is_authenticated and user.is_staff:
        return Signalement.objects.select_related("category", "district", "team")
    return signalements_public()


def nearby_open_signalements(
    *, category: Category, location: Point, limit: int = NEARBY_LIMIT, exclude_id: int | None = None
) -> list[Signalement]:
    """Open reports of the same category within its duplicate radius and time window, nearest first.

    The distance test runs on the metric copy of the point, through its GiST index (ST_DWithin);
    a Distance(...) <= radius filter would compute the distance of every row instead.
    """
    here = location.transform(settings.METRIC_SRID, clone=True)
    since = timezone.now() - timedelta(days=category.duplicate_window_days)
    queryset = (
        Signalement.objects.filter(
            category=category,
            status__in=OPEN_STATUSES,
            created_at__gte=since,
            location_metric__dwithin=(here, D(m=category.duplicate_radius_m)),
        )
        .annotate(distance=Distance("location_metric", here))
        .select_related("category")
        .prefetch_related(Prefetch("photos", queryset=Photo.objects.filter(is_public=True)))
        .order_by("distance", "-created_at")
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
    """What the reporter sees through the private link: never internal notes or private texts."""
    signalement = (
        Signalement.objects.select_related("category", "district", "team", "reporter")
        .filter(tracking_token=token)
        .first()
    )
    if signalement is None:
        return None
    return TrackingView(
        signalement=signalement,
        history=list(signalement.history.filter(is_public=True)),
        comments=list(signalement.comments.filter(is_internal=False)),
        photos=list(signalement.photos.filter(is_public=True)),
    )
