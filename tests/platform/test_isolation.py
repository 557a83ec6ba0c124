"""The tests never reach the developer's broker, database or mailbox (config.settings.test)."""

import json
import urllib.request

import pytest
import redis
from django.conf import settings
from django.db import connection

from config.celery import app as celery_app
from tests.conftest import PLACE_SAINT_LAMBERT, point_geojson, wait_for

DEFAULT_BROKER = "redis://127.0.0.1:6379/0"


def queued_task_names(client: redis.Redis) -> list[str]:
    return [json.loads(message)["headers"]["task"] for message in client.lrange("celery", 0, -1)]


def test_the_session_broker_is_the_test_one_not_the_default():
    assert settings.TEST_REDIS_URL != DEFAULT_BROKER
    assert celery_app.connection_for_write().as_uri(include_password=True) == settings.TEST_REDIS_URL


@pytest.mark.django_db(transaction=True)
def test_a_live_server_submission_publishes_its_tasks_to_the_test_broker(live_server, liege):
    """The browser tests' server runs in this process: its tasks go to the test broker, where no
    `make run` worker can run them against the development database."""
    test_broker = redis.Redis.from_url(settings.TEST_REDIS_URL)
    test_broker.delete("celery")
    body = json.dumps({"category": "dechets", "location": point_geojson(*PLACE_SAINT_LAMBERT)}).encode()
    request = urllib.request.Request(
        live_server.url + "/api/v1/signalements/", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 201

    wait_for(
        lambda: "signalements.tasks.signalement_after_submit" in queued_task_names(test_broker),
        "the submission's task on the test broker",
    )
    assert connection.settings_dict["NAME"].startswith("test_")


def test_mail_stays_in_memory_and_passwords_hash_fast():
    assert settings.EMAIL_BACKEND == "django.core.mail.backends.locmem.EmailBackend"
    assert settings.PASSWORD_HASHERS[0].endswith("MD5PasswordHasher")
