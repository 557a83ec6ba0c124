"""Nearby candidates (issue 3), duplicate clustering and the desk queue (issue 4), against baselines."""

from datetime import timedelta

import numpy as np
from django.contrib.auth import get_user_model
from django.contrib.gis.db.models.functions import Distance
from django.contrib.gis.geos import Point
from django.contrib.gis.measure import D
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.process import web_process_tune
from signalements.duplicates import duplicate_groups_propose
from signalements.models import OPEN_STATUSES, Category, DuplicateGroup, Signalement
from signalements.selectors import nearby_open_queryset

from .data import random_points, territory_get
from .measure import Figure, Report, Stopwatch, Target, percentiles, queryset_explain_ms

NEARBY_TARGET_MS = 5.0
NEARBY_SPEEDUP = 15
CLUSTER_TARGET_S = 10.0


def _distance_filter(category: Category, location: Point):
    """The common way: a geodetic Distance on the WGS84 column, compared in Python's terms."""
    since = timezone.now() - timedelta(days=category.duplicate_window_days)
    return (
        Signalement.objects.filter(category=category, status__in=OPEN_STATUSES, created_at__gte=since)
        .annotate(d=Distance("location", location))
        .filter(d__lte=D(m=category.duplicate_radius_m))
        .order_by("d")[:5]
    )


def nearby_run(*, points: int, baseline_points: int, seed: int) -> Report:
    territory = territory_get()
    rng = np.random.default_rng(seed)
    categories = list(Category.objects.filter(is_active=True))
    # Half the citizens stand next to a problem already reported (a few metres away), half anywhere.
    open_rows = list(
        Signalement.objects.filter(status__in=OPEN_STATUSES).values_list("category_id", "location")
    )
    by_id = {c.pk: c for c in categories}
    queries = []
    for _ in range(points // 2):
        category_id, location = open_rows[int(rng.integers(len(open_rows)))]
        queries.append((by_id[category_id], Point(location.x + rng.normal(0, 0.0001), location.y, srid=4326)))
    for lon, lat in random_points(territory, points - len(queries), seed=seed):
        queries.append((categories[int(rng.integers(len(categories)))], Point(lon, lat, srid=4326)))
    ours, theirs, hits = [], [], 0
    for category, location in queries:
        queryset = nearby_open_queryset(category=category, location=location)[:5]
        ours.append(queryset_explain_ms(queryset))
        hits += bool(list(queryset))
    for category, location in queries[:baseline_points]:
        theirs.append(queryset_explain_ms(_distance_filter(category, location)))
    client = Client()
    api_ms = []
    for category, location in queries[: min(points, 300)]:
        with Stopwatch() as watch:
            response = client.get(
                "/api/v1/signalements/nearby/",
                {"category": category.slug, "lon": location.x, "lat": location.y},
            )
        assert response.status_code == 200, response.content[:300]
        api_ms.append(watch.seconds * 1000)
    report = Report("nearby")
    (p50, p95), (b50, b95) = percentiles(ours), percentiles(theirs)
    report.figures += [
        Figure(
            "nearby candidates, DB execution p50", p50, "ms", "Distance(...) <= radius ORM filter, p50", b50
        ),
        Figure(
            "nearby candidates, DB execution p95",
            p95,
            "ms",
            "Distance(...) <= radius ORM filter, p95",
            b95,
            Target(NEARBY_TARGET_MS),
        ),
        Figure(
            "nearby candidates vs Distance filter, p95",
            p95,
            "ms",
            "Distance(...) <= radius, p95",
            b95,
            Target(NEARBY_SPEEDUP, on_ratio=True),
        ),
    ]
    a50, a95 = percentiles(api_ms)
    report.figures += [
        Figure("GET /api/v1/signalements/nearby/ p50", a50, "ms"),
        Figure("GET /api/v1/signalements/nearby/ p95", a95, "ms"),
    ]
    report.details = {
        "points": points,
        "baseline_points": baseline_points,
        "with_candidates": hits,
        "open_reports": len(open_rows),
    }
    report.notes.append(
        f"{points:,} lookups (half a few metres from an open report, half anywhere), "
        f"{hits:,} found candidates; baseline on the first {baseline_points:,}. "
        f"Open reports in the table: {len(open_rows):,}."
    )
    return report


def cluster_run(*, sample: int, seed: int) -> Report:
    open_count = Signalement.objects.filter(status__in=OPEN_STATUSES).count()
    DuplicateGroup.objects.all().delete()
    with Stopwatch() as watch:
        proposed = duplicate_groups_propose()
    DuplicateGroup.objects.all().delete()
    rng = np.random.default_rng(seed)
    ids = list(Signalement.objects.filter(status__in=OPEN_STATUSES).values_list("pk", flat=True))
    chosen = Signalement.objects.filter(
        pk__in=[int(i) for i in rng.choice(ids, min(sample, len(ids)), replace=False)]
    )
    with Stopwatch() as naive:
        for report_ in chosen.select_related("category"):
            category = report_.category
            since = report_.created_at - timedelta(days=category.duplicate_window_days)
            (
                Signalement.objects.filter(category=category, status__in=OPEN_STATUSES, created_at__gte=since)
                .exclude(pk=report_.pk)
                .annotate(d=Distance("location", report_.location))
                .filter(d__lte=D(m=category.duplicate_radius_m))
                .exists()
            )
    naive_rate = min(sample, len(ids)) / naive.seconds
    report = Report("cluster")
    report.figures += [
        Figure(
            f"duplicate clustering over {open_count:,} open reports",
            watch.seconds,
            "s",
            target=Target(CLUSTER_TARGET_S),
        ),
        Figure(
            "clustering rate",
            open_count / watch.seconds,
            "reports/s",
            f"per-report Distance query, {min(sample, len(ids)):,}-report sample",
            naive_rate,
        ),
    ]
    report.details = {"open_reports": open_count, "groups_proposed": proposed}
    report.notes.append(f"{proposed:,} groups proposed; the naive rate is extrapolated from its sample.")
    return report


def queue_run(*, requests: int) -> Report:
    web_process_tune()  # as config/wsgi.py tunes a served process
    client = Client()
    client.force_login(get_user_model().objects.get(username="agent"))
    timings, counts = [], []
    for _ in range(requests + 2):
        with CaptureQueriesContext(connection) as queries, Stopwatch() as watch:
            response = client.get("/bureau/")
        assert response.status_code == 200
        timings.append(watch.seconds * 1000)
        counts.append(len(queries))
    one_team = client.get(
        "/bureau/",
        {
            "team": Signalement.objects.filter(status__in=OPEN_STATUSES)
            .values_list("team_id", flat=True)
            .first()
        },
    )
    assert one_team.status_code == 200
    p50, p95 = percentiles(timings[2:])
    report = Report("queue")
    report.figures += [
        Figure("desk queue page, server p50", p50, "ms"),
        Figure("desk queue page, server p95", p95, "ms"),
    ]
    open_count = Signalement.objects.filter(status__in=OPEN_STATUSES).count()
    report.details = {"queries_per_page": sorted(set(counts)), "open_reports": open_count}
    report.notes.append(
        f"{sorted(set(counts))} queries per page whatever the {open_count:,} open reports "
        "(the tests assert it does not grow with the rows)."
    )
    return report
