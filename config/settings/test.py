"""pytest (pyproject's DJANGO_SETTINGS_MODULE): never the developer's broker, database or mailbox."""

import os

from .base import *  # noqa: F403

SECRET_KEY = "tests-only-not-secret"
DEBUG = False

# Its own Redis database, so that no test (the live server's requests included) publishes a task
# to the default broker, where a `make run` worker would run it against the development database.
# Celery reads CELERY_BROKER_URL from the environment before the settings: hence both.
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
CELERY_BROKER_URL = os.environ["CELERY_BROKER_URL"] = TEST_REDIS_URL

EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Users are created by the hundred; a slow hash only costs time here.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# No pool for the tests: pytest-django holds each test in a transaction on one connection, and
# switches the database's name to test_*; tests/platform/test_pool.py turns the pool on for a live server.
if DATABASE_POOL:  # noqa: F405
    DATABASES["default"]["OPTIONS"].pop("pool")  # noqa: F405
    DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ.get("DATABASE_CONN_MAX_AGE", "60"))  # noqa: F405
DATABASE_POOL = False
