"""Schema-driven fuzzing of the REST API: whatever the generated requests, no server error.

Bounded so that the suite stays short: few examples per operation, derandomized (the same
examples on every run, so a failure in CI is one that reproduces)."""

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error

from config.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)

FUZZ_SETTINGS = settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(autouse=True)
def connection_kept():
    """Requests go through the WSGI application, whose end closes the database connection (as in
    production): keep the test's one, with its transaction, as Django's test client does."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def agent_token(liege) -> str:
    token, _ = Token.objects.get_or_create(user=get_user_model().objects.get(username="agent"))
    return token.key


@pytest.mark.fuzz
@schema.parametrize()
@FUZZ_SETTINGS
def test_the_api_never_answers_a_server_error_to_anonymous(case, liege):
    case.call_and_validate(checks=[not_a_server_error])


@pytest.mark.fuzz
@schema.parametrize()
@FUZZ_SETTINGS
def test_the_api_never_answers_a_server_error_to_an_agent(case, agent_token):
    case.call_and_validate(headers={"Authorization": f"Token {agent_token}"}, checks=[not_a_server_error])
