"""Rules the database itself enforces, whatever writes to it."""

import re

import pytest
from django.db import IntegrityError, transaction

from signalements.models import Signalement, StatusChange
from tests.conftest import team_admin_form
from tests.factories import SignalementFactory


@pytest.mark.parametrize(
    ("field", "value"), [("status", "lost"), ("channel", "pigeon"), ("priority", "asap")]
)
def test_status_channel_and_priority_are_constrained(liege, field, value):
    signalement = SignalementFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        Signalement.objects.filter(pk=signalement.pk).update(**{field: value})


def test_the_history_is_append_only(liege):
    signalement = SignalementFactory()
    change = StatusChange.objects.create(signalement=signalement, from_status="", to_status="new")

    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        StatusChange.objects.filter(pk=change.pk).update(text="rewritten")


def test_a_history_row_cannot_be_deleted(liege):
    signalement = SignalementFactory()
    change = StatusChange.objects.create(signalement=signalement, from_status="", to_status="new")

    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        StatusChange.objects.filter(pk=change.pk).delete()
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        StatusChange.objects.filter(pk=change.pk).update(text="rewritten")

    assert StatusChange.objects.filter(pk=change.pk, text="").exists()


def test_a_report_with_a_history_cannot_be_deleted(liege):
    signalement = SignalementFactory()
    StatusChange.objects.create(signalement=signalement, from_status="", to_status="new")

    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        signalement.delete()

    assert Signalement.objects.filter(pk=signalement.pk).exists()
    assert signalement.history.count() == 1


def test_references_and_tracking_secrets_are_made_by_the_database(liege):
    first, second = SignalementFactory(), SignalementFactory()

    assert first.reference != second.reference
    assert int(second.reference[1:]) > int(first.reference[1:])
    # 122 random bits as 32 hex digits; the token is the reference, then the secret.
    assert re.fullmatch(r"[0-9a-f]{32}", first.tracking_secret)
    assert first.tracking_secret != second.tracking_secret
    assert first.tracking_token == f"{first.reference}-{first.tracking_secret}"


def test_references_keep_every_digit_past_ten_million(liege):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT setval('signalements_reference_seq', 9999998)")

    last_short, first_long = SignalementFactory(), SignalementFactory()

    assert (last_short.reference, first_long.reference) == ("S9999999", "S10000000")


def test_the_metric_copy_follows_the_point(liege, settings):
    signalement = SignalementFactory()

    assert signalement.location_metric.srid == settings.METRIC_SRID
    moved = signalement.location.transform(settings.METRIC_SRID, clone=True)
    assert signalement.location_metric.distance(moved) < 0.01


@pytest.mark.parametrize(
    ("declarations", "prefix"),
    [
        (["cartography.database"], "cartography"),
        (["signalements.history"], "signalements_statuschange"),
        (["cartography.publicmap.database", "cartography.publicmap.outlines"], "publicmap"),
    ],
)
def test_the_database_runs_the_declared_functions_and_triggers(db, declarations, prefix):
    """Every migrate ends by installing each declaration: what the database runs is what the modules
    declare (the migrations' older texts replaced), enabled as declared, and nothing undeclared
    under their prefix is left."""
    from importlib import import_module

    from django.db import connection

    modules = [import_module(declaration) for declaration in declarations]
    like = prefix.replace("_", "\\_") + "\\_%"
    with connection.cursor() as cursor:
        cursor.execute("SELECT proname, prosrc FROM pg_proc WHERE proname LIKE %s", [like])
        installed = dict(cursor.fetchall())
        cursor.execute(
            "SELECT tgname, tgrelid::regclass::text, tgenabled FROM pg_trigger"
            " WHERE NOT tgisinternal AND tgfoid::regproc::text LIKE %s",
            [like],
        )
        triggers = set(cursor.fetchall())
    declared = [function for module in modules for function in module.FUNCTIONS]
    assert installed == {function.name: function.body for function in declared}
    declared = [trigger for module in modules for trigger in module.TRIGGERS]
    assert triggers == {(trigger.name, trigger.table, trigger.enabled) for trigger in declared}


def test_deactivating_a_team_in_the_admin_relocates_its_zones_territory(admin_client, liege):
    """The admin's list of edits that move reports comes from the same declaration as the triggers:
    a team's activity is in it (the admin used to ignore it)."""
    from cartography.models import Team, Territory

    team = Team.objects.get(slug="liege-hypercentre")
    data = team_admin_form(team, is_active=False)
    assert Territory.objects.get(pk=liege.pk).relocation_requested_at is None

    response = admin_client.post(f"/admin/cartography/team/{team.pk}/change/", data)

    assert response.status_code == 302, response.content.decode()[:2000]
    team.refresh_from_db()
    assert not team.is_active
    assert Territory.objects.get(pk=liege.pk).relocation_requested_at is not None
