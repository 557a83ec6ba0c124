"""A real Celery worker on Redis runs the side effects of a report once it is committed."""

import json
import os
import time

import kombu.pools
import pytest
from celery.contrib.testing.worker import start_worker
from django.core.files.uploadedfile import SimpleUploadedFile

from config.celery import app as celery_app
from signalements.models import Signalement
from signalements.tasks import sweep_unprocessed

from .conftest import PLACE_SAINT_LAMBERT, jpeg_bytes, point_geojson

# Its own Redis database, so that parallel test runs on one machine do not take each other's tasks.
TEST_BROKER = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]


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


@pytest.fixture
def broker(monkeypatch):
    monkeypatch.setenv("CELERY_RESULT_BACKEND", TEST_BROKER)  # also read before the configuration
    _point_at(monkeypatch, TEST_BROKER)
    with celery_app.connection_for_write() as connection:
        connection.default_channel.client.flushdb()
    yield TEST_BROKER
    _reopen_connections()  # then monkeypatch restores the environment: the usual broker again


@pytest.fixture
def worker(broker):
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10) as running:
        yield running


def _wait_processed(reference: str, timeout: float = 20) -> Signalement:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        signalement = Signalement.objects.get(reference=reference)
        if signalement.processed_at is not None:
            return signalement
        time.sleep(0.1)
    raise AssertionError(f"{reference} was not processed by the worker within {timeout} s")


def _submit(client, **extra):
    return client.post(
        "/api/v1/signalements/",
        data={"category": "dechets", "location": json.dumps(point_geojson(*PLACE_SAINT_LAMBERT)), **extra},
    )


def test_a_worker_on_redis_processes_the_report_enqueued_on_commit(liege, worker, client):
    photo = SimpleUploadedFile("p.jpg", jpeg_bytes(size=(1200, 900)), "image/jpeg")

    response = _submit(client, photos=[photo])

    assert response.status_code == 201
    signalement = _wait_processed(response.json()["reference"])
    thumbnail = signalement.photos.get().thumbnail
    assert thumbnail.name
    assert max(thumbnail.width, thumbnail.height) == 320


def test_a_broker_outage_keeps_the_report_and_the_sweep_catches_up(
    liege, broker, client, settings, monkeypatch, caplog
):
    _point_at(monkeypatch, "redis://127.0.0.1:1/0")  # nothing listens there; results stay on TEST_BROKER

    response = _submit(client)

    assert response.status_code == 201
    reference = response.json()["reference"]
    signalement = Signalement.objects.get(reference=reference)
    assert signalement.processed_at is None
    assert f"broker unavailable, signalement {signalement.pk} left for the sweep" in caplog.text

    _point_at(monkeypatch, TEST_BROKER)
    settings.SIGNALEMENT_SWEEP_AFTER = settings.SIGNALEMENT_SWEEP_AFTER * 0
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        assert sweep_unprocessed() >= 1
        assert _wait_processed(reference).processed_at is not None
