"""The history of a report: its rows are written by the services that change it, never edited.
Status changes go through services.status_record; the other events (triage, merge, moderation) are
internal notes written here. The table itself refuses UPDATE and DELETE, whatever writes to it
(the triggers below, installed after every migrate)."""

from config.database import Function, Trigger

from .models import Signalement, StatusChange

FUNCTIONS = [
    Function(
        "signalements_statuschange_append_only()",
        "trigger",
        """
BEGIN
    RAISE EXCEPTION 'status history is append-only (row %)', OLD.id
        USING ERRCODE = 'integrity_constraint_violation';
END """,
    ),
    # Deleting a report would delete its history (cascade): refused too; a report is anonymised, not
    # deleted (trust.retention).
    Function(
        "signalements_statuschange_never_deleted()",
        "trigger",
        """
BEGIN
    RAISE EXCEPTION
        'status history is append-only: row % cannot be deleted, nor the report it belongs to', OLD.id
        USING ERRCODE = 'integrity_constraint_violation';
END """,
    ),
]
TRIGGERS = [
    Trigger(
        "statuschange_append_only",
        "signalements_statuschange",
        "BEFORE UPDATE",
        "FOR EACH ROW EXECUTE FUNCTION signalements_statuschange_append_only()",
    ),
    Trigger(
        "statuschange_never_deleted",
        "signalements_statuschange",
        "BEFORE DELETE",
        "FOR EACH ROW EXECUTE FUNCTION signalements_statuschange_never_deleted()",
    ),
]


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
