"""The public map (cartography.publicmap) in-process, through Django's test client: vector tiles
from zoom 10 to 18 over the city, uncached (the cache emptied before each request) and cached,
against a naive baseline in the same run: all the points of the tile's view (same filters) as
GeoJSON through djangorestframework-gis; at the low zooms also against the tile made on the fly by
ST_AsMVT from the reports, without the tables of counts. The baselines are requests through the
same client, cache emptied as well (benchmarks.baselines). Then the first view (the tiles that
cover the city, about 16) and the public list pages (the API's and the map's list), small and large
results."""

import math
from urllib.parse import urlencode

import numpy as np
from django.core.cache import cache
from django.test import Client, override_settings

from cartography.publicmap import selectors
from config.process import web_process_tune
from signalements.models import Signalement

from .baselines import BASELINE_MAX_FEATURES
from .data import random_points, territory_get
from .measure import Figure, Report, Stopwatch, Target, percentiles

ZOOMS = range(10, 19)
UNCACHED_TARGET_MS = 50
CACHED_TARGET_MS = 5
FIRST_VIEW_TARGET_MS = 200
FIRST_VIEW_TILES = 16
SPEEDUP_TARGET = 20
LOW_ZOOM_SPEEDUP_TARGET = 50
LIST_TARGET_MS = 50
# What the map is asked: its default view (open, in progress, resolved in the last 30 days), and
# every report of ten years but the rejected ones and duplicates (the largest tiles).
VIEWS = {
    "default filters": {},
    "all of 10 years": {"status": ["open", "in_progress", "resolved"], "resolved_days": 3650},
}
# Below CELLS_FROM + 2, the default view's tiles read the first, partial month of "resolved in the
# last 30 days"; measured too as before the counts per day, from the reports (same tiles, same run).
BEFORE_DAYS_ZOOMS = range(10, 15)
# The site's URLs and the baselines', so that both sides of each ratio are requests.
BASELINES_URLCONF = "benchmarks.baselines"


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return z, x, y


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """minlon, minlat, maxlon, maxlat of a Web Mercator tile."""
    n = 2**z

    def lat(row: int) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

    return x / n * 360 - 180, lat(y + 1), (x + 1) / n * 360 - 180, lat(y)


def _get(client: Client, url: str, **headers) -> tuple[float, object]:
    with Stopwatch() as watch:
        response = client.get(url, **headers)
    if response.status_code not in (200, 304):
        raise RuntimeError(f"GET {url} answered {response.status_code}: {response.content[:300]!r}")
    return watch.seconds * 1000, response


def _baseline_ms(client: Client, url: str) -> tuple[float, object]:
    """A baseline's request (benchmarks.baselines), uncached as the map's tiles are measured."""
    cache.clear()
    return _get(client, url)


def _naive_geojson_ms(
    client: Client, bounds: tuple[float, float, float, float], query: str
) -> tuple[float, int]:
    """The naive baseline: every public report of the box under the same filters as GeoJSON through
    djangorestframework-gis; returns its time and its features."""
    bbox = ",".join(str(value) for value in bounds)
    ms, response = _baseline_ms(client, f"/banc/geojson-naif/?bbox={bbox}" + query.replace("?", "&"))
    return ms, len(response.data["features"])


def _on_the_fly_mvt_ms(client: Client, zxy: tuple[int, int, int], query: str) -> float:
    """The low zooms' second baseline: the tile made on the fly by ST_AsMVT from the reports."""
    return _baseline_ms(client, "/banc/tuiles-a-la-volee/{}/{}/{}.pbf".format(*zxy) + query)[0]


@override_settings(ROOT_URLCONF=BASELINES_URLCONF)
def tiles_run(*, requests: int, baseline_requests: int, seed: int) -> Report:
    web_process_tune()
    territory = territory_get()
    points = random_points(territory, requests * len(ZOOMS), seed=seed)
    client = Client()
    report = Report("publicmap tiles")
    sizes = {}
    for label, view in VIEWS.items():
        query = "?" + urlencode(view, doseq=True) if view else ""
        _tiles_measure(client, report, sizes, points, label, query, view, requests, baseline_requests)
    report.details = {
        "requests_per_zoom": requests,
        "baseline_requests_per_zoom": baseline_requests,
        "mean_tile_bytes": {key: int(np.mean(v)) for key, v in sizes.items()},
        "reports": Signalement.objects.count(),
    }
    report.notes.append(
        f"{requests} random tiles inside the territory per zoom, each fetched uncached (cache emptied: tile, "
        "district counts, freshness token), again (cached), and with its ETag (304). Baselines, requests "
        "through the same client with the cache emptied as well: the same view's public reports under the "
        f"same filters through DRF-gis, {baseline_requests} a zoom, at most {BASELINE_MAX_FEATURES:,} "
        "features (beyond, the ratio is a lower bound); at z10-12, the tile made on the fly by ST_AsMVT."
    )
    return report


def _uncached_before(client: Client, url: str) -> float:
    """A tile uncached as it was before the counts per day: the partial month from the reports."""
    selectors.COUNTED_DAYS = False
    try:
        cache.clear()
        return _get(client, url)[0]
    finally:
        selectors.COUNTED_DAYS = True


def _tiles_measure(client, report, sizes, points, label, query, view, requests, baseline_requests) -> None:
    for index, z in enumerate(ZOOMS):
        tiles = [tile_of(lon, lat, z) for lon, lat in points[index * requests : (index + 1) * requests]]
        uncached, cached, revalidated, baseline, features, before = [], [], [], [], [], []
        compared = z in BEFORE_DAYS_ZOOMS and not view
        for turn, zxy in enumerate(tiles):
            url = "/carte/tuiles/{}/{}/{}.pbf".format(*zxy) + query
            if compared and turn % 2:  # before and after first in turn: the warmed cache favours neither
                before.append(_uncached_before(client, url))
            cache.clear()  # the tile, the district counts and the freshness token
            ms, response = _get(client, url)
            uncached.append(ms)
            sizes.setdefault(f"{label}, z{z}", []).append(len(response.content))
            cached.append(_get(client, url)[0])
            revalidated.append(_get(client, url, HTTP_IF_NONE_MATCH=response["ETag"])[0])
            if compared and not turn % 2:
                before.append(_uncached_before(client, url))
        for zxy in tiles[:baseline_requests]:
            ms, count = _naive_geojson_ms(client, tile_bounds(*zxy), query)
            baseline.append(ms)
            features.append(count)
        low = z <= 12
        if low:
            on_the_fly = [_on_the_fly_mvt_ms(client, zxy, query) for zxy in tiles[:baseline_requests]]
            report.figures.append(
                Figure(
                    f"{label}: z{z} tile, uncached, p95, against on-the-fly ST_AsMVT",
                    percentiles(uncached)[1],
                    "ms",
                    "ST_AsMVT of the view's points from the reports, p95",
                    percentiles(on_the_fly)[1],
                    Target(LOW_ZOOM_SPEEDUP_TARGET, on_ratio=True),
                )
            )
        report.figures += [
            Figure(
                f"{label}: z{z} tile, uncached, p95, against the naive view",
                percentiles(uncached)[1],
                "ms",
                f"naive GeoJSON of the view (DRF-gis, {int(np.mean(features)):,} features), p95",
                percentiles(baseline)[1],
                Target(LOW_ZOOM_SPEEDUP_TARGET if low else SPEEDUP_TARGET, on_ratio=True),
            ),
            Figure(
                f"{label}: z{z} tile, uncached, p95",
                percentiles(uncached)[1],
                "ms",
                "before: the partial month from the reports, p95" if before else "",
                percentiles(before)[1] if before else None,
                target=Target(UNCACHED_TARGET_MS),
            ),
            Figure(
                f"{label}: z{z} tile, cached, p95",
                percentiles(cached)[1],
                "ms",
                target=Target(CACHED_TARGET_MS),
            ),
            Figure(f"{label}: z{z} tile, 304 revalidation, p95", percentiles(revalidated)[1], "ms"),
        ]


@override_settings(ROOT_URLCONF=BASELINES_URLCONF)
def first_view_run() -> Report:
    """The tiles that cover the territory at the largest zoom where they are at most 16, uncached."""
    territory = territory_get()
    minlon, minlat, maxlon, maxlat = territory.geom.extent
    for z in range(18, 0, -1):
        _z, x0, y0 = tile_of(minlon, maxlat, z)
        _z, x1, y1 = tile_of(maxlon, minlat, z)
        if (x1 - x0 + 1) * (y1 - y0 + 1) <= FIRST_VIEW_TILES:
            break
    client = Client()
    cache.clear()
    total = 0.0
    count = 0
    for x in range(x0, x1 + 1):
        for y in range(y0, y1 + 1):
            total += _get(client, f"/carte/tuiles/{z}/{x}/{y}.pbf")[0]
            count += 1
    naive, features = _naive_geojson_ms(client, (minlon, minlat, maxlon, maxlat), "")
    home_ms = _get(client, "/")[0]
    report = Report("publicmap first view")
    report.figures += [
        Figure(
            f"first view: {count} tiles at z{z}, uncached, total",
            total,
            "ms",
            f"naive GeoJSON of the city ({features:,} features)",
            naive,
            Target(FIRST_VIEW_TARGET_MS),
        ),
        Figure("home page (the map's HTML)", home_ms, "ms"),
    ]
    report.notes.append(
        "Tiles fetched one after the other in one process; a browser fetches them in parallel."
    )
    return report


def list_run(*, requests: int) -> Report:
    """The public list API and the map's list page, a large and a small result: no exact count of a
    large result (signalements.api.pagination); baseline, the exact COUNT(*) the page made before."""
    web_process_tune()
    client = Client()
    newest = Signalement.objects.order_by("-created_at").values_list("created_at", flat=True).first()
    queries = {
        "all reports": ("/api/v1/signalements/", {}),
        "one day": (
            "/api/v1/signalements/",
            {
                "created_after": newest.replace(hour=0, minute=0).isoformat(),
                "created_before": newest.isoformat(),
            },
        ),
        "map list, default filters": ("/carte/liste/", {}),
        "map list, in progress, sorted by district": (
            "/carte/liste/",
            {"status": "in_progress", "sort": "district"},
        ),
    }
    report = Report("publicmap list")
    for name, (url, query) in queries.items():
        full = f"{url}?{urlencode(query)}" if query else url
        times = [_get(client, full)[0] for _ in range(requests + 1)][1:]
        count_ms = []
        if url.startswith("/api/"):
            from signalements.api.filters import SignalementFilter
            from signalements.selectors import signalements_public

            matches = SignalementFilter(data=query, queryset=signalements_public()).qs
            for _ in range(max(1, requests // 4)):
                with Stopwatch() as watch:
                    matches.count()
                count_ms.append(watch.seconds * 1000)
        p50, p95 = percentiles(times)
        report.figures.append(
            Figure(
                f"{name}, p95",
                p95,
                "ms",
                "its exact COUNT(*) alone, p50" if count_ms else "",
                percentiles(count_ms)[0] if count_ms else None,
                Target(LIST_TARGET_MS),
            )
        )
        report.figures.append(Figure(f"{name}, p50", p50, "ms"))
    report.notes.append(f"{requests} requests per query after one unmeasured.")
    return report
