import contextlib
import io
import os
import re
import shutil
import time

import pytest
from django.conf import settings
from django.core.cache import caches
from django.core.management import call_command
from django.test import override_settings
from PIL import Image
from redis.exceptions import RedisError

from cartography.models import Territory
from config.celery import app as celery_app

from .brokers import TEST_BROKER, _point_at, _reopen_connections


def wait_for(condition, what: str, timeout: float = 30) -> None:
    """Poll `condition` until it holds; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(0.05)


CONFIRM_LINK = re.compile(r"/confirmer/([^/\s]+)/")


def confirm_addresses(mails) -> list[str]:
    """Each recipient follows the link of its confirmation e-mail (double opt-in), as a person
    would; returns the addresses confirmed."""
    from signalements.trust.optin import email_confirm

    confirmed = []
    for mail in mails:
        match = CONFIRM_LINK.search(mail.body)
        if match:
            email_confirm(token=match.group(1))
            confirmed.append(mail.to[0])
    return confirmed


def liege_load() -> None:
    call_command("load_demo", city="liege", no_reports=True, stdout=io.StringIO())


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Real Liège boundaries, categories, teams and work zones, once for the session."""
    with django_db_blocker.unblock():
        liege_load()


@pytest.fixture(scope="session", autouse=True)
def throttle_cache_for_tests():
    """Throttle counters in the test Redis database, never in the development one."""
    throttles = {**settings.CACHES["throttles"], "LOCATION": TEST_BROKER}
    with override_settings(CACHES={**settings.CACHES, "throttles": throttles}):
        yield


@pytest.fixture(autouse=True)
def throttle_counters_reset(throttle_cache_for_tests):
    """Each test starts with no request counted, whatever ran before it. Only the throttle keys
    go: the broker's queues in the same database stay. Without Redis the throttles let requests
    through, and there is nothing to reset."""
    client = caches["throttles"]._cache.get_client(write=True)
    try:
        keys = list(client.scan_iter(match=f"{settings.CACHES['throttles']['KEY_PREFIX']}:*"))
        if keys:
            client.delete(*keys)
    except RedisError:
        pass


@pytest.fixture
def broker(monkeypatch):
    """The test broker, emptied, for the code under test and its workers (a test may point elsewhere
    meanwhile, say at a broker that is down); then the session's test broker again."""
    _point_at(monkeypatch, TEST_BROKER)
    with celery_app.connection_for_write() as connection:
        connection.default_channel.client.flushdb()
    yield TEST_BROKER
    _reopen_connections()  # then monkeypatch restores the environment: the test broker again


@pytest.fixture
def liege(db) -> Territory:
    # A transactional test (Celery, browser) flushes the database when it ends: reload then.
    if not Territory.objects.filter(slug="liege").exists():
        liege_load()
    return Territory.objects.get(slug="liege")


@pytest.fixture(autouse=True)
def media_root(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    yield settings.MEDIA_ROOT
    shutil.rmtree(settings.MEDIA_ROOT, ignore_errors=True)


@pytest.fixture(autouse=True)
def tile_filters_forgotten():
    """The public map's tiles keep the filters of a view per freshness token in each process
    (cartography.publicmap.views): a rolled-back test's categories could otherwise be read by the
    next one under the same token."""
    from cartography.publicmap.views import _tile_filters

    _tile_filters.cache_clear()


def jpeg_bytes(*, size=(64, 48), gps: tuple[float, float] | None = None, color=(200, 30, 30)) -> bytes:
    """A real JPEG, with EXIF camera data and optionally a GPS position (lon, lat)."""
    image = Image.new("RGB", size, color)
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"  # Make
    exif[0x0110] = "Model X"  # Model
    if gps is not None:
        lon, lat = gps

        def dms(value: float):
            value = abs(value)
            d = int(value)
            m = int((value - d) * 60)
            s = round(((value - d) * 60 - m) * 60, 4)
            return (float(d), float(m), float(s))

        exif[0x8825] = {1: "N" if lat >= 0 else "S", 2: dms(lat), 3: "E" if lon >= 0 else "W", 4: dms(lon)}
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


PLACE_SAINT_LAMBERT = (5.5714, 50.6455)  # Liège city centre, sub-municipality 62063A


@pytest.fixture
def centre() -> tuple[float, float]:
    return PLACE_SAINT_LAMBERT


def point_geojson(lon: float, lat: float) -> dict:
    return {"type": "Point", "coordinates": [lon, lat]}


__all__ = ["confirm_addresses", "jpeg_bytes", "point_geojson", "PLACE_SAINT_LAMBERT", "settings"]


@pytest.fixture(scope="session")
def chromium():
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop runs beside the ORM
    from playwright.sync_api import sync_playwright

    from .browser import CHROMIUM, LAUNCH_ARGS

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield browser
        browser.close()


# The two screens the browser tests judge a page on: a desktop, and a 390 px phone.
SCREENS = {
    "desktop": {"viewport": {"width": 1280, "height": 900}},
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "is_mobile": True,
        "has_touch": True,
        "device_scale_factor": 2,
    },
}


def _new_page(chromium, *, strict_csp: bool = False, **options):
    """A page in French. The tests' own waits evaluate strings in the page (wait_for_function),
    which the site's Content Security Policy forbids, so the policy is bypassed, but for the
    `strict_page` of the policy's own test (test_csp_browser)."""
    context = chromium.new_context(locale="fr-BE", bypass_csp=not strict_csp, **options)
    page = context.new_page()
    page.route("**/tile.openstreetmap.org/**", lambda route: route.abort())  # no map tiles offline
    page.set_default_timeout(30_000)  # a bound for slow, shared machines, not a speed check
    return context, page


def _live_server_quiet(timeout: float = 15) -> None:
    """Wait until no other connection to the test database is inside a query or a transaction.
    A page closed mid-request leaves the live server finishing it; the test's flush (TRUNCATE)
    would then lock against that request, and PostgreSQL ends one of them as a deadlock."""
    from django.db import connection

    def quiet() -> bool:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND state <> 'idle' AND backend_type = 'client backend'"
            )
            return cursor.fetchone()[0] == 0

    with contextlib.suppress(AssertionError):  # the flush then reports what still holds the tables
        wait_for(quiet, "the live server's last requests", timeout=timeout)


@pytest.fixture
def page(chromium, live_server, liege):
    context, page = _new_page(chromium, viewport={"width": 1200, "height": 900})
    page.base_url = live_server.url
    yield page
    context.close()
    _live_server_quiet()


@pytest.fixture
def strict_page(chromium, live_server, liege):
    context, page = _new_page(chromium, strict_csp=True, viewport={"width": 1200, "height": 900})
    page.base_url = live_server.url
    yield page
    context.close()
    _live_server_quiet()


@pytest.fixture
def phone(chromium, live_server, liege):
    context, page = _new_page(
        chromium,
        viewport={"width": 360, "height": 740},
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
    )
    page.base_url = live_server.url
    yield page
    context.close()
    _live_server_quiet()


def team_admin_form(team, *, is_active: bool = True, zone_priority: int | None = None) -> dict:
    """The admin's change form of a team with its one work zone inline, as a browser posts it."""
    zone = team.work_zones.get()
    prefix = "work_zones"
    data = {
        "slug": team.slug,
        "name": team.name,
        "territory": team.territory_id or "",
        "public_phone": team.public_phone,
        "public_email": team.public_email,
        "depot": team.depot.geojson if team.depot else "",
        f"{prefix}-TOTAL_FORMS": 1,
        f"{prefix}-INITIAL_FORMS": 1,
        f"{prefix}-MIN_NUM_FORMS": 0,
        f"{prefix}-MAX_NUM_FORMS": 1000,
        f"{prefix}-0-id": zone.pk,
        f"{prefix}-0-team": team.pk,
        f"{prefix}-0-name": zone.name,
        f"{prefix}-0-priority": zone.priority if zone_priority is None else zone_priority,
        "_save": "Enregistrer",
    }
    if is_active:  # a checkbox left unticked is not posted
        data["is_active"] = "on"
    return data
