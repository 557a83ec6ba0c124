"""Retention: contact data anonymised a while after closure, and a person's data exported and erased
on request; the reports and their history stay."""

import io
import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.gis.geos import Point
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from signalements import tasks
from signalements.desk.services import comment_add, signalement_transition
from signalements.intake.services import ReporterData, signalement_submit, signalement_support
from signalements.models import (
    Category,
    Comment,
    Notification,
    ReporterContact,
    Signalement,
    StatusChange,
    Support,
)
from signalements.trust.retention import citizen_data_erase, contacts_anonymise
from tests.conftest import PLACE_SAINT_LAMBERT

ANNE = "anne.dupont@example.org"
BOB = "bob.martin@example.org"


def _report(email: str, *, name: str = "Anne Dupont", phone: str = "+32 470 11 22 33", text: str = ""):
    signalement, _created = signalement_submit(
        category=Category.objects.get(slug="dechets"),
        location=Point(*PLACE_SAINT_LAMBERT, srid=4326),
        description=text or f"Sacs éventrés. Rappelez-moi au 0470 11 22 33 ou à {email}.",
        reporter=ReporterData(name=name, email=email, phone=phone),
    )
    return signalement


def _closed(signalement: Signalement) -> Signalement:
    for status in ("resolved", "closed"):
        signalement_transition(signalement=signalement, to_status=status, text="Nettoyé.")
    return signalement


def _later(days: int):
    return timezone.now() + timedelta(days=days)


def _contact_rows(signalement: Signalement) -> tuple:
    return (
        tuple(ReporterContact.objects.filter(signalement=signalement).values_list("name", "email", "phone")),
        tuple(Support.objects.filter(signalement=signalement).values_list("email", flat=True)),
        Notification.objects.filter(signalement=signalement).count(),
        Signalement.objects.get(pk=signalement.pk).description,
    )


def _tables_holding(text: str) -> list[str]:
    """Every text column of every table of the database where `text` appears."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'"
            " AND data_type IN ('text', 'character varying', 'json', 'jsonb')"
            " AND table_name IN (SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = 'public' AND table_type = 'BASE TABLE')"
        )
        columns = cursor.fetchall()
        found = []
        for table, column in columns:
            cursor.execute(f'SELECT 1 FROM "{table}" WHERE "{column}"::text ILIKE %s LIMIT 1', [f"%{text}%"])
            if cursor.fetchone():
                found.append(f"{table}.{column}")
    return found


@pytest.fixture
def anne_closed(liege):
    report = _report(ANNE)
    signalement_support(signalement=report, supporter_key="k-bob", email=BOB)
    comment_add(signalement=report, text=f"Mon numéro : 0470 11 22 33, {ANNE}", from_citizen=True)
    return _closed(report)


def test_a_report_closed_longer_ago_than_the_retention_is_anonymised(anne_closed):
    history = list(anne_closed.history.values_list("pk", "to_status", "text"))

    done = contacts_anonymise(now=_later(settings.SIGNALEMENT_RETENTION_DAYS + 1))

    assert done.reports == 1
    contact = ReporterContact.objects.get(signalement=anne_closed)
    assert (contact.name, contact.email, contact.phone, contact.anonymised_at is not None) == (
        "",
        "",
        "",
        True,
    )
    assert list(Support.objects.filter(signalement=anne_closed).values_list("email", flat=True)) == [""]
    assert not Notification.objects.filter(signalement=anne_closed).exists()
    anne_closed.refresh_from_db()
    assert anne_closed.anonymised_at is not None
    assert "0470" not in anne_closed.description and ANNE not in anne_closed.description
    assert anne_closed.description.startswith("Sacs éventrés.")
    comment = Comment.objects.get(signalement=anne_closed)
    assert "0470" not in comment.text and ANNE not in comment.text
    assert list(anne_closed.history.values_list("pk", "to_status", "text")) == history
    assert _tables_holding(ANNE) == [] and _tables_holding(BOB) == []


def test_a_recently_closed_report_is_kept(anne_closed):
    before = _contact_rows(anne_closed)

    done = contacts_anonymise(now=_later(settings.SIGNALEMENT_RETENTION_DAYS - 1))

    assert done.reports == 0
    assert _contact_rows(anne_closed) == before


def test_an_open_report_is_kept_however_old(liege):
    report = _report(ANNE)
    signalement_transition(signalement=report, to_status="acknowledged")
    before = _contact_rows(report)

    assert contacts_anonymise(now=_later(10 * 365)).reports == 0
    assert _contact_rows(report) == before


def test_running_twice_changes_nothing_more(anne_closed):
    later = _later(settings.SIGNALEMENT_RETENTION_DAYS + 1)
    contacts_anonymise(now=later)
    after_first = _contact_rows(anne_closed)

    again = contacts_anonymise(now=later)

    assert again.reports == again.contacts == again.supports == again.notifications == again.texts == 0
    assert _contact_rows(anne_closed) == after_first


def test_a_report_reopened_and_closed_again_is_anonymised_again(anne_closed):
    contacts_anonymise(now=_later(settings.SIGNALEMENT_RETENTION_DAYS + 1))
    Signalement.objects.filter(pk=anne_closed.pk).update(anonymised_at=timezone.now() - timedelta(seconds=1))
    signalement_transition(signalement=anne_closed, to_status="acknowledged")
    signalement_support(signalement=anne_closed, supporter_key="k-carl", email="carl@example.org")
    _closed(anne_closed)

    done = contacts_anonymise(now=_later(settings.SIGNALEMENT_RETENTION_DAYS + 1))

    assert done.reports == 1
    assert _tables_holding("carl@example.org") == []


def test_the_dry_run_counts_and_changes_nothing(anne_closed, settings):
    settings.SIGNALEMENT_RETENTION_DAYS = -1  # everything closed is past the retention
    before = _contact_rows(anne_closed)
    out = io.StringIO()

    call_command("anonymise_contacts", "--dry-run", stdout=out)

    assert out.getvalue().startswith("1 report(s) would be anonymised: 1 reporter contact(s), 1 supporter")
    assert _contact_rows(anne_closed) == before
    call_command("anonymise_contacts", stdout=io.StringIO())
    assert ReporterContact.objects.get(signalement=anne_closed).email == ""


def test_the_beat_job_is_scheduled_and_runs_the_service(anne_closed, settings):
    entry = next(
        e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"].endswith("contacts_anonymise")
    )
    settings.SIGNALEMENT_RETENTION_DAYS = -1

    assert tasks.contacts_anonymise.name == entry["task"]
    assert tasks.contacts_anonymise.apply().get() == 1
    assert ReporterContact.objects.get(signalement=anne_closed).email == ""


@pytest.fixture
def two_people(liege):
    annes = _report(ANNE)
    bobs = _report(BOB, name="Bob Martin", phone="+32 470 99 88 77", text="Le secret de Bob")
    signalement_support(signalement=bobs, supporter_key="k-anne", email=ANNE)
    comment_add(signalement=bobs, text="Réponse de la ville à Bob")  # a reply e-mailed to both
    return annes, bobs


def test_the_export_holds_the_persons_data_and_nothing_of_others(two_people, tmp_path):
    annes, bobs = two_people
    path = tmp_path / "anne.json"

    call_command("citizen_data", "--email", ANNE.upper(), "--export", str(path), stdout=io.StringIO())

    data = json.loads(path.read_text())
    assert [r["reference"] for r in data["reports"]] == [annes.reference]
    assert data["reports"][0]["contact"] == {
        "name": "Anne Dupont",
        "email": ANNE,
        "phone": "+32 470 11 22 33",
        "show_name": False,
        "wants_updates": True,
        "language": "fr",
    }
    assert [s["reference"] for s in data["supports"]] == [bobs.reference]
    assert {n["reference"] for n in data["notifications"]} == {annes.reference, bobs.reference}
    text = path.read_text()
    assert (
        BOB not in text
        and "Bob Martin" not in text
        and "99 88 77" not in text
        and "secret de Bob" not in text
    )
    assert bobs.tracking_secret not in text


def test_the_erasure_leaves_no_trace_of_the_address_and_keeps_the_others(two_people):
    annes, bobs = two_people
    history = StatusChange.objects.count()

    done = citizen_data_erase(email=ANNE)

    assert _tables_holding(ANNE) == []
    assert _tables_holding("Anne Dupont") == []
    assert done.reports == 1 and done.supports == 1
    assert Signalement.objects.filter(pk=annes.pk).exists() and StatusChange.objects.count() == history
    assert ReporterContact.objects.get(signalement=bobs).email == BOB
    assert Notification.objects.filter(recipient=BOB).exists()
    assert Signalement.objects.get(pk=bobs.pk).support_count == 1  # the backing still counts


def test_erasing_twice_changes_nothing_more(two_people):
    out = io.StringIO()
    call_command("citizen_data", "--email", ANNE, "--erase", stdout=out)
    assert out.getvalue().startswith("Erased: 1 report(s)")

    again = citizen_data_erase(email=ANNE)

    assert again.reports == again.supports == again.notifications == again.texts == 0


def test_the_command_refuses_a_bad_address(liege):
    with pytest.raises(Exception, match="not an e-mail address"):
        call_command("citizen_data", "--email", "nobody", "--erase")


def test_login_records_older_than_their_retention_are_deleted_by_the_nightly_job(liege):
    from axes.models import AccessAttempt, AccessLog

    for address in ("192.0.2.7", "192.0.2.8"):
        AccessLog.objects.create(username="agent", ip_address=address, user_agent="x")
        AccessAttempt.objects.create(
            username="agent", ip_address=address, user_agent="x", failures_since_start=1
        )
    old = timezone.now() - timedelta(days=settings.SIGNALEMENT_LOGIN_LOG_DAYS + 1)
    for model in (AccessLog, AccessAttempt):  # attempt_time is set on creation: age them after
        model.objects.filter(ip_address="192.0.2.7").update(attempt_time=old)

    tasks.contacts_anonymise()

    for model in (AccessLog, AccessAttempt):
        kept = model.objects.filter(ip_address__in=["192.0.2.7", "192.0.2.8"])
        assert list(kept.values_list("ip_address", flat=True)) == ["192.0.2.8"]
