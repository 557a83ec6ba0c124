"""More simultaneous requests than the database pool has connections: every one is answered, and
the server never holds more connections than the pool allows (hole 10)."""

import threading
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from django.db import connection, connections

POOL_MAX = 3
REQUESTS = 40  # > POOL_MAX, sent by 20 threads at once


@pytest.fixture
def pooled(live_server):
    """The pool as in development and production, small, for the live server's request threads.
    They make their connections from this settings dictionary; the pool is built at the first."""
    options = connections["default"].settings_dict
    saved = (options["CONN_MAX_AGE"], dict(options["OPTIONS"]))
    options["CONN_MAX_AGE"] = 0
    options["OPTIONS"]["pool"] = {"min_size": 1, "max_size": POOL_MAX, "timeout": 60}
    yield live_server
    connection.close_pool()
    options["CONN_MAX_AGE"], options["OPTIONS"] = saved


class ConnectionWatch(threading.Thread):
    """Counts, over and over until stopped, the other sessions on the test database."""

    def __init__(self, dsn: dict):
        super().__init__(daemon=True)
        self.dsn, self.most, self.done = dsn, 0, threading.Event()

    def run(self) -> None:
        with psycopg.connect(**self.dsn, autocommit=True) as watch:
            while not self.done.is_set():
                (count,) = watch.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND pid <> pg_backend_pid()"
                ).fetchone()
                self.most = max(self.most, count)


@pytest.mark.django_db(transaction=True)
def test_requests_beyond_the_pool_wait_for_a_connection_and_all_succeed(pooled, liege):
    params = connection.get_connection_params()
    dsn = {k: params[k] for k in ("dbname", "user", "host", "port", "password") if params.get(k)}
    watch = ConnectionWatch(dsn)
    outside_the_pool = 1  # this test's own connection
    paths = ("/api/v1/signalements/?bbox=5.5,50.6,5.6,50.7", "/api/v1/categories/")
    urls = [pooled.url + path for path in paths]

    def get(i: int) -> int:
        with urllib.request.urlopen(urls[i % 2], timeout=120) as response:
            response.read()
            return response.status

    watch.start()
    try:
        with ThreadPoolExecutor(max_workers=20) as executor:
            statuses = list(executor.map(get, range(REQUESTS)))
    finally:
        watch.done.set()
        watch.join()

    assert statuses == [200] * REQUESTS
    assert 0 < watch.most <= POOL_MAX + outside_the_pool


def test_connections_get_the_configured_work_mem(db, settings):
    """The desk's search by word starts needs an exact bitmap: the site's connections get
    DATABASE_WORK_MEM rather than PostgreSQL's 4 MB."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW work_mem")
        assert cursor.fetchone()[0] == settings.DATABASE_WORK_MEM == "16MB"
