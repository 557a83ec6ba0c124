"""Benchmarks at scale: bulk load, locate, relocate, API submission and list, each against a baseline.

    .venv/bin/python benchmarks/run.py [--rows N | --quick] [--only NAME[,NAME…]] [--city CITY]

Every run drops and creates the `signalements_bench` database on the server of DATABASE_URL, loads
the city's real boundaries, categories and teams, then N synthetic reports. It prints a table and
writes the figures to benchmarks/results/<timestamp>.json.
"""

import argparse
import io
import os
import sys
import warnings
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUICK_ROWS = 100_000
FULL_ROWS = 1_000_000
# Nothing consumes this queue: the API benchmark purges what it enqueued.
BENCH_BROKER = "redis://127.0.0.1:6379/14"
BENCHMARKS = (
    "load",
    "locate",
    "relocate",
    "api",
    "nearby",
    "cluster",
    "queue",
    "route",
    "planning",
    "dashboard",
    "opendata",
    "publicmap",
    "cells",
)


def only_names(value: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in value.split(",") if name.strip())
    unknown = [name for name in names if name not in BENCHMARKS]
    if not names or unknown:
        raise argparse.ArgumentTypeError(f"unknown benchmark {', '.join(unknown) or value!r}")
    return names


def arguments() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    size = parser.add_mutually_exclusive_group()
    size.add_argument(
        "--rows", type=int, default=FULL_ROWS, help=f"reports in the table (default {FULL_ROWS:,})"
    )
    size.add_argument(
        "--quick", action="store_const", const=QUICK_ROWS, dest="rows", help=f"{QUICK_ROWS:,} reports"
    )
    parser.add_argument(
        "--only",
        type=only_names,
        help=f"run these benchmarks, comma-separated, on one fill of the table ({', '.join(BENCHMARKS)})",
    )
    parser.add_argument("--city", default="liege", help="demo city from fixtures/cities/ (default: liege)")
    return parser


def django_configure(database_url: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.development"
    os.environ["DATABASE_URL"] = database_url
    # DEBUG keeps every query in memory and is not how the site runs.
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ["CELERY_BROKER_URL"] = os.environ["CELERY_RESULT_BACKEND"] = BENCH_BROKER
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"
    # Every request comes from this one process: per-client throttles would answer 429 after a few.
    os.environ["SIGNALEMENT_THROTTLES_ENABLED"] = "false"


def main(argv: list[str] | None = None) -> int:
    args = arguments().parse_args(argv)
    if args.rows < 1:
        raise SystemExit("--rows must be positive")
    started = datetime.now(UTC)
    sys.path.insert(0, str(ROOT))
    # Deferred imports: the project is on the path only now, and models load after django.setup().
    import django
    from django.core.management import call_command

    from benchmarks.database import bench_url, database_recreate

    database_url = bench_url()
    database_recreate(database_url)
    django_configure(database_url)
    # As in the tests: WhiteNoise looks for collected static files, which an API benchmark does not need.
    warnings.filterwarnings("ignore", "No directory at", UserWarning)
    django.setup()
    call_command("migrate", verbosity=0)
    call_command("load_demo", city=args.city, no_reports=True, stdout=io.StringIO())

    from benchmarks.output import report_print, results_write
    from benchmarks.suite import Sizes, environment_describe, suite_run

    reports = suite_run(Sizes(rows=args.rows), selected=BENCHMARKS if args.only is None else args.only)
    meta = {
        "rows": args.rows,
        "only": args.only,
        "city": args.city,
        "started_at": started.isoformat(),
        "duration_s": (datetime.now(UTC) - started).total_seconds(),
        **environment_describe(),
    }
    report_print(reports, meta)
    path = results_write(reports, meta, started)
    print(f"\nresults written to {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
