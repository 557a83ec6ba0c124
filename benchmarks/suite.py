"""Runs the benchmarks in order on the freshly loaded database. Import only once Django is set up."""

import os
import platform
import subprocess
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import django
from django.db import connection

from . import (
    bench_api,
    bench_cells,
    bench_crew,
    bench_desk,
    bench_load,
    bench_locate,
    bench_opendata,
    bench_planning,
    bench_planning_dashboard,
    bench_planning_recurrence,
    bench_publicmap,
    bench_relocate,
)
from .measure import Report, Stopwatch

SEED = 1
SERVER_SETTINGS = (
    "shared_buffers",
    "work_mem",
    "maintenance_work_mem",
    "max_wal_size",
    "synchronous_commit",
    "jit",
)
T = TypeVar("T")


@dataclass(frozen=True)
class Sizes:
    rows: int
    load_sample: int = 10_000
    locate_points: int = 1_000
    relocate_sample: int = 5_000
    api_requests: int = 500
    tile_requests: int = 40
    tile_baseline_requests: int = 3
    dashboard_requests: int = 10
    dashboard_baseline_requests: int = 1


def _step(label: str, action: Callable[[], T]) -> T | Report:
    """Run one benchmark; a failure is reported in the table instead of losing the others' figures."""
    print(f"… {label}", file=sys.stderr, flush=True)
    with Stopwatch() as watch:
        try:
            result = action()
        except Exception as exc:  # noqa: BLE001 - reported, the other benchmarks still count
            traceback.print_exc()
            return Report(label.split(":")[0], notes=[f"FAILED: {exc!r}"])
    print(f"  done in {watch.seconds:.1f} s", file=sys.stderr, flush=True)
    return result


def suite_run(sizes: Sizes, *, selected: tuple[str, ...]) -> list[Report]:
    """The selected benchmarks, in order; the table is filled with `sizes.rows` reports first either way."""
    reports: list[Report] = []
    if "load" in selected:
        sample = min(sizes.load_sample, sizes.rows)
        reports.append(
            _step(
                f"load: {sizes.rows:,} reports, baselines on {sample:,}",
                lambda: bench_load.run(sizes.rows, sample_size=sample),
            )
        )
    else:
        _step(f"fill: {sizes.rows:,} reports", lambda: bench_load.fill(sizes.rows))
    if "locate" in selected:
        reports.append(
            _step(
                f"locate: {sizes.locate_points:,} points",
                lambda: bench_locate.run(points=sizes.locate_points, seed=SEED),
            )
        )
    if "relocate" in selected:
        sample = min(sizes.relocate_sample, sizes.rows)
        reports.append(
            _step(
                f"relocate: {sizes.rows:,} reports, baseline on {sample:,}",
                lambda: bench_relocate.run(sample_size=sample, seed=SEED),
            )
        )
    if "api" in selected:
        reports.append(
            _step(
                f"api: {sizes.api_requests:,} submissions",
                lambda: bench_api.run(requests=sizes.api_requests, seed=SEED),
            )
        )
        reports.append(_step("list: 4 queries × 20 pages", lambda: bench_api.list_run(requests=20)))
    if "nearby" in selected:
        reports.append(
            _step(
                "nearby: 500 lookups, baseline on 60",
                lambda: bench_desk.nearby_run(points=500, baseline_points=60, seed=SEED),
            )
        )
    if "cluster" in selected:
        reports.append(
            _step(
                "cluster: all open reports, baseline on 300",
                lambda: bench_desk.cluster_run(sample=300, seed=SEED),
            )
        )
    if "cluster" in selected or "queue" in selected:
        reports.append(
            _step(
                "queue page: 9 variants and 3 as a crew, × 20 requests",
                lambda: bench_desk.queue_run(requests=20),
            )
        )
    if "route" in selected:
        reports.append(_step("route: 10 × 200 stops", lambda: bench_crew.route_run(instances=10, seed=SEED)))
        reports.append(
            _step("work-list page: 50 and 500 items", lambda: bench_crew.worklist_run(requests=10))
        )
    if "planning" in selected:
        reports.append(_step("planning: volumes and hotspots from scratch", bench_planning.run))
        reports.append(_step("planning: recurring places and early warning", bench_planning_recurrence.run))
    if "dashboard" in selected:
        reports.append(
            _step(
                f"dashboard: the planners' requests × {sizes.dashboard_requests}, live baseline",
                lambda: bench_planning_dashboard.run(
                    requests=sizes.dashboard_requests, baseline_requests=sizes.dashboard_baseline_requests
                ),
            )
        )
    if "opendata" in selected:
        reports.append(
            _step(
                f"opendata: GeoJSON export of {sizes.rows:,} reports, streamed and naive",
                lambda: bench_opendata.run(rows=sizes.rows),
            )
        )
    if "publicmap" in selected:
        reports.append(
            _step(
                f"publicmap: {sizes.tile_requests} tiles a zoom, z10–18",
                lambda: bench_publicmap.tiles_run(
                    requests=sizes.tile_requests, baseline_requests=sizes.tile_baseline_requests, seed=SEED
                ),
            )
        )
        reports.append(_step("publicmap: the first view", bench_publicmap.first_view_run))
        reports.append(_step("publicmap: list pages", lambda: bench_publicmap.list_run(requests=20)))
    if "cells" in selected:  # last: it loads a second city, which the others do not expect
        reports.append(_step("cells: an edit's build, two cities", bench_cells.run))
    return reports


def environment_describe() -> dict[str, Any]:
    """What the figures depend on: versions, server settings, machine, code revision."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('server_version'), postgis_lib_version()")
        postgres, postgis = cursor.fetchone()
        settings = {}
        for name in SERVER_SETTINGS:
            cursor.execute("SELECT current_setting(%s)", [name])
            settings[name] = cursor.fetchone()[0]
    revision = subprocess.run(
        ["git", "describe", "--always", "--dirty"], capture_output=True, text=True, cwd=Path(__file__).parent
    ).stdout.strip()
    return {
        "database": {
            "name": connection.settings_dict["NAME"],
            "postgres": f"PostgreSQL {postgres}",
            "postgis": postgis,
            "settings": settings,
        },
        "python": platform.python_version(),
        "django": django.get_version(),
        "cpus": os.cpu_count(),
        "load_average_1_5_15min": os.getloadavg(),
        "revision": revision,
    }
