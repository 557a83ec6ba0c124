"""API submission in-process: POST /api/v1/signalements/ through Django's test client, against a bare
INSERT of one row."""

import numpy as np
from django.db import connection
from django.test import Client

from config.celery import app as celery_app
from config.process import web_process_tune
from signalements.models import Category, Signalement

from .data import random_points, territory_get
from .measure import Figure, Report, Stopwatch, percentiles

URL = "/api/v1/signalements/"
WARM_UP = 20
BARE_SOURCE = "bench-bare-insert"
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
