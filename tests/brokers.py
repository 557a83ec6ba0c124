"""Pointing Celery at a broker in tests: the test one, or one that is down (conftest.broker)."""

import kombu.pools
from django.conf import settings

from config.celery import app as celery_app

# The whole session's broker (config.settings.test): its own Redis database, so that parallel test
# runs on one machine do not take each other's tasks and none reaches the developer's queue.
TEST_BROKER = settings.TEST_REDIS_URL


def _reopen_connections() -> None:
    """Close the app's connection and producer pools and forget this thread's result backend.

    The app opens them once, on the broker of the first task published in the process (say by a
    live-server test before this module), and publishes through them from then on: a worker, which
    connects afresh, would wait on the new broker for tasks sent to the old one. Reopened on the
    current URLs at the next task."""
    kombu.pools.reset()
    celery_app._pool = celery_app.amqp._producer_pool = None
    celery_app._backend_cache = None
    vars(celery_app._local).pop("backend", None)


def _point_at(monkeypatch, url: str) -> None:
    """Send and take tasks through url, in the code under test as in the worker. Celery reads
    CELERY_BROKER_URL from the environment before its configuration (an assignment to
    conf.broker_url is ignored when it is set), so that is what is set."""
    monkeypatch.setenv("CELERY_BROKER_URL", url)
    _reopen_connections()


REDIS_DOWN = "redis://127.0.0.1:1/0"  # nothing listens there: every connection is refused
