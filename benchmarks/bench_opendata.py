"""Open data: a full GeoJSON export streams in flat memory (issue 21).

Each variant runs in a child process of its own, so that its peak RSS is its own: the streamed
export (geojson_stream, the view's generator: features built by PostgreSQL, read through a
server-side cursor) of a tenth of the table and of all of it, against the naive export: every
report in a list, serialized by djangorestframework-gis's GeoFeatureModelSerializer, then one
json.dumps. The figure is the highest RSS seen during the export (sampled at each chunk sent,
and after each step of the naive one) above the child's RSS before it; the peak RSS of the
whole process (getrusage) is in the details."""

import json
import os
import resource
import subprocess
import sys
from pathlib import Path
from time import perf_counter

from .measure import Figure, Report, Target

ROOT = Path(__file__).resolve().parent.parent
NAIVE_MAX_ROWS = 100_000  # the naive list holds every report: its memory grows with them


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def _rss_mb() -> float:
    """The process's resident memory now (Linux)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _child(variant: str, limit: int) -> dict:
    """In the child: one export of the first `limit` reports by id, its bytes counted, not kept."""
    from django.db.models import Max

    from signalements.api.serializers import FEATURE_COLUMNS, SignalementFeatureSerializer
    from signalements.models import Signalement
    from signalements.opendata.services import geojson_stream
    from signalements.selectors import signalements_public

    last = signalements_public().order_by("pk").values_list("pk", flat=True)[limit - 1 : limit].first()
    last = last or Signalement.objects.aggregate(m=Max("pk"))["m"] or 0
    before = _rss_mb()
    highest = before
    started = perf_counter()
    size = rows = 0
    if variant == "stream":
        from signalements.opendata import selectors

        original = selectors.export_queryset

        def below(params=None):  # the first `limit` reports: the same rows the baseline reads
            return original(params).filter(pk__lte=last)

        selectors.export_queryset = below
        for chunk in geojson_stream():
            size += len(chunk)
            rows += chunk.count(b'"type" : "Feature"') + chunk.count(b'"type": "Feature"')
            highest = max(highest, _rss_mb())
        selectors.export_queryset = original
    else:
        queryset = signalements_public().only(*FEATURE_COLUMNS).filter(pk__lte=last).order_by("pk")
        reports = list(queryset)
        highest = max(highest, _rss_mb())
        data = SignalementFeatureSerializer(reports, many=True).data
        highest = max(highest, _rss_mb())
        text = json.dumps(data, default=str)
        highest = max(highest, _rss_mb())
        size, rows = len(text.encode()), len(data["features"])
    return {
        "rows": rows,
        "bytes": size,
        "seconds": perf_counter() - started,
        "peak_mb": highest - before,
        "rss_before_mb": before,
        "max_rss_mb": _max_rss_mb(),
    }


def _spawn(variant: str, limit: int) -> dict:
    env = {**os.environ, "DATABASE_POOL": "false", "DJANGO_DEBUG": "false"}
    code = (
        "import json, sys, django; sys.path.insert(0, sys.argv[1]); django.setup(); "
        "from benchmarks.bench_opendata import _child; "
        "print(json.dumps(_child(sys.argv[2], int(sys.argv[3]))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(ROOT), variant, str(limit)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{variant} export failed: {result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def run(*, rows: int, naive_rows: int = NAIVE_MAX_ROWS) -> Report:
    from django.conf import settings
    from django.db import connection

    from signalements.selectors import signalements_public

    os.environ["DATABASE_URL"] = _database_url(connection.settings_dict)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings.SETTINGS_MODULE)
    total = min(rows, signalements_public().count())
    naive_n = min(total, naive_rows)
    tenth = _spawn("stream", max(1, total // 10))
    full = _spawn("stream", total)
    same = _spawn("stream", naive_n)
    naive = _spawn("naive", naive_n)
    report = Report("opendata")
    report.figures += [
        Figure(f"GeoJSON stream, {tenth['rows']:,} reports, peak RSS growth", tenth["peak_mb"], "MB"),
        Figure(
            f"GeoJSON stream, {full['rows']:,} reports, peak RSS growth",
            full["peak_mb"],
            "MB",
            f"the stream of a tenth ({tenth['rows']:,})",
            tenth["peak_mb"],
            # flat: ten times the rows may not take more than a few MB more
            target=Target(tenth["peak_mb"] + 16),
        ),
        Figure(
            f"GeoJSON stream, {same['rows']:,} reports, peak RSS growth",
            same["peak_mb"],
            "MB",
            f"naive list + GeoFeatureModelSerializer ({naive['rows']:,})",
            naive["peak_mb"],
        ),
        Figure(
            f"GeoJSON stream, {full['rows']:,} reports, rate",
            full["rows"] / full["seconds"] if full["seconds"] else 0.0,
            "rows/s",
            "naive list + serializer",
            naive["rows"] / naive["seconds"] if naive["seconds"] else None,
        ),
    ]
    report.details = {"tenth": tenth, "full": full, "same_as_naive": same, "naive": naive}
    report.notes.append(
        "Each export in its own process; the figure is the highest RSS sampled during the export above "
        "the RSS before it (the process's peak RSS is in the details). The naive baseline is capped "
        f"at {naive_rows:,} reports; the streamed export reads the same first reports by id for the "
        "side-by-side figure."
    )
    return report


def _database_url(config: dict) -> str:
    user = config.get("USER") or ""
    password = f":{config['PASSWORD']}" if config.get("PASSWORD") else ""
    host = config.get("HOST") or "127.0.0.1"
    port = f":{config['PORT']}" if config.get("PORT") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgis://{auth}{host}{port}/{config['NAME']}"
