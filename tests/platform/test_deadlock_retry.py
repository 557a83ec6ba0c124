"""A transaction PostgreSQL aborts to break a deadlock runs again (config.database.retried_on_deadlock)."""

import threading

import pytest
from django.db import OperationalError, ProgrammingError, connection, transaction

from config.database import retried_on_deadlock
from signalements.models import Signalement
from tests.factories import SignalementFactory


@pytest.mark.django_db(transaction=True)
def test_two_transactions_that_deadlock_both_end_written(liege):
    """Each transaction changes one report, then the other's: PostgreSQL aborts one of them to break
    the cycle; it runs again once the other has committed, and both changes are kept."""
    first, second = SignalementFactory(), SignalementFactory()
    both_hold_one = threading.Barrier(2, timeout=10)
    attempts = {"a": 0, "b": 0}
    errors = []

    def crossing(name, mine, theirs):
        @retried_on_deadlock
        @transaction.atomic
        def work():
            attempts[name] += 1
            Signalement.objects.filter(pk=mine.pk).update(priority="high")
            if attempts[name] == 1:
                both_hold_one.wait()  # each holds its own report: the next update closes the cycle
            Signalement.objects.filter(pk=theirs.pk).update(priority="high")

        try:
            work()
        except Exception as exc:  # noqa: BLE001 - the assertion below shows it
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=crossing, args=("a", first, second)),
        threading.Thread(target=crossing, args=("b", second, first)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert errors == [], attempts
    assert max(attempts.values()) >= 2, attempts  # one aborted by PostgreSQL, run again
    assert set(Signalement.objects.values_list("priority", flat=True)) == {"high"}


def failing(sql: str, calls: list):
    """A transaction that runs `sql`, noting each attempt in `calls`."""

    @retried_on_deadlock
    @transaction.atomic
    def run():
        calls.append(sql)
        with connection.cursor() as cursor:
            cursor.execute(sql)

    return run


@pytest.mark.django_db(transaction=True)
def test_other_errors_and_inner_transactions_are_not_run_again():
    calls = []
    with pytest.raises(ProgrammingError):
        failing("SELECT * FROM no_such_table", calls)()
    assert len(calls) == 1

    deadlocked = failing("DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = '40P01'; END $$", calls := [])
    with pytest.raises(OperationalError):
        deadlocked()
    assert len(calls) == 3  # run again twice: three attempts in all
    calls.clear()
    with pytest.raises(OperationalError), transaction.atomic():
        deadlocked()
    assert len(calls) == 1  # within an outer transaction: not run again
