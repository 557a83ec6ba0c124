"""Throttles per client: one address (or one user) cannot flood the city with reports, comments,
supports or guesses at tracking links. Over the limit: 429 with Retry-After, on the API and the
pages alike; another client is not affected."""

import json
import uuid

import pytest

from signalements.intake.services import signalement_submit
from signalements.models import Comment, Signalement
from signalements.web.draft import SESSION_KEY
from tests.conftest import PLACE_SAINT_LAMBERT, point_geojson

URL = "/api/v1/signalements/"


@pytest.fixture
def rates(settings):
    """Small limits, so that a test reaches them in a few requests."""
    settings.SIGNALEMENT_THROTTLE_RATES = {
        **settings.SIGNALEMENT_THROTTLE_RATES,
        "submit": "3/hour",
        "comment": "2/hour",
        "tracking": "5/hour",
        "support": "2/hour",
    }
    return settings.SIGNALEMENT_THROTTLE_RATES


def _submit(client, address: str = "203.0.113.7", **headers):
    payload = {"category": "dechets", "location": point_geojson(*PLACE_SAINT_LAMBERT)}
    return client.post(
        URL, data=json.dumps(payload), content_type="application/json", REMOTE_ADDR=address, headers=headers
    )


def test_submissions_over_the_limit_get_429_with_retry_after(client, liege, rates):
    answers = [_submit(client).status_code for _ in range(3)]
    throttled = _submit(client)

    assert answers == [201, 201, 201]
    assert throttled.status_code == 429
    assert 0 < int(throttled["Retry-After"]) <= 3600
    assert "Requête ralentie" in throttled.json()["detail"]  # DRF's own message, in French
    assert Signalement.objects.count() == 3


def test_another_client_still_submits(client, liege, rates):
    for _ in range(4):
        _submit(client, "203.0.113.7")

    assert _submit(client, "198.51.100.20").status_code == 201


def test_the_list_beside_the_submission_is_not_counted(client, liege, rates):
    for _ in range(5):
        assert client.get(URL, REMOTE_ADDR="203.0.113.7").status_code == 200

    assert _submit(client).status_code == 201


def test_a_forged_forwarded_for_header_does_not_make_a_new_client(client, liege, rates):
    answers = [_submit(client, headers={"X-Forwarded-For": f"192.0.2.{n}"}).status_code for n in range(1, 5)]

    assert answers == [201, 201, 201, 429]


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_client(client, liege, rates, settings):
    settings.SIGNALEMENT_TRUSTED_PROXIES = 1
    proxy = "10.0.0.2"
    for _ in range(3):
        _submit(client, proxy, **{"X-Forwarded-For": "192.0.2.1"})

    assert _submit(client, proxy, **{"X-Forwarded-For": "192.0.2.1"}).status_code == 429
    # What the client wrote left of its own address is not trusted either.
    assert _submit(client, proxy, **{"X-Forwarded-For": "6.6.6.6, 192.0.2.1"}).status_code == 429
    assert _submit(client, proxy, **{"X-Forwarded-For": "192.0.2.2"}).status_code == 201


def test_ipv6_clients_are_counted_by_their_64(client, liege, rates):
    for n in range(3):
        assert _submit(client, f"2001:db8:1:2::{n + 1}").status_code == 201

    assert _submit(client, "2001:db8:1:2:ffff::9").status_code == 429
    assert _submit(client, "2001:db8:1:3::1").status_code == 201


def test_throttles_can_be_turned_off(client, liege, rates, settings):
    settings.SIGNALEMENT_THROTTLES_ENABLED = False

    assert [_submit(client).status_code for _ in range(5)] == [201] * 5


def test_without_redis_requests_are_let_through(client, liege, rates, settings):
    settings.CACHES = {
        **settings.CACHES,
        "throttles": {**settings.CACHES["throttles"], "LOCATION": "redis://127.0.0.1:1/0"},
    }

    assert [_submit(client).status_code for _ in range(5)] == [201] * 5


def _web_draft(client) -> None:
    session = client.session
    session[SESSION_KEY] = {
        "id": uuid.uuid4().hex,
        "photos": [],
        "lon": PLACE_SAINT_LAMBERT[0],
        "lat": PLACE_SAINT_LAMBERT[1],
        "category": "dechets",
        "description": "Dépôt clandestin",
    }
    session.save()


def test_the_web_form_is_throttled_with_a_page_in_the_site_layout(client, liege, rates):
    for _ in range(3):
        _web_draft(client)
        assert client.post("/signaler/verifier/", REMOTE_ADDR="203.0.113.7").status_code == 302
    _web_draft(client)

    throttled = client.post("/signaler/verifier/", REMOTE_ADDR="203.0.113.7")

    assert throttled.status_code == 429
    assert 0 < int(throttled["Retry-After"]) <= 3600
    page = throttled.content.decode()
    assert "Trop de demandes" in page and 'class="site-header"' in page
    assert Signalement.objects.count() == 3
    assert client.post("/signaler/verifier/", REMOTE_ADDR="198.51.100.20").status_code == 302


def test_the_web_throttle_page_is_translated(client, liege, rates):
    for _ in range(4):
        _web_draft(client)
        response = client.post("/signaler/verifier/", headers={"Accept-Language": "nl"})

    assert response.status_code == 429
    assert "Te veel verzoeken" in response.content.decode()


@pytest.fixture
def tracked(liege):
    from django.contrib.gis.geos import Point

    from signalements.models import Category

    signalement, _ = signalement_submit(
        category=Category.objects.get(slug="dechets"), location=Point(*PLACE_SAINT_LAMBERT, srid=4326)
    )
    return signalement


def test_comments_are_throttled_on_the_api_and_the_page(client, tracked, rates):
    url = f"/api/v1/tracking/{tracked.tracking_token}/comments/"
    answers = [client.post(url, {"text": f"Message {n}"}).status_code for n in range(3)]

    assert answers == [201, 201, 429]
    page = f"/suivi/{tracked.tracking_token}/"
    answers = [client.post(page, {"action": "comment", "text": f"Note {n}"}).status_code for n in range(3)]
    assert answers == [302, 302, 429]
    assert Comment.objects.filter(signalement=tracked).count() == 4


def test_guesses_at_tracking_links_are_throttled(client, tracked, rates):
    guesses = [client.get(f"/api/v1/tracking/{tracked.reference}-{n:032x}/").status_code for n in range(6)]

    assert guesses == [404] * 5 + [429]
    assert client.get(f"/suivi/{tracked.tracking_token}/").status_code == 200  # the page counts apart
    pages = [client.get(f"/suivi/{tracked.reference}-{n:032x}/").status_code for n in range(5)]
    assert pages == [404] * 4 + [429]


def test_twenty_client_keys_from_one_client_count_once(client, tracked, settings):
    settings.SIGNALEMENT_THROTTLES_ENABLED = False  # the key alone must hold, throttle or not
    url = f"/api/v1/signalements/{tracked.reference}/supports/"

    for n in range(20):
        client.post(
            url, {"client_key": f"device-{n}"}, content_type="application/json", REMOTE_ADDR="203.0.113.7"
        )

    tracked.refresh_from_db()
    assert tracked.support_count == 1


def test_a_new_browser_session_does_not_count_again(client, tracked, settings):
    settings.SIGNALEMENT_THROTTLES_ENABLED = False
    url = f"/signaler/soutenir/{tracked.reference}/"

    for _ in range(5):
        client.post(url, REMOTE_ADDR="203.0.113.7")
        client.cookies.clear()  # a fresh session each time

    tracked.refresh_from_db()
    assert tracked.support_count == 1


def test_different_people_count_and_one_client_is_throttled(client, tracked, rates):
    url = f"/api/v1/signalements/{tracked.reference}/supports/"
    for address in ("203.0.113.7", "198.51.100.20"):
        client.post(url, {}, content_type="application/json", REMOTE_ADDR=address)
    answers = [
        client.post(
            url,
            {},
            content_type="application/json",
            REMOTE_ADDR="203.0.113.7",
            headers={"User-Agent": f"UA {n}"},
        ).status_code
        for n in range(3)
    ]

    tracked.refresh_from_db()
    assert tracked.support_count == 3
    assert answers == [201, 429, 429]


@pytest.fixture
def agent_password(db):
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_user("guichet", password="correct horse battery", is_staff=True)
    return "correct horse battery"


def _login(client, password: str, username: str = "guichet", address: str = "203.0.113.7"):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password},
        REMOTE_ADDR=address,
    )


def test_failed_logins_lock_out_even_the_right_password(client, agent_password, settings):
    settings.AXES_FAILURE_LIMIT = 5
    failures = [_login(client, "wrong").status_code for _ in range(5)]

    locked = _login(client, agent_password)

    assert failures == [200] * 4 + [429]
    assert locked.status_code == 429
    assert "Connexion bloquée" in locked.content.decode()
    assert int(locked["Retry-After"]) == settings.AXES_COOLOFF_TIME.total_seconds()
    assert "_auth_user_id" not in client.session
    # The same username from another address is not locked: nobody locks a colleague out.
    assert _login(client, agent_password, address="198.51.100.20").status_code == 302


def test_after_the_cool_off_the_right_password_works(client, agent_password, settings):
    from axes.models import AccessAttempt
    from django.utils import timezone

    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "wrong")
    assert _login(client, agent_password).status_code == 429

    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME * 2)

    assert _login(client, agent_password).status_code == 302
    assert "_auth_user_id" in client.session


def test_an_administrator_can_lift_a_lockout(client, agent_password, settings):
    from axes.utils import reset

    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "wrong")
    reset(username="guichet")

    assert _login(client, agent_password).status_code == 302


def test_many_usernames_from_one_address_are_throttled(client, agent_password, settings):
    settings.SIGNALEMENT_THROTTLE_RATES = {**settings.SIGNALEMENT_THROTTLE_RATES, "login": "3/hour"}
    answers = [_login(client, "wrong", username=f"user{n}").status_code for n in range(4)]

    assert answers == [200, 200, 200, 429]
    assert (
        client.get("/admin/login/", REMOTE_ADDR="203.0.113.7").status_code == 200
    )  # reading the form is free
