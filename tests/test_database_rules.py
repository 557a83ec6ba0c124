"""Rules the database itself enforces, whatever writes to it."""

import pytest
from django.db import IntegrityError, transaction

from signalements.models import Signalement, StatusChange

from .factories import SignalementFactory


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


def test_references_and_tracking_tokens_are_made_by_the_database(liege):
    first, second = SignalementFactory(), SignalementFactory()

    assert first.reference != second.reference
    assert int(second.reference[1:]) > int(first.reference[1:])
    assert len(first.tracking_token) == 32 and first.tracking_token != second.tracking_token


def test_the_metric_copy_follows_the_point(liege, settings):
    signalement = SignalementFactory()

    assert signalement.location_metric.srid == settings.METRIC_SRID
    moved = signalement.location.transform(settings.METRIC_SRID, clone=True)
    assert signalement.location_metric.distance(moved) < 0.01
