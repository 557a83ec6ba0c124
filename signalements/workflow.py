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
            Status.DUPLICATE,
        }
    ),
    Status.ACKNOWLEDGED: frozenset(
        {Status.PLANNED, Status.IN_PROGRESS, Status.RESOLVED, Status.REJECTED, Status.DUPLICATE}
    ),
    Status.PLANNED: frozenset({Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.RESOLVED, Status.REJECTED}),
    # Back to "acknowledged": a crew could not do it, the desk decides again.
    Status.IN_PROGRESS: frozenset({Status.ACKNOWLEDGED, Status.PLANNED, Status.RESOLVED, Status.REJECTED}),
    Status.RESOLVED: frozenset({Status.CLOSED, Status.IN_PROGRESS}),
    Status.CLOSED: frozenset({Status.ACKNOWLEDGED}),
    Status.REJECTED: frozenset({Status.ACKNOWLEDGED}),
    Status.DUPLICATE: frozenset({Status.ACKNOWLEDGED}),
}


def allowed_next(status: str) -> frozenset[str]:
    return TRANSITIONS.get(status, frozenset())
