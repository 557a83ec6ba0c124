"""A boundary or work zone edit in the admin is saved whatever the broker's state, and its reports are
located again all the same: the territory is marked in the edit's transaction, and the mark stays
until a relocation that started after the edit has run (its own task, or the periodic sweep)."""

import io
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import MultiPolygon, Point, Polygon
from django.core.management import call_command
from django.db import connection, transaction

from cartography.admin import TerritoryAdmin
from cartography.models import District, Team, Territory, WorkZone
from cartography.services import relocation_request, relocations_run, territory_relocate
from config.celery import app as celery_app
from signalements.models import Signalement
from tests.brokers import REDIS_DOWN, TEST_BROKER, _point_at
from tests.conftest import PLACE_SAINT_LAMBERT, team_admin_form, wait_for
from tests.factories import SignalementFactory

FIXTURES = Path(settings.BASE_DIR) / "fixtures"


@pytest.fixture
def broker_down(broker, monkeypatch, caplog):
    """Nothing listens at the broker's address: every publish fails. Warnings are captured (an
    embedded worker earlier in the process leaves the root logger at ERROR)."""
    _point_at(monkeypatch, REDIS_DOWN)
    caplog.set_level(logging.WARNING, logger="cartography.services")
    return caplog


@pytest.fixture
def admin_client(client, liege):
    client.force_login(get_user_model().objects.get(username="admin"))
    return client


def _district_form(district: District, **changes) -> dict:
    data = {
        "territory": district.territory_id,
        "layer": district.layer,
        "name": district.name,
        "code": district.code,
        "geom": district.geom.geojson,
        "_save": "Enregistrer",
    }
    return {**data, **changes}


def _zone_form(zone: WorkZone, **changes) -> dict:
    data = {
        "team": zone.team_id,
        "name": zone.name,
        "geom": zone.geom.geojson,
        "priority": zone.priority,
        "categories": list(zone.categories.values_list("pk", flat=True)),
        "_save": "Enregistrer",
    }
    return {**data, **changes}


def _grown(district: District, point: Point) -> str:
    """The district's boundary with a small square around the point added: GeoJSON for the form."""
    square = Polygon.from_bbox((point.x - 0.0003, point.y - 0.0003, point.x + 0.0003, point.y + 0.0003))
    grown = district.geom.union(square)
    return (grown if grown.geom_type == "MultiPolygon" else MultiPolygon(grown, srid=4326)).geojson


def _districts_by_id(territory: Territory) -> tuple[District, District, District]:
    """Three districts of the locating layer, by id: a point of the second or third one that the
    first one also covers goes to the first (on overlap, the lower id wins)."""
    first, second, third = District.objects.filter(
        territory=territory, layer=territory.locating_layer
    ).order_by("pk")[:3]
    return first, second, third


def _report_in(district: District) -> Signalement:
    report = SignalementFactory(location=district.geom.point_on_surface)
    assert report.district_id == district.pk
    return report


def _mark(territory: Territory):
    return Territory.objects.values_list("relocation_requested_at", flat=True).get(pk=territory.pk)


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_a_boundary_saved_with_the_broker_down_is_relocated_by_the_beat_sweep(
    liege, admin_client, broker_down, monkeypatch
):
    target, source, _ = _districts_by_id(liege)
    report = _report_in(source)
    point = report.location

    response = admin_client.post(
        f"/admin/cartography/district/{target.pk}/change/", _district_form(target, geom=_grown(target, point))
    )

    assert response.status_code == 302
    target.refresh_from_db()
    assert target.geom.intersects(point), "the boundary was saved"
    assert _mark(liege) is not None
    report.refresh_from_db()
    assert report.district_id == source.pk, "not relocated while the broker is down"
    assert f"broker unavailable, relocation of territory {liege.pk} left for the sweep" in broker_down.text
    assert "relocalisés en arrière-plan" in admin_client.get(response.url).content.decode()

    # The broker is back: beat sends the sweep by the name in its schedule, a worker runs it.
    _point_at(monkeypatch, TEST_BROKER)
    sweep = next(
        entry for entry in settings.CELERY_BEAT_SCHEDULE.values() if entry["task"].startswith("cartography.")
    )
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        celery_app.send_task(sweep["task"])
        wait_for(lambda: _mark(liege) is None, "the sweep relocated the territory")

    report.refresh_from_db()
    assert report.district_id == target.pk


@pytest.mark.django_db(transaction=True)
def test_an_edit_committed_while_a_relocation_runs_is_not_lost(liege, admin_client, broker_down):
    target, first_source, second_source = _districts_by_id(liege)
    early, late = _report_in(first_source), _report_in(second_source)
    # A first edit, committed: the relocation below starts after it.
    response = admin_client.post(
        f"/admin/cartography/district/{target.pk}/change/",
        _district_form(target, geom=_grown(target, early.location)),
    )
    assert response.status_code == 302
    covered = _mark(liege)
    target.refresh_from_db()

    with ThreadPoolExecutor(max_workers=1) as pool:
        with transaction.atomic():
            # A second edit, through the admin too, not committed yet when the relocation starts.
            response = admin_client.post(
                f"/admin/cartography/district/{target.pk}/change/",
                _district_form(target, geom=_grown(target, late.location)),
            )
            assert response.status_code == 302
            pending = _mark(liege)
            assert pending > covered

            def relocate() -> int | None:
                try:
                    return territory_relocate(territory_id=liege.pk, requested_only=True)
                finally:
                    connection.close()

            running = pool.submit(relocate)
            # The relocation has run on the first edit's boundaries and now waits to clear the mark,
            # which this open transaction holds.
            with connection.cursor() as cursor:

                def relocation_waits_on_us() -> bool:
                    assert not running.done(), f"the relocation did not wait: {running.result()}"
                    # The activity view keeps its first answer for the rest of a transaction.
                    cursor.execute("SELECT pg_stat_clear_snapshot()")
                    cursor.execute(
                        "SELECT count(*) FROM pg_stat_activity"
                        " WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid))"
                    )
                    return cursor.fetchone()[0] > 0

                wait_for(relocation_waits_on_us, "the relocation reached the mark")
            # The sweep leaves a territory being relocated to that relocation.
            assert relocations_run(wait=False) == 0
        moved = running.result(timeout=60)

    assert moved >= 1
    early.refresh_from_db()
    late.refresh_from_db()
    assert early.district_id == target.pk, "the first edit was relocated"
    assert late.district_id == second_source.pk, "the relocation started before the second edit"
    assert _mark(liege) == pending, "the second edit's request is kept"

    assert relocations_run(wait=False) >= 1
    late.refresh_from_db()
    assert late.district_id == target.pk
    assert _mark(liege) is None


def test_each_request_gives_the_mark_a_new_value_even_within_one_transaction(liege):
    with transaction.atomic():
        relocation_request(territory_ids=[liege.pk])
        first = _mark(liege)
        relocation_request(territory_ids=[liege.pk])
        assert _mark(liege) > first


def test_a_relocation_asked_only_for_pending_requests_does_nothing_without_one(liege):
    assert _mark(liege) is None
    assert territory_relocate(territory_id=liege.pk, requested_only=True) is None
    assert relocations_run() == 0


def test_a_new_name_alone_does_not_ask_for_a_relocation(admin_client, liege):
    district = District.objects.filter(territory=liege, layer=liege.locating_layer).first()

    response = admin_client.post(
        f"/admin/cartography/district/{district.pk}/change/", _district_form(district, name="Autre nom")
    )

    assert response.status_code == 302
    district.refresh_from_db()
    assert district.name == "Autre nom"
    assert _mark(liege) is None


def test_a_district_of_another_layer_does_not_ask_for_a_relocation(admin_client, liege):
    sector = District.objects.filter(territory=liege).exclude(layer=liege.locating_layer).first()
    square = Polygon.from_bbox((5.50, 50.60, 5.5003, 50.6003))

    response = admin_client.post(
        f"/admin/cartography/district/{sector.pk}/change/",
        _district_form(sector, geom=MultiPolygon(square, srid=4326).geojson),
    )

    assert response.status_code == 302
    assert _mark(liege) is None


def test_the_territory_page_shows_a_pending_relocation_and_its_save_keeps_it(admin_client, liege):
    stale = Territory.objects.get(pk=liege.pk)  # a form read before the request below
    relocation_request(territory_ids=[liege.pk])

    page = admin_client.get(f"/admin/cartography/territory/{liege.pk}/change/").content.decode()
    assert "relocalisation demandée le" in page.lower()

    stale.name = "Liège (ville)"
    form = SimpleNamespace(changed_data=["name"])
    TerritoryAdmin(Territory, admin.site).save_model(None, stale, form, change=True)

    assert Territory.objects.get(pk=liege.pk).name == "Liège (ville)"
    assert _mark(liege) is not None, "the save did not put back the mark it was loaded with"


def _centre_report() -> Signalement:
    report = SignalementFactory(location=Point(*PLACE_SAINT_LAMBERT, srid=4326))
    assert report.team.slug == "liege-hypercentre"
    return report


def test_a_work_zone_change_in_the_admin_marks_its_territory_and_the_sweep_reroutes(admin_client, liege):
    report = _centre_report()
    zone = WorkZone.objects.get(team__slug="liege-hypercentre")

    # Below the northern zone's priority: the centre's waste goes to that zone's team.
    response = admin_client.post(
        f"/admin/cartography/workzone/{zone.pk}/change/", _zone_form(zone, priority=-1)
    )

    assert response.status_code == 302
    assert _mark(liege) is not None
    report.refresh_from_db()
    assert report.team.slug == "liege-hypercentre"

    assert relocations_run(wait=False) >= 1
    report.refresh_from_db()
    assert report.team.slug == "liege-proprete-nord"
    assert _mark(liege) is None


def test_deleting_a_work_zone_in_the_admin_marks_the_territory_under_it(admin_client, liege):
    report = _centre_report()
    zone = WorkZone.objects.get(team__slug="liege-hypercentre")

    response = admin_client.post(f"/admin/cartography/workzone/{zone.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not WorkZone.objects.filter(pk=zone.pk).exists()
    assert _mark(liege) is not None
    relocations_run(wait=False)
    report.refresh_from_db()
    assert report.team.slug == "liege-proprete-nord"


def test_a_zone_priority_changed_in_the_team_form_marks_the_territory(admin_client, liege):
    team = Team.objects.get(slug="liege-hypercentre")
    zone = team.work_zones.get()
    data = team_admin_form(team, zone_priority=-1)

    response = admin_client.post(f"/admin/cartography/team/{team.pk}/change/", data)

    assert response.status_code == 302, response.content.decode()[:2000]
    zone.refresh_from_db()
    assert zone.priority == -1
    assert _mark(liege) is not None


def test_import_districts_relocates_itself_and_settles_a_pending_request(liege):
    relocation_request(territory_ids=[liege.pk])  # an admin edit, the broker down
    target, source, _ = _districts_by_id(liege)
    report = _report_in(source)
    Signalement.objects.filter(pk=report.pk).update(district=target)  # as if not located since

    call_command(
        "import_districts",
        str(FIXTURES / "data" / "liege_anciennes_communes.geojson"),
        territory=liege.slug,
        layer="districts",
        name_field="tx_sub_munty_fr",
        code_field="cd_sub_munty",
        names=str(FIXTURES / "liege" / "district_names.json"),
        stdout=io.StringIO(),
    )

    assert _mark(liege) is None
    report.refresh_from_db()
    assert report.district_id == source.pk, "the import put the boundary back and located the report"
