"""Route order of 200 stops against the best of strong solutions (issue 5), and the work-list page."""

from time import process_time

import numpy as np
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client

from cartography.models import Team
from cartography.routing import KICKS, order_stops, tour_length
from config.process import web_process_tune
from signalements.models import OPEN_STATUSES, Signalement

from .measure import Figure, Report, Stopwatch, Target, percentiles

STOPS = 200
ROUTE_TARGET_MS = 200.0
ROUTE_RATIO = 1.05
PAGE_TARGET_MS = 300.0
RANDOM_STARTS = 8
LONG_SEARCHES = (101, 102)  # seeds of searches with LONG_KICKS kicks instead of KICKS
LONG_KICKS = 10_000


def _two_opt(path: list[int], dist: np.ndarray) -> list[int]:
    """Reverse segments while it shortens the open path (every segment, not only near ones)."""
    p = np.array(path)
    improved = True
    while improved:
        improved = False
        for i in range(1, len(p) - 1):
            a, b = p[i - 1], p[i]
            js = np.arange(i + 1, len(p))
            c = p[js]
            d_next = np.append(p[js[:-1] + 1], -1)
            old = dist[a, b] + np.where(d_next >= 0, dist[c, np.maximum(d_next, 0)], 0)
            new = dist[a, c] + np.where(d_next >= 0, dist[b, np.maximum(d_next, 0)], 0)
            gain = old - new
            best = int(np.argmax(gain))
            if gain[best] > 1e-9:
                j = js[best]
                p[i : j + 1] = p[i : j + 1][::-1]
                improved = True
    return p.tolist()


def _or_opt(path: list[int], dist: np.ndarray) -> list[int]:
    """Move runs of 1 to 3 stops, reversed or not, to the best place anywhere in the open path
    while it shortens it."""
    p = list(path)
    improved = True
    while improved:
        improved = False
        for size in (1, 2, 3):
            i = 1
            while i + size <= len(p):
                run = p[i : i + size]
                before, after = p[i - 1], (p[i + size] if i + size < len(p) else None)
                removed = dist[before, run[0]] + (
                    dist[run[-1], after] - dist[before, after] if after is not None else 0
                )
                u = np.array(p[:i] + p[i + size :])  # the run goes after one of these
                v = np.append(u[1:], -1)
                has_v = v >= 0
                vv = np.maximum(v, 0)
                best_gain, best_at, best_run = 1e-9, None, None
                for candidate in (run, run[::-1]):
                    added = dist[u, candidate[0]] + np.where(has_v, dist[candidate[-1], vv] - dist[u, vv], 0)
                    gains = removed - added
                    k = int(np.argmax(gains))
                    if gains[k] > best_gain:
                        best_gain, best_at, best_run = gains[k], k + 1, candidate
                if best_at is not None:
                    rest = u.tolist()
                    p = rest[:best_at] + list(best_run) + rest[best_at:]
                    improved = True
                else:
                    i += 1
    return p


def _random_starts(points: np.ndarray, depot: np.ndarray, rng: np.random.Generator) -> float:
    """Best of RANDOM_STARTS random tours each improved by full-neighbourhood 2-opt and Or-opt
    (an implementation independent of the one measured)."""
    nodes = np.vstack([depot, points])
    dist = np.linalg.norm(nodes[:, None, :] - nodes[None, :, :], axis=2)
    best = np.inf
    for _ in range(RANDOM_STARTS):
        path = [0, *(rng.permutation(len(points)) + 1).tolist()]
        for _ in range(3):
            path = _or_opt(_two_opt(path, dist), dist)
        best = min(best, float(dist[path[:-1], path[1:]].sum()))
    return best


def _long_searches(points: np.ndarray, depot: np.ndarray) -> float:
    return min(
        tour_length(order_stops(points, start=depot, kicks=LONG_KICKS, seed=seed), points, depot)
        for seed in LONG_SEARCHES
    )


def _sample(count: int, rng: np.random.Generator) -> np.ndarray:
    """`count` report locations drawn with `rng`: the same reports for the same seed and table."""
    ids = np.array(Signalement.objects.order_by("pk").values_list("pk", flat=True))
    chosen = rng.choice(ids, size=min(count, len(ids)), replace=False).tolist()
    located = dict(Signalement.objects.filter(pk__in=chosen).values_list("pk", "location_metric"))
    return np.array([located[pk].coords for pk in chosen])


def route_run(*, instances: int, seed: int) -> Report:
    rng = np.random.default_rng(seed)
    coords = _sample(STOPS * instances, rng)
    times, ratios, details = [], [], []
    for k in range(instances):
        points = coords[k * STOPS : (k + 1) * STOPS]
        depot = points.mean(axis=0) + rng.normal(0, 500, 2)
        cpu = process_time()
        with Stopwatch() as watch:
            order = order_stops(points, start=depot)
        cpu = process_time() - cpu
        ours = tour_length(order, points, depot)
        random_starts, long_searches = _random_starts(points, depot, rng), _long_searches(points, depot)
        best = min(ours, random_starts, long_searches)
        times.append(watch.seconds * 1000)
        ratios.append(ours / best)
        details.append(
            {
                "ms": times[-1],
                "cpu_ms": cpu * 1000,
                "ours_m": ours,
                "best_m": best,
                "random_starts_m": random_starts,
                "long_searches_m": long_searches,
            }
        )
    report = Report("route")
    report.figures += [
        Figure(
            f"order {STOPS} stops, worst of {instances}", max(times), "ms", target=Target(ROUTE_TARGET_MS)
        ),
        Figure("tour length / best of strong solutions, worst", max(ratios), "×", target=Target(ROUTE_RATIO)),
    ]
    report.details = {"instances": details}
    report.notes.append(
        f"{instances} instances of {STOPS} real report locations; strong solutions: {RANDOM_STARTS} random "
        "starts each improved by full-neighbourhood 2-opt and Or-opt, and iterated local search with "
        f"{LONG_KICKS} kicks instead of {KICKS} from {len(LONG_SEARCHES)} other seeds; our tour counted "
        "among them. Per instance: time (CPU time, which other work on the machine skews less), ours / "
        "best, then the best of the random starts and of the long searches / best:"
    )
    report.notes += [
        f"  {d['ms']:6.1f} ms ({d['cpu_ms']:5.1f})  ours {d['ours_m'] / d['best_m']:.4f}  random starts "
        f"{d['random_starts_m'] / d['best_m']:.4f}  long searches {d['long_searches_m'] / d['best_m']:.4f}"
        for d in details
    ]
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
    web_process_tune()  # as config/wsgi.py tunes a served process
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
