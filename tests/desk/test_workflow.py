"""The workflow table holds every status move, the staff's and the system's (merge, undo)."""

import pytest
from django.contrib.gis.geos import Point

from signalements.desk.duplicates import signalement_unmerge, signalements_merge
from signalements.desk.services import TransitionError
from signalements.desk.workflow import SYSTEM_TRANSITIONS, TRANSITIONS, Event, allowed_next
from signalements.intake.services import signalement_submit, signalement_support
from signalements.models import OPEN_STATUSES, Category, Signalement, Status, StatusChange
from tests.conftest import PLACE_SAINT_LAMBERT


@pytest.fixture
def pair(liege):
    dechets = Category.objects.get(slug="dechets")
    here = Point(*PLACE_SAINT_LAMBERT, srid=4326)
    master, _ = signalement_submit(category=dechets, location=here)
    duplicate, _ = signalement_submit(category=dechets, location=here)
    return master, duplicate


def test_a_status_change_never_makes_a_duplicate_only_a_merge_does():
    assert all(Status.DUPLICATE not in following for following in TRANSITIONS.values())
    assert allowed_next(Status.NEW, Event.MERGE) == {Status.DUPLICATE}
    assert allowed_next(Status.RESOLVED, Event.MERGE) == frozenset()
    assert allowed_next(Status.DUPLICATE, Event.UNMERGE) == frozenset(OPEN_STATUSES)
    assert set(SYSTEM_TRANSITIONS) == set(Event)


def test_merge_and_undo_write_moves_the_table_allows(pair):
    master, duplicate = pair
    signalements_merge(master=master, duplicates=[duplicate])
    signalement_unmerge(duplicate=duplicate)

    moves = list(duplicate.history.order_by("id").values_list("from_status", "to_status"))
    assert moves[-2:] == [(Status.NEW, Status.DUPLICATE), (Status.DUPLICATE, Status.NEW)]
    assert Status.DUPLICATE in allowed_next(Status.NEW, Event.MERGE)
    assert Status.NEW in allowed_next(Status.DUPLICATE, Event.UNMERGE)


def test_an_undo_to_a_status_the_table_forbids_changes_nothing(pair):
    """A duplicate whose history says it was resolved before its merge (imported history): the undo
    is refused by the table, and the master keeps its supporters and count."""
    master, duplicate = pair
    signalement_support(signalement=duplicate, supporter_key="k1", email="voisin@example.org")
    signalements_merge(master=master, duplicates=[duplicate])
    StatusChange.objects.create(
        signalement=duplicate, from_status=Status.RESOLVED, to_status=Status.DUPLICATE
    )
    before = Signalement.objects.get(pk=master.pk).support_count
    supporters = master.supports.count()

    with pytest.raises(TransitionError):
        signalement_unmerge(duplicate=duplicate)

    duplicate.refresh_from_db()
    assert (duplicate.status, duplicate.duplicate_of_id) == (Status.DUPLICATE, master.pk)
    assert Signalement.objects.get(pk=master.pk).support_count == before == 2
    assert master.supports.count() == supporters


@pytest.mark.django_db(transaction=True)
def test_a_status_change_outside_any_transaction_locks_in_its_own(liege):
    """A Celery task or a management command calls the service with no transaction open: the
    service opens its own (select_for_update needs one), and the change is committed."""
    from signalements.desk.services import signalement_transition

    dechets = Category.objects.get(slug="dechets")
    report, _ = signalement_submit(category=dechets, location=Point(*PLACE_SAINT_LAMBERT, srid=4326))

    signalement_transition(signalement=report, to_status=Status.ACKNOWLEDGED)

    assert Signalement.objects.get(pk=report.pk).status == Status.ACKNOWLEDGED
