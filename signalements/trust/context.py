"""What the signed-in user may do, for the templates: a page offers only what the policy allows."""

from .policy import capabilities_of, reaches_every_report


def capabilities(request) -> dict:
    return {
        "capabilities": frozenset(str(c) for c in capabilities_of(request.user)),
        # The duplicates and statistics pages are about every report: not for a crew.
        "reads_every_report": reaches_every_report(request.user),
    }
