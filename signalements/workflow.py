"""The report workflow, as data: which status may follow which. Checked in one service."""

from .models import Status

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


def allowed_next(status: str) -> frozenset[str]:
    return TRANSITIONS.get(status, frozenset())
