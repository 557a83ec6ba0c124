"""Load test: citizens' submissions mixed with public reads, on gunicorn, on 127.0.0.1 only.

    .venv/bin/python benchmarks/loadtest/run.py        (make loadtest)

Creates the `signalements_loadtest` database again (migrated, Liège loaded without reports), starts
gunicorn (config/gunicorn.conf.py) on 127.0.0.1:LOADTEST_PORT and a Celery worker on its own Redis
database, runs locust headless (benchmarks/loadtest/locustfile.py) for LOADTEST_DURATION seconds
with LOADTEST_USERS users, waits for the worker to drain, then checks in the database that every
accepted report is stored once, located, processed and notified once. Prints throughput and
p50/p95/p99 per request type; exits non-zero on any error or failed check. Throttles are off
(SIGNALEMENT_THROTTLES_ENABLED=false): one client plays many citizens.
"""

import csv
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
import psycopg
import redis
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent.parent
VENV_BIN = Path(sys.executable).parent
WORK = ROOT / "var" / "loadtest"

DATABASE = os.environ.get("LOADTEST_DATABASE", "signalements_loadtest")
PORT = int(os.environ.get("LOADTEST_PORT", "8089"))
BROKER = os.environ.get("LOADTEST_REDIS_URL", "redis://127.0.0.1:6379/13")
DURATION = int(os.environ.get("LOADTEST_DURATION", "60"))
USERS = int(os.environ.get("LOADTEST_USERS", "20"))
SPAWN_RATE = float(os.environ.get("LOADTEST_SPAWN_RATE", "5"))
DRAIN_TIMEOUT = int(os.environ.get("LOADTEST_DRAIN_TIMEOUT", "300"))
HOST = f"http://127.0.0.1:{PORT}"


def database_url() -> str:
    server = urlsplit(os.environ.get("DATABASE_URL", "postgis://postgres@127.0.0.1:5432/signalements"))
    return server._replace(path=f"/{DATABASE}").geturl()


def environment() -> dict[str, str]:
    return os.environ | {
        "DJANGO_SETTINGS_MODULE": "config.settings.development",
        "DJANGO_DEBUG": "false",  # DEBUG keeps every query in memory: not how the site runs
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": BROKER,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "SIGNALEMENT_THROTTLES_ENABLED": "false",
        "WEB_BIND": f"127.0.0.1:{PORT}",
        "WEB_WORKERS": os.environ.get("LOADTEST_WEB_WORKERS", "2"),
        "WEB_THREADS": os.environ.get("LOADTEST_WEB_THREADS", "4"),
        "WEB_ACCESS_LOG": str(WORK / "access.log"),
        "LOADTEST_ACCEPTED_FILE": str(WORK / "accepted.txt"),
    }


def database_recreate() -> None:
    if not DATABASE.startswith("signalements_loadtest"):
        raise SystemExit(f"refusing to recreate {DATABASE!r}: only signalements_loadtest* is for load tests")
    config = dj_database_url.parse(database_url())
    server = {
        "host": config["HOST"] or None,
        "port": config["PORT"] or None,
        "user": config["USER"] or None,
        "password": config["PASSWORD"] or None,
    }
    with psycopg.connect(**server, dbname="postgres", autocommit=True) as connection:
        name = sql.Identifier(DATABASE)
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(name))
    with psycopg.connect(**server, dbname=DATABASE, autocommit=True) as connection:
        connection.execute("CREATE EXTENSION postgis")


def manage(*args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=environment(), check=True)


def start(name: str, command: list[str]) -> subprocess.Popen:
    log = open(WORK / f"{name}.log", "w")  # noqa: SIM115 - the process writes to it until stopped
    return subprocess.Popen(command, cwd=ROOT, env=environment(), stdout=log, stderr=subprocess.STDOUT)


def wait_until_serving(server: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited ({server.returncode}): see {WORK / 'gunicorn.log'}")
        try:
            with urllib.request.urlopen(f"{HOST}/api/v1/categories/", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"gunicorn not answering on {HOST} after {timeout} s")


def stats_print(prefix: Path) -> int:
    """The locust summary per request type; returns the number of failed requests."""
    with open(f"{prefix}_stats.csv") as f:
        rows = list(csv.DictReader(f))
    header = ("count", "errors", "req/s", "p50 ms", "p95 ms", "p99 ms")
    print(f"\n{'request':<20} " + " ".join(f"{title:>7}" for title in header))
    errors = 0
    for row in rows:
        name = "all" if row["Name"] == "Aggregated" else row["Name"]
        print(
            f"{name:<20} {row['Request Count']:>7} {row['Failure Count']:>6} {float(row['Requests/s']):>7.1f}"
            f" {row['50%']:>7} {row['95%']:>7} {row['99%']:>7}"
        )
        if row["Name"] == "Aggregated":
            errors = int(row["Failure Count"])
    failures = Path(f"{prefix}_failures.csv")
    if failures.exists():
        for row in list(csv.DictReader(failures.open()))[:10]:
            print(f"  error: {row['Method']} {row['Name']}: {row['Error'][:160]} ×{row['Occurrences']}")
    return errors


def database_check(accepted: list[tuple[str, str]]) -> list[str]:
    """Wait for the worker to drain, then what is wrong with the accepted reports (empty: all good)."""
    import django

    os.environ.update(environment())
    sys.path.insert(0, str(ROOT))
    django.setup()
    from signalements.models import Notification, Signalement

    deadline = time.monotonic() + DRAIN_TIMEOUT
    while time.monotonic() < deadline:
        pending = Signalement.objects.filter(processed_at__isnull=True).count()
        unsent = Notification.objects.filter(sent_at__isnull=True, kind=Notification.Kind.SUBMITTED).count()
        if not pending and not unsent:
            break
        time.sleep(1)
    references = [reference for reference, _ in accepted]
    stored = Signalement.objects.filter(reference__in=references)
    problems = []
    if len(set(references)) != len(references):
        problems.append(f"{len(references) - len(set(references))} references answered twice")
    if Signalement.objects.count() != len(references):
        problems.append(f"{Signalement.objects.count()} reports stored for {len(references)} accepted")
    if (missing := len(references) - stored.count()) != 0:
        problems.append(f"{missing} accepted reports not stored")
    if (unlocated := stored.filter(district__isnull=True).count() + stored.filter(team__isnull=True).count()):
        problems.append(f"{unlocated} reports without district or team")
    if (unprocessed := stored.filter(processed_at__isnull=True).count()):
        problems.append(f"{unprocessed} reports not processed after {DRAIN_TIMEOUT} s")
    submitted = {
        (n.signalement.reference, n.recipient): n
        for n in Notification.objects.filter(kind=Notification.Kind.SUBMITTED).select_related("signalement")
    }
    counts = Notification.objects.filter(kind=Notification.Kind.SUBMITTED).count()
    if counts != len(accepted):
        problems.append(f"{counts} 'submitted' notifications for {len(accepted)} accepted reports")
    missing_mail = [pair for pair in accepted if pair not in submitted]
    if missing_mail:
        problems.append(f"{len(missing_mail)} reporters without their 'submitted' notification")
    if (unsent := sum(1 for pair in accepted if pair in submitted and submitted[pair].sent_at is None)):
        problems.append(f"{unsent} 'submitted' notifications not sent")
    return problems


def main() -> int:
    WORK.mkdir(parents=True, exist_ok=True)
    print(f"loadtest: database {DATABASE}, broker {BROKER}, {USERS} users for {DURATION} s on {HOST}")
    print("loadtest: throttles off (SIGNALEMENT_THROTTLES_ENABLED=false): one client plays every citizen")
    database_recreate()
    manage("migrate", "--noinput", "-v", "0")
    manage("load_demo", "--city", "liege", "--no-reports")
    redis.Redis.from_url(BROKER).flushdb()
    (WORK / "accepted.txt").unlink(missing_ok=True)

    processes = []
    try:
        worker = [str(VENV_BIN / "celery"), "-A", "config", "worker", "-l", "warning", "--concurrency", "2"]
        processes.append(start("worker", worker))
        gunicorn = [str(VENV_BIN / "gunicorn"), "-c", "config/gunicorn.conf.py", "config.wsgi"]
        server = start("gunicorn", gunicorn)
        processes.append(server)
        wait_until_serving(server)
        prefix = WORK / "locust"
        started = time.monotonic()
        subprocess.run(
            [
                str(VENV_BIN / "locust"), "-f", str(Path(__file__).parent / "locustfile.py"), "--headless",
                "-u", str(USERS), "-r", str(SPAWN_RATE), "-t", f"{DURATION}s", "--host", HOST,
                "--csv", str(prefix), "--only-summary", "--stop-timeout", "10", "--loglevel", "WARNING",
            ],
            cwd=ROOT,
            env=environment(),
            check=False,
        )
        elapsed = time.monotonic() - started
        errors = stats_print(prefix)
        lines = (WORK / "accepted.txt").read_text().split() if (WORK / "accepted.txt").exists() else []
        accepted = list(zip(lines[::2], lines[1::2], strict=True))
        print(f"\naccepted submissions: {len(accepted)} in {elapsed:.0f} s ({len(accepted) / elapsed:.1f}/s)")
        drain_started = time.monotonic()
        problems = database_check(accepted)
        print(f"worker drained in {time.monotonic() - drain_started:.0f} s after the load")
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
    for problem in problems:
        print(f"FAILED: {problem}")
    if errors:
        print(f"FAILED: {errors} requests in error")
    if not accepted:
        print("FAILED: no submission accepted")
    ok = not problems and not errors and accepted
    if ok:
        print("loadtest: OK, every accepted report stored once, located, processed and notified once")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
