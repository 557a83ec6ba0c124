"""The desk: workflow, merges, clustering, deadlines, statistics, permissions, queue."""

import csv
import io
import json
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.utils import timezone

from cartography.models import Team
from signalements.deadlines import WorkingCalendar
from signalements.desk.duplicates import (
    PROPOSE_LOCK_SQL,
    duplicate_groups_propose,
    group_signature,
    signalement_unmerge,
    signalements_merge,
)
from signalements.desk.services import signalement_transition
from signalements.desk.statistics import desk_statistics
from signalements.desk.workflow import TRANSITIONS
from signalements.intake.services import ReporterData, signalement_submit, signalement_support
from signalements.models import (
    OPEN_STATUSES,
    Category,
    DuplicateGroup,
    PublicHoliday,
    Satisfaction,
    Signalement,
    Status,
    StatusChange,
    Support,
)
from tests.conftest import PLACE_SAINT_LAMBERT, wait_for
from tests.factories import SignalementFactory

BRUSSELS = ZoneInfo("Europe/Brussels")
User = get_user_model()


def user(name: str):
    return User.objects.get(username=name)


# --- workflow ---------------------------------------------------------------------------------


@pytest.mark.parametrize("from_status", Status.values)
@pytest.mark.parametrize("to_status", Status.values)
def test_every_transition_is_allowed_or_refused_as_the_workflow_says(liege, from_status, to_status):
    signalement = SignalementFactory(status=from_status)
    allowed = to_status in TRANSITIONS[from_status]

    if allowed:
        change = signalement_transition(signalement=signalement, to_status=to_status, text="ok")
        assert (change.from_status, change.to_status) == (from_status, to_status)
        signalement.refresh_from_db()
        assert signalement.status == to_status
    else:
        with pytest.raises(ValidationError):
            signalement_transition(signalement=signalement, to_status=to_status)
        signalement.refresh_from_db()
        assert signalement.status == from_status
    assert signalement.history.count() == (1 if allowed else 0)


def test_history_rows_record_who_when_and_text(liege):
    agent = user("agent")
    signalement = SignalementFactory()
    signalement_transition(signalement=signalement, to_status="acknowledged", author=agent, text="Vu")
    signalement_transition(signalement=signalement, to_status="in_progress", author=agent, is_public=False)

    rows = list(
        signalement.history.values_list("from_status", "to_status", "author__username", "text", "is_public")
    )
    assert rows == [
        ("new", "acknowledged", "agent", "Vu", True),
        ("acknowledged", "in_progress", "agent", "", False),
    ]


# --- duplicates -------------------------------------------------------------------------------


def test_a_merge_moves_followers_adds_supports_and_can_be_undone(liege):
    dechets = Category.objects.get(slug="dechets")
    master, _ = signalement_submit(
        category=dechets,
        location=Point(*PLACE_SAINT_LAMBERT, srid=4326),
        reporter=ReporterData(email="first@example.org"),
    )
    duplicate, _ = signalement_submit(
        category=dechets,
        location=Point(*PLACE_SAINT_LAMBERT, srid=4326),
        reporter=ReporterData(email="second@example.org"),
    )
    signalement_transition(signalement=duplicate, to_status="acknowledged")
    signalement_support(signalement=duplicate, supporter_key="x", email="neighbour@example.org")

    signalements_merge(master=master, duplicates=[duplicate], author=user("agent"))

    master.refresh_from_db()
    duplicate.refresh_from_db()
    assert duplicate.status == Status.DUPLICATE and duplicate.duplicate_of_id == master.pk
    assert master.support_count == 2  # the duplicate's reporter and its supporter
    assert set(Support.objects.filter(signalement=master).values_list("email", flat=True)) == {
        "second@example.org",
        "neighbour@example.org",
    }
    assert master.reference in duplicate.history.last().text
    assert duplicate.reference in master.history.last().text

    signalement_unmerge(duplicate=duplicate, author=user("agent"))

    master.refresh_from_db()
    duplicate.refresh_from_db()
    assert duplicate.status == "acknowledged" and duplicate.duplicate_of_id is None
    assert master.support_count == 0
    assert not Support.objects.filter(signalement=master).exists()
    assert [h.to_status for h in duplicate.history.all()][-2:] == ["duplicate", "acknowledged"]


def test_merging_into_a_closed_report_is_refused(liege):
    master = SignalementFactory(status="closed")
    with pytest.raises(ValidationError):
        signalements_merge(master=master, duplicates=[SignalementFactory()])


def _dansmarue_points(n: int) -> list[tuple[float, float, str]]:
    path = Path(settings.BASE_DIR) / "fixtures" / "data" / "paris_dansmarue_sample_1000.geojson"
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    return [
        (f["geometry"]["coordinates"][0], f["geometry"]["coordinates"][1], f["properties"]["id_dmr"])
        for f in features[:n]
    ]


def _paris_with_three_groups() -> tuple[Category, list[set[int]]]:
    """Paris, and open waste reports in three known groups (smallest first) among strays."""
    from django.core.management import call_command

    data = Path(settings.BASE_DIR) / "fixtures" / "data"
    call_command(
        "import_territory",
        str(data / "paris_commune.geojson"),
        slug="paris",
        name="Paris",
        stdout=io.StringIO(),
    )
    dechets = Category.objects.get(slug="dechets")  # radius 40 m, window 7 days
    now = timezone.now()
    # Three real DansMaRue places, far apart: around each, reports a few metres apart.
    points = _dansmarue_points(3)
    expected = []
    for index, (lon, lat, _id) in enumerate(points):
        group = [
            SignalementFactory(
                category=dechets,
                location=Point(lon + k * 0.0001, lat, srid=4326),
                created_at=now - timedelta(hours=k),
            )
            for k in range(index + 2)
        ]
        expected.append({s.pk for s in group})
    # Same place but long ago (outside the window), another category, and a closed one: no group.
    lon, lat, _id = points[0]
    SignalementFactory(
        category=dechets, location=Point(lon, lat, srid=4326), created_at=now - timedelta(days=30)
    )
    SignalementFactory(
        category=Category.objects.get(slug="nid-de-poule"), location=Point(lon, lat, srid=4326)
    )
    SignalementFactory(category=dechets, location=Point(lon, lat, srid=4326), status="closed")

    return dechets, expected


def test_clustering_proposes_the_known_duplicate_groups(db):
    _dechets, expected = _paris_with_three_groups()

    assert duplicate_groups_propose() == 3
    found = [set(g.members.values_list("pk", flat=True)) for g in DuplicateGroup.objects.all()]
    assert sorted(found, key=len) == expected
    assert duplicate_groups_propose() == 0  # the same groups are not proposed twice


@pytest.mark.django_db(transaction=True)
def test_a_clustering_run_waits_for_the_one_under_way_and_proposes_its_groups_once(liege):
    dechets, expected = _paris_with_three_groups()
    outcome = {}

    def second_run():
        try:
            outcome["created"] = duplicate_groups_propose()
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            outcome["error"] = error
        finally:
            connections.close_all()

    # The first run, on its own connection: its turn taken, it stores the same groups, then commits.
    with psycopg.connect(**connection.get_connection_params()) as first:
        first.execute(PROPOSE_LOCK_SQL)
        second = threading.Thread(target=second_run)
        second.start()
        for members in expected:
            (group_id,) = first.execute(
                "INSERT INTO signalements_duplicategroup (category_id, state, signature, created_at)"
                " VALUES (%s, 'proposed', %s, now()) RETURNING id",
                [dechets.pk, group_signature(dechets.pk, sorted(members))],
            ).fetchone()
            for pk in members:
                first.execute(
                    "INSERT INTO signalements_duplicategroup_members (duplicategroup_id, signalement_id)"
                    " VALUES (%s, %s)",
                    [group_id, pk],
                )
        # Committed once the second run is held up by the first: by its turn, or by its rows.
        with psycopg.connect(**connection.get_connection_params(), autocommit=True) as watcher:

            def second_run_held_up() -> bool:
                if not second.is_alive():
                    return True  # it did not wait: the assertions below say how it ended
                query = "SELECT count(*) FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))"
                return watcher.execute(query, [first.info.backend_pid]).fetchone()[0] > 0

            wait_for(second_run_held_up, "the second run waits for the first")
        first.commit()
    second.join(timeout=60)

    assert outcome == {"created": 0}
    found = [set(g.members.values_list("pk", flat=True)) for g in DuplicateGroup.objects.all()]
    assert sorted(found, key=len) == expected


# --- deadlines --------------------------------------------------------------------------------


def _at(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=BRUSSELS)


@pytest.mark.parametrize(
    ("created", "days", "due"),
    [
        ("2026-11-16", 1, "2026-11-17"),  # Monday → Tuesday
        ("2026-11-20", 1, "2026-11-23"),  # Friday → Monday
        ("2026-11-21", 1, "2026-11-23"),  # Saturday → Monday
        ("2026-11-20", 5, "2026-11-27"),  # a whole week
        ("2026-11-21", 0, "2026-11-23"),  # same day, but it is a Saturday
        ("2026-12-24", 1, "2026-12-28"),  # Thursday, Christmas on Friday, then the week-end
        ("2026-12-31", 2, "2027-01-05"),  # New Year's Day and a week-end in between
    ],
)
def test_deadlines_count_working_days_only(db, created, days, due):
    calendar = WorkingCalendar(holidays={date(2026, 12, 25), date(2027, 1, 1)})

    deadline = calendar.deadline(_at(created), days)

    assert deadline.astimezone(BRUSSELS).date().isoformat() == due
    assert deadline.astimezone(BRUSSELS).hour == 23


def test_holidays_come_from_the_database_and_deadlines_are_set_at_intake(liege):
    PublicHoliday.objects.create(date=date(2026, 11, 11), name="Armistice")
    assert WorkingCalendar().deadline(_at("2026-11-10"), 1).astimezone(BRUSSELS).date() == date(2026, 11, 12)
    signalement, _ = signalement_submit(
        category=Category.objects.get(slug="trottoir-verglace"),
        location=Point(*PLACE_SAINT_LAMBERT, srid=4326),
    )
    assert signalement.deadline_at > timezone.now()


# --- statistics -------------------------------------------------------------------------------


def _history(signalement, steps):
    for status, at in steps:
        StatusChange.objects.create(
            signalement=signalement, from_status=signalement.status, to_status=status, created_at=at
        )
        Signalement.objects.filter(pk=signalement.pk).update(status=status)
        signalement.status = status


def test_statistics_on_a_fixture_computed_by_hand(liege):
    t0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
    make = lambda **kw: SignalementFactory(created_at=t0, deadline_at=t0 + timedelta(days=2), **kw)  # noqa: E731
    a, b, c = make(channel="web"), make(channel="phone"), make(channel="web")
    _history(a, [("acknowledged", t0 + timedelta(hours=1)), ("resolved", t0 + timedelta(hours=10))])
    _history(b, [("acknowledged", t0 + timedelta(hours=3)), ("resolved", t0 + timedelta(hours=72))])
    _history(c, [("acknowledged", t0 + timedelta(hours=5))])
    Satisfaction.objects.create(signalement=a, solved=True, rating=5)
    Satisfaction.objects.create(signalement=b, solved=False, rating=2)

    f = desk_statistics(start=t0 - timedelta(days=1), end=t0 + timedelta(days=1))

    assert f.reports == 3
    assert f.acknowledge_median_h == 3.0  # 1, 3, 5 hours
    assert f.acknowledge_p90_h == pytest.approx(4.6)  # 3 + 0.8 × (5 − 3)
    assert f.resolve_median_h == 41.0  # (10 + 72) / 2
    assert (f.resolved, f.resolved_within_deadline, f.within_deadline_share) == (2, 1, 0.5)
    assert dict(f.volumes["channel"]) == {"web": 2, "phone": 1}
    assert (f.satisfaction_answers, f.satisfaction_mean, f.satisfaction_solved) == (2, 3.5, 1)


def test_statistics_page_and_csv(client, liege):
    SignalementFactory(channel="phone")
    client.force_login(user("planner"))

    assert client.get("/bureau/statistiques/").status_code == 200
    response = client.get("/bureau/statistiques/", {"format": "csv"})
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert ["channel", "phone", "1"] in rows


# --- permissions ------------------------------------------------------------------------------

PAGES = ["/bureau/", "/bureau/nouveau/", "/bureau/doublons/", "/bureau/statistiques/"]
CAN_OPEN = {
    "agent": {"/bureau/", "/bureau/nouveau/", "/bureau/doublons/", "/bureau/statistiques/"},
    "planner": {"/bureau/", "/bureau/doublons/", "/bureau/statistiques/"},
    "crew-voirie": {"/bureau/"},
    "admin": set(PAGES),
}


@pytest.mark.parametrize("username", list(CAN_OPEN))
@pytest.mark.parametrize("page", PAGES)
def test_the_permission_matrix_of_the_desk_pages(client, liege, username, page):
    client.force_login(user(username))

    assert client.get(page).status_code == (200 if page in CAN_OPEN[username] else 403)


def test_anonymous_visitors_are_sent_to_log_in(client, liege):
    assert client.get("/bureau/").status_code == 302


def test_a_crew_member_sees_and_changes_only_its_teams_reports(client, liege):
    voirie = Team.objects.get(slug="liege-voirie")
    own = SignalementFactory(category=Category.objects.get(slug="nid-de-poule"))
    other = SignalementFactory(category=Category.objects.get(slug="dechets"))
    assert own.team_id == voirie.pk and other.team_id != voirie.pk
    client.force_login(user("crew-voirie"))

    queue = client.get("/bureau/").content.decode()
    assert own.reference in queue and other.reference not in queue
    assert client.get(f"/bureau/signalements/{other.reference}/").status_code == 404
    client.post(
        f"/bureau/signalements/{own.reference}/", {"action": "transition", "to_status": "in_progress"}
    )
    own.refresh_from_db()
    assert own.status == "in_progress"
    client.post(
        f"/bureau/signalements/{own.reference}/",
        {"action": "triage", "category": own.category_id, "priority": "urgent"},
    )
    own.refresh_from_db()
    assert own.priority == "normal"  # triage is for agents


def test_a_planner_reads_everything_and_changes_nothing(client, liege):
    signalement = SignalementFactory()
    client.force_login(user("planner"))

    assert client.get(f"/bureau/signalements/{signalement.reference}/").status_code == 200
    response = client.post(
        f"/bureau/signalements/{signalement.reference}/",
        {"action": "transition", "to_status": "acknowledged"},
    )
    assert response.status_code == 403
    signalement.refresh_from_db()
    assert signalement.status == "new"


# --- agent work -------------------------------------------------------------------------------


def test_an_agent_triages_replies_and_notes(client, liege, mailoutbox):
    signalement, _ = signalement_submit(
        category=Category.objects.get(slug="dechets"),
        location=Point(*PLACE_SAINT_LAMBERT, srid=4326),
        reporter=ReporterData(email="r@example.org"),
    )
    client.force_login(user("agent"))
    url = f"/bureau/signalements/{signalement.reference}/"

    client.post(
        url,
        {
            "action": "triage",
            "category": Category.objects.get(slug="lampadaire-eteint").pk,
            "priority": "high",
            "team": "",
        },
    )
    signalement.refresh_from_db()
    assert signalement.category.slug == "lampadaire-eteint"
    assert signalement.team.slug == "liege-eclairage"  # located again for the new category
    assert signalement.priority == "high"
    voirie = Team.objects.get(slug="liege-voirie")
    client.post(
        url, {"action": "triage", "category": signalement.category_id, "priority": "high", "team": voirie.pk}
    )
    signalement.refresh_from_db()
    assert signalement.team == voirie and signalement.team_is_manual
    client.post(url, {"action": "message", "text": "Équipe prévenue.", "internal": ""})
    client.post(url, {"action": "message", "text": "À voir avec la police", "internal": "on"})
    client.post(url, {"action": "transition", "to_status": "acknowledged", "text": "Merci"})

    signalement.refresh_from_db()
    assert signalement.status == "acknowledged"
    assert signalement.comments.filter(is_internal=True).count() == 1
    tracking = client.get(f"/suivi/{signalement.tracking_token}/").content.decode()
    assert "Équipe prévenue." in tracking and "police" not in tracking


def test_registering_a_phone_report_shows_the_citizens_earlier_reports(client, liege):
    earlier, _ = signalement_submit(
        category=Category.objects.get(slug="dechets"),
        location=Point(*PLACE_SAINT_LAMBERT, srid=4326),
        reporter=ReporterData(phone="+32 470 11 22 33"),
    )
    client.force_login(user("agent"))
    form = {
        "channel": "phone",
        "category": Category.objects.get(slug="nid-de-poule").pk,
        "contact_phone": "+32 470 11 22 33",
        "address": "Feronstree",
        "idempotency_key": "desk-test-1",
    }

    searched = client.post("/bureau/nouveau/", {**form, "action": "search"}).content.decode()
    assert earlier.reference in searched
    assert "Feronstree" in searched
    response = client.post(
        "/bureau/nouveau/",
        {**form, "action": "save", "lon": PLACE_SAINT_LAMBERT[0], "lat": PLACE_SAINT_LAMBERT[1]},
    )
    assert response.status_code == 302
    created = Signalement.objects.exclude(pk=earlier.pk).get()
    assert created.channel == "phone" and created.reporter.phone == "+32 470 11 22 33"
    assert created.history.get().author.username == "agent"


def test_bulk_acknowledge_and_assign(client, liege):
    first, second = SignalementFactory(), SignalementFactory()
    client.force_login(user("agent"))
    voirie = Team.objects.get(slug="liege-voirie")

    client.post("/bureau/", {"action": "acknowledge", "selected": [first.reference, second.reference]})
    client.post("/bureau/", {"action": "assign", "team": voirie.pk, "selected": [first.reference]})

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("acknowledged", "acknowledged")
    assert first.team == voirie and second.team != voirie


def test_the_queue_puts_overdue_and_new_first_and_its_query_count_is_constant(
    client, liege, django_assert_max_num_queries
):
    client.force_login(user("agent"))
    old = SignalementFactory(deadline_at=timezone.now() - timedelta(days=1), status="acknowledged")
    new = SignalementFactory(deadline_at=timezone.now() + timedelta(days=3))
    SignalementFactory(deadline_at=timezone.now() + timedelta(days=1), status="planned")
    page = client.get("/bureau/").content.decode()
    assert page.index(old.reference) < page.index(new.reference)

    with django_assert_max_num_queries(50) as few:
        client.get("/bureau/")
    SignalementFactory.create_batch(30)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/bureau/")
    assert Signalement.objects.filter(status__in=OPEN_STATUSES).count() == 33


def test_the_duplicates_page_merges_a_proposed_group(client, liege):
    first = SignalementFactory()
    second = SignalementFactory()
    assert duplicate_groups_propose() == 1
    group = DuplicateGroup.objects.get()
    client.force_login(user("agent"))

    client.post("/bureau/doublons/", {"group": group.pk, "master": first.reference, "action": "merge"})

    second.refresh_from_db()
    assert second.duplicate_of == first
    group.refresh_from_db()
    assert group.state == "merged"


def test_each_team_gets_a_daily_digest_of_its_overdue_reports(liege, mailoutbox):
    from signalements.notifications.delivery import teams_overdue_digest

    late = SignalementFactory(deadline_at=timezone.now() - timedelta(hours=2))
    SignalementFactory(deadline_at=timezone.now() + timedelta(days=2))
    SignalementFactory(deadline_at=timezone.now() - timedelta(days=2), status="closed")

    assert teams_overdue_digest() == 1
    (mail,) = mailoutbox
    assert late.team.public_email in mail.to
    assert late.reference in mail.body and "1 signalement en retard" in mail.subject


def test_statistics_leave_imported_reports_out_of_every_delay(liege):
    t0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
    make = lambda **kw: SignalementFactory(created_at=t0, deadline_at=t0 + timedelta(days=2), **kw)  # noqa: E731
    a, b = make(), make()
    _history(a, [("acknowledged", t0 + timedelta(hours=1)), ("resolved", t0 + timedelta(hours=10))])
    _history(b, [("acknowledged", t0 + timedelta(hours=3)), ("resolved", t0 + timedelta(hours=72))])
    # Imported as acknowledged (the bulk loader's one row), resolved 72 s after the import: not
    # a resolution in 0.02 h. And one loaded with no history at all.
    imported = make(status="acknowledged")
    StatusChange.objects.create(signalement=imported, from_status="", to_status="acknowledged", created_at=t0)
    _history(imported, [("resolved", t0 + timedelta(seconds=72))])
    make(status="closed")

    f = desk_statistics(start=t0 - timedelta(days=1), end=t0 + timedelta(days=1))

    assert (f.reports, f.timed, f.untimed) == (4, 2, 2)
    assert f.acknowledge_median_h == 2.0  # 1 and 3 hours
    assert f.resolve_median_h == 41.0  # (10 + 72) / 2, not 10 with the imported 0.02
    assert (f.resolved, f.resolved_within_deadline) == (2, 1)
    [week] = f.weeks
    assert (week.week, week.reports, week.resolve_median_h) == ("2026-W10", 4, 41.0)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("fr", ["Par canal", "Téléphone", "Par catégorie", "Par semaine", "Semaine"]),
        ("en", ["By channel", "Phone", "By category", "By week", "Week"]),
        ("nl", ["Per kanaal", "Telefoon", "Per categorie", "Per week", "Week"]),
    ],
)
def test_statistics_name_their_columns_and_channels_in_words(client, liege, language, expected):
    report = SignalementFactory(channel="phone")
    client.force_login(user("planner"))
    page = client.get("/bureau/statistiques/", headers={"accept-language": language}).content.decode()
    for words in expected:
        assert f">{words}<" in page, words
    assert ">phone<" not in page and f">{report.category.slug}<" not in page
    assert "Valeur" not in page


def test_statistics_page_carries_its_chart_data_as_plain_numbers(client, liege):
    t0 = timezone.now() - timedelta(days=3)
    a = SignalementFactory(created_at=t0, deadline_at=t0 + timedelta(days=2))
    _history(
        a, [("acknowledged", t0 + timedelta(hours=1)), ("resolved", t0 + timedelta(hours=30, minutes=30))]
    )
    client.force_login(user("planner"))
    page = client.get("/bureau/statistiques/", headers={"accept-language": "fr"}).content.decode()
    raw = page.split('<script id="statistics-data" type="application/json">', 1)[1].split("</script>", 1)[0]
    data = json.loads(raw)
    assert sum(data["volumes"]) == 1 and len(data["weeks"]) == 1
    assert data["resolve_median_h"] == [30.5]  # a JSON number, not "30,5"
    assert "vendor/chart.js/chart.umd.min.js" in page
