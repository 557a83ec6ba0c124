"""A crew's work list: its open reports in a route order from the depot, with distances."""

import hashlib
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.contrib.gis.db.models.functions import Transform
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from cartography.models import DistrictPart, Team, WorkZonePart
from cartography.routing import DRIVING_M_PER_S, WALKING_M_PER_S, order_stops
from cartography.selectors import local_settings

from ..models import Priority, Signalement, Status, WorkListPosition

WORK_LIST_FIELDS = (
    "reference",
    "location",
    "location_metric",
    "address",
    "status",
    "priority",
    "deadline_at",
    "category",
    "district__name",
)
ROUTE_CACHE_SECONDS = 6 * 3600
WORK_STATUSES = (Status.NEW, Status.ACKNOWLEDGED, Status.PLANNED, Status.IN_PROGRESS)
# The team's open reports are read through signalement_open_team whatever the row estimates
# (FINDINGS.md: crew work list). The planner costs each report's work-zone test (a probe of the
# parts' spatial index and an ST_Intersects) some 27 units, 0.01 ms in fact: once the team's estimated
# open reports grew from about 505 to 690 (100,000 reports), sharing those tests among two workers
# looked cheaper, and the table was read whole in parallel: 100 ms instead of 1 to 6 ms. Without
# workers, a plain index scan of another partial index of the open reports (by deadline), read whole,
# still looked cheapest (13 ms at 1M reports); a bitmap scan of the team's index reads only the
# team's reports (2 ms). The same costs put the serial plan over the JIT threshold at 1M reports:
# 16 ms of compiling for a 3 ms query.
WORK_LIST_PLAN = {"max_parallel_workers_per_gather": "0", "enable_indexscan": "off", "jit": "off"}


@dataclass(frozen=True)
class Stop:
    number: int
    signalement: Signalement
    leg_m: float  # from the previous stop (or the depot)
    forced: bool

    @property
    def walk_min(self) -> int:
        return round(self.leg_m / WALKING_M_PER_S / 60)

    @property
    def drive_min(self) -> int:
        return round(self.leg_m / DRIVING_M_PER_S / 60)


def teams_of(user) -> QuerySet[Team]:
    if user.is_superuser:
        return Team.objects.filter(is_active=True)
    return Team.objects.filter(members=user, is_active=True)


def work_list_queryset(
    *, team: Team, category=None, priority=None, status=None, deadline_before=None, district=None, bbox=None
) -> QuerySet[Signalement]:
    """The team's open reports, inside its work zones when it has some, filtered."""
    queryset = (
        # A stop the crew could not do waits for the desk's answer off the list.
        Signalement.objects.filter(team=team, status__in=WORK_STATUSES, crew_return__isnull=True)
        .select_related("category", "district")
        # What lists and exports show: a district's outline per row would cost more than the rest.
        .only(*WORK_LIST_FIELDS)
    )
    # Through the subdivided copies and their spatial index, each report against the few small parts
    # around it: a union of the zones, built and then tested whole, cost more than the whole page.
    if team.work_zones.exists():
        queryset = queryset.filter(
            Exists(WorkZonePart.objects.filter(team_id=team.pk, geom__intersects=OuterRef("location")))
        )
    if category:
        queryset = queryset.filter(category=category)
    if priority:
        queryset = queryset.filter(priority=priority)
    if status:
        queryset = queryset.filter(status=status)
    if deadline_before:
        queryset = queryset.filter(deadline_at__date__lte=deadline_before)
    if district:
        queryset = queryset.filter(
            Exists(DistrictPart.objects.filter(district=district, geom__intersects=OuterRef("location")))
        )
    if bbox:
        queryset = queryset.filter(location_metric__within=bbox)
    return queryset


def work_list(*, team: Team, urgent_first: bool = True, **filters) -> list[Stop]:
    """Stops in route order. A crew's own order wins for the reports it placed; the others follow
    in route order. Urgent and overdue reports come first when `urgent_first`."""
    with transaction.atomic(), connection.cursor() as cursor, local_settings(cursor, WORK_LIST_PLAN):
        reports = list(work_list_queryset(team=team, **filters))
    if not reports:
        return []
    now = timezone.now()
    points = np.array([s.location_metric.coords for s in reports])
    depot = None
    if team.depot is not None:
        depot_metric = Team.objects.annotate(m=Transform("depot", settings.METRIC_SRID)).values_list(
            "m", flat=True
        )
        depot = np.array(depot_metric.get(pk=team.pk).coords)
    forced = [
        i
        for i, s in enumerate(reports)
        if urgent_first and (s.priority == Priority.URGENT or (s.deadline_at and s.deadline_at < now))
    ]
    manual = dict(
        WorkListPosition.objects.filter(team=team, signalement__in=reports).values_list(
            "signalement_id", "position"
        )
    )
    if manual:
        placed = sorted(
            (i for i, s in enumerate(reports) if s.pk in manual), key=lambda i: manual[reports[i].pk]
        )
        rest = [i for i in range(len(reports)) if reports[i].pk not in manual]
        tail_start = points[placed[-1]] if placed else depot
        order = placed + [rest[k] for k in _route_order(points[rest], start=tail_start)] if rest else placed
    else:
        order = _route_order(points, start=depot, first=forced)
    path = points[order]
    legs = np.linalg.norm(np.diff(path, axis=0), axis=1).tolist()
    legs.insert(0, float(np.linalg.norm(path[0] - depot)) if depot is not None else 0.0)
    forced_set = set(forced)
    return [
        Stop(number=number, signalement=reports[index], leg_m=leg, forced=index in forced_set)
        for number, (index, leg) in enumerate(zip(order, legs, strict=True), start=1)
    ]


def _route_order(points: np.ndarray, *, start: np.ndarray | None, first: list[int] = ()) -> list[int]:
    """order_stops, remembered: the list page and its map data ask for the same stops in a row,
    and a crew reloads its list all day while the stops rarely change."""
    digest = hashlib.blake2b(digest_size=16)
    for part in (points, start if start is not None else np.empty(0), np.asarray(first, dtype=np.int64)):
        digest.update(np.ascontiguousarray(part).tobytes())
        digest.update(b"|")
    key = f"worklist-route:{digest.hexdigest()}"
    order = cache.get(key)
    if order is None:
        order = order_stops(points, start=start, first=first)
        cache.set(key, order, ROUTE_CACHE_SECONDS)
    return order


@transaction.atomic
def work_list_reorder(*, team: Team, references: list[str]) -> None:
    """Keep the crew's order: positions for these reports, in this order."""
    ids = dict(Signalement.objects.filter(team=team, reference__in=references).values_list("reference", "id"))
    WorkListPosition.objects.filter(team=team).delete()
    WorkListPosition.objects.bulk_create(
        [
            WorkListPosition(team=team, signalement_id=ids[ref], position=position)
            for position, ref in enumerate(references)
            if ref in ids
        ]
    )


def work_list_reset(*, team: Team) -> None:
    WorkListPosition.objects.filter(team=team).delete()
