"""The API in-process, through Django's test client: submission (POST /api/v1/signalements/) against a
bare INSERT of one row; the public list (GET) against its count alone and against its page query as
it was written before."""

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import django_filters
import numpy as np
from django.db import connection
from django.http import QueryDict
from django.test import Client
from rest_framework.settings import api_settings

from config.celery import app as celery_app
from config.process import web_process_tune
from signalements.api.filters import SignalementFilter
from signalements.models import Category, Signalement, Status
from signalements.selectors import signalements_public

from .data import random_points, territory_get
from .measure import Figure, Report, Stopwatch, percentiles, queryset_explain_ms

URL = "/api/v1/signalements/"
WARM_UP = 20
BARE_SOURCE = "bench-bare-insert"
PAGE = api_settings.PAGE_SIZE
# One report row and nothing else: no validation, no locate, no history, no duplicate search, no enqueue.
BARE_INSERT_SQL = """
INSERT INTO signalements_signalement
    (category_id, location, territory_id, team_is_manual, channel, description, source)
VALUES (%(category_id)s, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326), %(territory_id)s, false, 'api',
        %(description)s, %(source)s)
RETURNING id
"""


def run(*, requests: int, seed: int) -> Report:
    web_process_tune()  # as config/wsgi.py tunes a served process
    territory = territory_get()
    rng = np.random.default_rng(seed)
    categories = dict(Category.objects.filter(is_active=True).values_list("slug", "id"))
    slugs = sorted(categories)
    points = random_points(territory, WARM_UP + requests, seed=seed)
    chosen = [slugs[i] for i in rng.integers(0, len(slugs), len(points))]
    client = Client()
    api_ms, insert_ms = [], []
    with connection.cursor() as cursor:
        for i, ((lon, lat), slug) in enumerate(zip(points, chosen, strict=True)):
            payload = {
                "category": slug,
                "location": {"type": "Point", "coordinates": [lon, lat]},
                "description": f"Benchmark report {i}",
            }
            with Stopwatch() as api:
                response = client.post(URL, payload, content_type="application/json")
            if response.status_code != 201:
                raise RuntimeError(f"POST {URL} answered {response.status_code}: {response.content[:500]!r}")
            params = {
                "category_id": categories[slug],
                "lon": lon,
                "lat": lat,
                "territory_id": territory.pk,
                "description": payload["description"],
                "source": BARE_SOURCE,
            }
            with Stopwatch() as insert:
                cursor.execute(BARE_INSERT_SQL, params)
                cursor.fetchone()
            if i >= WARM_UP:
                api_ms.append(api.seconds * 1000)
                insert_ms.append(insert.seconds * 1000)
    Signalement.objects.filter(source=BARE_SOURCE).delete()
    enqueued = celery_app.control.purge()  # nothing consumes the benchmark queue: empty it

    report = Report("api")
    for rank, mine, theirs in zip(("p50", "p95"), percentiles(api_ms), percentiles(insert_ms), strict=True):
        report.figures.append(
            Figure(
                f"POST {URL} {rank}",
                mine,
                "ms",
                baseline=f"bare INSERT of one row, autocommit, {rank}",
                baseline_value=theirs,
            )
        )
    report.details = {
        "requests": requests,
        "warm_up": WARM_UP,
        "tasks_enqueued": enqueued,
        "broker": celery_app.conf.broker_url,
    }
    report.notes = [
        f"{requests:,} JSON submissions (after {WARM_UP} unmeasured), random points and categories, through "
        "django.test.Client: validation, locate, duplicate search, report + history in one transaction, "
        f"after-commit enqueue on {celery_app.conf.broker_url} ({enqueued:,} tasks enqueued, then purged).",
    ]
    return report


def _list_queries() -> dict[str, dict[str, Any]]:
    """What a map or a planner asks of the public list: all of it, one team's closed reports, two open
    statuses of two categories, one week."""
    team_id, closed = (
        Signalement.objects.filter(status="closed")
        .values_list("team_id", "created_at")
        .order_by("id")
        .first()
    )
    two_categories = list(
        Category.objects.filter(is_active=True).order_by("slug").values_list("slug", flat=True)[:2]
    )
    week_after = closed.isoformat()
    return {
        "all reports": {},
        "one team's closed reports": {"team": team_id, "status": "closed"},
        "2 open statuses × 2 categories": {"status": ["new", "acknowledged"], "category": two_categories},
        "one week": {"created_after": week_after, "created_before": (closed + timedelta(days=7)).isoformat()},
    }


class _FilterBefore(SignalementFilter):
    """The list's filters as they were: django-filter's multiple choices add DISTINCT by default."""

    category = django_filters.ModelMultipleChoiceFilter(
        field_name="category__slug", to_field_name="slug", queryset=Category.objects.all()
    )
    status = django_filters.MultipleChoiceFilter(choices=Status.choices)


def list_run(*, requests: int) -> Report:
    """GET /api/v1/signalements/ at full size: the page (100 features and the exact count) through the
    test client, against its count alone; in the database, the page query against the page as the list
    wrote it before (DISTINCT where a multiple choice filters, each report's district outline)."""
    web_process_tune()
    client = Client()
    report = Report("list")
    for name, query in _list_queries().items():
        api_ms, count_ms = [], []
        for i in range(requests + 1):
            with Stopwatch() as watch:
                response = client.get(URL, query)
            if response.status_code != 200:
                raise RuntimeError(
                    f"GET {URL} {query} answered {response.status_code}: {response.content[:300]!r}"
                )
            if i:  # the first one warms the caches
                api_ms.append(watch.seconds * 1000)
        data = QueryDict(urlencode(query, doseq=True))
        matches = SignalementFilter(data=data, queryset=signalements_public()).qs
        before = _FilterBefore(data=data, queryset=signalements_public().defer(None)).qs
        for _ in range(max(1, requests // 4)):
            with Stopwatch() as watch:
                count = matches.count()
            count_ms.append(watch.seconds * 1000)
        ordered = ("-created_at", "-id")
        # Both variants warmed by one untimed run, then timed as many times.
        page_ms, before_ms = [], []
        for sink, queryset in ((page_ms, matches), (before_ms, before)):
            page = queryset.order_by(*ordered)[:PAGE]
            queryset_explain_ms(page)
            sink.extend(queryset_explain_ms(page) for _ in range(max(1, requests // 4)))
        p50, p95 = percentiles(api_ms)
        report.figures += [
            Figure(
                f"GET list, {name} ({count:,}), p50",
                p50,
                "ms",
                "its COUNT(*) alone, p50",
                percentiles(count_ms)[0],
            ),
            Figure(f"GET list, {name}, p95", p95, "ms"),
            Figure(
                f"page query, {name}, DB p50",
                percentiles(page_ms)[0],
                "ms",
                "the page as written before, DB p50",
                percentiles(before_ms)[0],
            ),
        ]
    report.notes.append(
        f"{requests} requests per query after one unmeasured, {PAGE} features a page. The exact count scans "
        "every match: it is most of a large list's time, and no index makes counting most of a table cheap. "
        "Before: DISTINCT where a multiple choice filters (django-filter's default), district outlines."
    )
    return report
