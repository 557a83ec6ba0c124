"""The report workflow, as data: which status may follow which, for the staff's status changes and
for the system's own moves (a merge, its undoing). Checked in one place: services.status_record."""

from enum import StrEnum

from ..models import OPEN_STATUSES, Status

TRANSITIONS: dict[str, frozenset[str]] = {
    Status.NEW: frozenset(
        {
            Status.ACKNOWLEDGED,
            Status.PLANNED,
            Status.IN_PROGRESS,
            Status.RESOLVED,
            Status.REJECTED,
        }
    ),
    Status.ACKNOWLEDGED: frozenset({Status.PLANNED, Status.IN_PROGRESS, Status.RESOLVED, Status.REJECTED}),
    Status.PLANNED: frozenset({Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.RESOLVED, Status.REJECTED}),
    # Back to "acknowledged": a crew could not do it, the desk decides again.
    Status.IN_PROGRESS: frozenset({Status.ACKNOWLEDGED, Status.PLANNED, Status.RESOLVED, Status.REJECTED}),
    Status.RESOLVED: frozenset({Status.CLOSED, Status.IN_PROGRESS}),
    Status.CLOSED: frozenset({Status.ACKNOWLEDGED}),
    Status.REJECTED: frozenset({Status.ACKNOWLEDGED}),
    # In and out of "duplicate" only through a merge (which names the master) and its undoing:
    # a status change alone would leave the citizen on a "duplicate" of no report, or leave a
    # report still pointing to its master with its followers there.
    Status.DUPLICATE: frozenset(),
}

# Statuses no status change sets: signalements_merge does, with the master it names.
ENTERED_BY_MERGE: frozenset[str] = frozenset({Status.DUPLICATE})


class Event(StrEnum):
    """A move the system makes as part of another operation, not a staff member's status change."""

    MERGE = "merge"  # an open report becomes a duplicate of the master it names
    UNMERGE = "unmerge"  # a duplicate gets back the status it had before the merge


SYSTEM_TRANSITIONS: dict[Event, dict[str, frozenset[str]]] = {
    Event.MERGE: {status: frozenset({Status.DUPLICATE}) for status in OPEN_STATUSES},
    # A merge takes only open reports, so its undoing gives one back.
    Event.UNMERGE: {Status.DUPLICATE: frozenset(OPEN_STATUSES)},
}


def allowed_next(status: str, event: Event | None = None) -> frozenset[str]:
    """The statuses that may follow `status`: by a status change, or by the system's `event`."""
    table = TRANSITIONS if event is None else SYSTEM_TRANSITIONS[event]
    return table.get(status, frozenset())
