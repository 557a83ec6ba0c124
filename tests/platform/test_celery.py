"""A real Celery worker on Redis runs the side effects of a report once it is committed."""

import json
import logging
import sys
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.core.files.uploadedfile import SimpleUploadedFile

from config.celery import app as celery_app
from signalements.models import Signalement
from signalements.tasks import sweep_unprocessed
from tests.brokers import REDIS_DOWN, TEST_BROKER, _point_at
from tests.conftest import PLACE_SAINT_LAMBERT, jpeg_bytes, point_geojson

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(broker):
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10) as running:
        yield running


# socket.connect calls seen by the audit hook below, while a test sets a list here.
_connects: list[tuple[object, bool]] | None = None
_audit_hook_added = False


def _record_connects(event: str, args: tuple) -> None:
    """Audit hook: note each socket.connect and whether Celery's result backend code made it."""
    if event != "socket.connect" or _connects is None:
        return
    frame, from_backend = sys._getframe(1), False
    while frame is not None and not from_backend:
        from_backend = frame.f_globals.get("__name__", "").startswith("celery.backends.")
        frame = frame.f_back
    _connects.append((args[1], from_backend))


@pytest.fixture
def connects():
    """The connection attempts of the test, as the interpreter reports them (an audit hook stays for
    the process: it is added once and does nothing outside this fixture)."""
    global _connects, _audit_hook_added
    if not _audit_hook_added:
        sys.addaudithook(_record_connects)
        _audit_hook_added = True
    _connects = []
    yield _connects
    _connects = None


def _capture_warnings(caplog) -> None:
    """Each embedded worker after the first in a process leaves the root logger at ERROR (Celery's
    logging setup), which would drop the warnings of a later test before caplog sees them."""
    caplog.set_level(logging.WARNING, logger="signalements")


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


def _submitted_while_down(client, caplog) -> str:
    """Submit with the broker down: the report is taken, left unprocessed for the sweep; its reference."""
    response = _submit(client)

    assert response.status_code == 201
    reference = response.json()["reference"]
    signalement = Signalement.objects.get(reference=reference)
    assert signalement.processed_at is None
    assert f"broker unavailable, signalement {signalement.pk} left for the sweep" in caplog.text
    return reference


def _sweep_catches_up(reference: str, settings) -> None:
    """With the broker back, the sweep hands the report to a real worker, which processes it."""
    settings.SIGNALEMENT_SWEEP_AFTER = settings.SIGNALEMENT_SWEEP_AFTER * 0
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        assert sweep_unprocessed() >= 1
        assert _wait_processed(reference).processed_at is not None


def test_a_broker_outage_keeps_the_report_and_the_sweep_catches_up(
    liege, broker, client, settings, monkeypatch, caplog
):
    _point_at(monkeypatch, REDIS_DOWN)
    _capture_warnings(caplog)

    reference = _submitted_while_down(client, caplog)

    _point_at(monkeypatch, TEST_BROKER)
    _sweep_catches_up(reference, settings)


def test_a_redis_outage_takes_the_report_without_waiting_on_the_result_backend(
    liege, broker, client, settings, monkeypatch, caplog, connects
):
    """Broker and result backend on one Redis, as REDIS_URL sets them, and Redis down. Tasks keep
    no result, so publishing does not subscribe to one: with results kept, Celery retried the
    backend's connection 20 times before even trying the broker, and the citizen waited ~20 s."""
    monkeypatch.setenv("CELERY_RESULT_BACKEND", REDIS_DOWN)  # a backend set, the worst case
    _point_at(monkeypatch, REDIS_DOWN)
    _capture_warnings(caplog)

    reference = _submitted_while_down(client, caplog)
    assert [address for address, from_backend in connects if from_backend] == []
    assert [address for address, from_backend in connects if not from_backend], "the broker was tried"

    monkeypatch.setenv("CELERY_RESULT_BACKEND", TEST_BROKER)  # Redis is back
    _point_at(monkeypatch, TEST_BROKER)
    _sweep_catches_up(reference, settings)
