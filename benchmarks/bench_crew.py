"""Route order of 200 stops against the best of strong solutions (issue 5), and the work-list page."""

import numpy as np
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client

from cartography.models import Team
from cartography.routing import _or_opt, _two_opt, order_stops, tour_length
from signalements.models import OPEN_STATUSES, Signalement

from .measure import Figure, Report, Stopwatch, Target, percentiles

STOPS = 200
ROUTE_TARGET_MS = 200.0
ROUTE_RATIO = 1.05
PAGE_TARGET_MS = 300.0


def _strong(points: np.ndarray, depot: np.ndarray, rng, starts: int) -> float:
    """Best of `starts` random initial tours each improved by 2-opt and Or-opt until stable."""
    nodes = np.vstack([depot, points])
    dist = np.linalg.norm(nodes[:, None, :] - nodes[None, :, :], axis=2)
    best = np.inf
    for _ in range(starts):
        path = [0, *(rng.permutation(len(points)) + 1).tolist()]
        for _ in range(3):
            path = _or_opt(_two_opt(path, dist, fixed=1), dist, fixed=1)
        best = min(best, float(dist[path[:-1], path[1:]].sum()))
    return best


def route_run(*, instances: int, seed: int) -> Report:
    coords = np.array(
        [
            p.coords
            for p in Signalement.objects.order_by("?").values_list("location_metric", flat=True)[
                : STOPS * instances
            ]
        ]
    )
    rng = np.random.default_rng(seed)
    times, ratios, lengths = [], [], []
    for k in range(instances):
        points = coords[k * STOPS : (k + 1) * STOPS]
        depot = points.mean(axis=0) + rng.normal(0, 500, 2)
        with Stopwatch() as watch:
            order = order_stops(points, start=depot)
        ours = tour_length(order, points, depot)
        best = min(ours, _strong(points, depot, rng, starts=8))
        times.append(watch.seconds * 1000)
        ratios.append(ours / best)
        lengths.append((round(ours), round(best)))
    report = Report("route")
    report.figures += [
        Figure(
            f"order {STOPS} stops, worst of {instances}", max(times), "ms", target=Target(ROUTE_TARGET_MS)
        ),
        Figure("tour length / best of strong solutions, worst", max(ratios), "×", target=Target(ROUTE_RATIO)),
    ]
    report.details = {"times_ms": times, "ratios": ratios, "lengths_m_ours_best": lengths}
    report.notes.append(
        f"{instances} instances of {STOPS} real report locations; strong solutions: 8 random "
        "starts each improved by 2-opt and Or-opt, our tour counted among them."
    )
    return report


def _page(client: Client, slug: str, requests: int) -> tuple[float, float, int]:
    timings = []
    for _ in range(requests + 1):
        with Stopwatch() as watch:
            response = client.get(f"/equipe/{slug}/")
        assert response.status_code == 200
        timings.append(watch.seconds * 1000)
    return (*percentiles(timings[1:]), response.content.decode().count('<li class="stop'))


def worklist_run(*, requests: int) -> Report:
    team = Team.objects.get(slug="liege-voirie")
    client = Client()
    client.force_login(get_user_model().objects.get(username="crew-voirie"))
    figures = {}
    for items in (50, 500):
        with transaction.atomic():
            ids = list(
                Signalement.objects.filter(status__in=OPEN_STATUSES).values_list("pk", flat=True)[:items]
            )
            Signalement.objects.filter(team=team, status__in=OPEN_STATUSES).exclude(pk__in=ids).update(
                team=None
            )
            Signalement.objects.filter(pk__in=ids).update(team=team)
            figures[items] = _page(client, team.slug, requests)
            transaction.set_rollback(True)
    report = Report("worklist")
    (b50, b95, b_items), (p50, p95, items) = figures[50], figures[500]
    report.figures += [
        Figure(
            f"work-list page, {items} items, server p50", p50, "ms", f"same page, {b_items} items, p50", b50
        ),
        Figure(
            f"work-list page, {items} items, server p95",
            p95,
            "ms",
            f"same page, {b_items} items, p95",
            b95,
            Target(PAGE_TARGET_MS),
        ),
    ]
    return report
