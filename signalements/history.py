"""The history of a report: its rows are written by the services that change it, never edited
(the table refuses UPDATE and DELETE). Status changes go through services.status_record; the other
events (triage, merge, moderation) are internal notes written here."""

from .models import Signalement, StatusChange


def history_note(*, signalement: Signalement, text: str, author=None) -> StatusChange:
    """A history row for an event that is not a status change (assignment, category, merge):
    the status stays, the row is internal."""
    return StatusChange.objects.create(
        signalement=signalement,
        from_status=signalement.status,
        to_status=signalement.status,
        author=author,
        is_public=False,
        text=text,
    )
