"""A crew's field update (started, done, cannot be done) recorded once, whatever the retries of an
offline tablet."""

import logging

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from ..desk.services import comment_add, signalement_transition
from ..desk.workflow import allowed_next
from ..intake.services import photo_add
from ..models import (
    CrewUpdate,
    Signalement,
    Status,
)
from ..photos import CleanPhoto
from ..trust.policy import Capability, require

logger = logging.getLogger(__name__)


CREW_OUTCOME_STATUS = {
    CrewUpdate.Outcome.START: Status.IN_PROGRESS,
    CrewUpdate.Outcome.DONE: Status.RESOLVED,
    CrewUpdate.Outcome.CANNOT: Status.ACKNOWLEDGED,
}


def _crew_note(update: CrewUpdate) -> str:
    """The desk's internal note for a crew update: the reason of a "cannot" first."""
    if update.outcome != CrewUpdate.Outcome.CANNOT:
        return update.note or "—"
    reason = update.get_cannot_reason_display()
    return _("Impossible : %(reason)s") % {"reason": reason} + (f" – {update.note}" if update.note else "")


def _crew_update_replayed(update: CrewUpdate, *, signalement: Signalement, author) -> CrewUpdate:
    if update.signalement_id != signalement.pk or update.author_id != getattr(author, "pk", None):
        raise ValidationError({"idempotency_key": _("Cette clé a déjà servi pour une autre mise à jour.")})
    return update


def crew_update_record(
    *,
    signalement: Signalement,
    team,
    author,
    outcome: str = "",
    note: str = "",
    reason: str = "",
    photo: CleanPhoto | None = None,
    idempotency_key: str | None = None,
) -> tuple[CrewUpdate, bool]:
    """Apply a crew's update once: the photo, the status change (a public text when done) and
    the note. An update the workflow does not allow becomes an internal note for the desk.
    "Cannot" needs a reason (and a note for "other"); the stop then waits for the desk.

    Returns the update and whether it was applied now: a known key returns the first one."""
    require(author, Capability.MOVE, signalement)
    note = note.strip()
    if outcome and outcome not in CREW_OUTCOME_STATUS:
        raise ValidationError({"outcome": _("Résultat inconnu.")})
    if not (outcome or note or photo):
        raise ValidationError(
            {"outcome": _("Rien à enregistrer : choisissez un résultat ou écrivez une note.")}
        )
    cannot = outcome == CrewUpdate.Outcome.CANNOT
    reason = reason.strip() if cannot else ""  # the form sends its list with every button
    if cannot and reason not in CrewUpdate.CannotReason.values:
        raise ValidationError({"reason": _("Choisissez pourquoi ce n'est pas possible.")})
    if reason == CrewUpdate.CannotReason.OTHER and not note:
        raise ValidationError({"note": _("Écrivez la raison dans la note.")})
    if idempotency_key is not None and len(idempotency_key) > 128:
        raise ValidationError({"idempotency_key": _("La clé d'idempotence dépasse 128 caractères.")})
    if idempotency_key:
        existing = CrewUpdate.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return _crew_update_replayed(existing, signalement=signalement, author=author), False
    try:
        with transaction.atomic():
            # The row comes first: a concurrent replay waits on the unique key, then fails.
            update = CrewUpdate.objects.create(
                signalement=signalement,
                team=team,
                author=author,
                outcome=outcome,
                note=note,
                cannot_reason=reason,
                status=signalement.status,
                idempotency_key=idempotency_key or None,
            )
            if photo is not None:
                photo_add(signalement=signalement, photo=photo)
            to_status = CREW_OUTCOME_STATUS.get(outcome)
            if to_status is not None and to_status in allowed_next(signalement.status):
                public = outcome == CrewUpdate.Outcome.DONE
                signalement_transition(
                    signalement=signalement, to_status=to_status, author=author, text=note if public else ""
                )
                if (note or cannot) and not public:
                    comment_add(
                        signalement=signalement, text=_crew_note(update), author=author, is_internal=True
                    )
            elif note or outcome:
                # "Cannot be done" on a report the desk has not planned yet: a note for the desk.
                comment_add(signalement=signalement, text=_crew_note(update), author=author, is_internal=True)
            if cannot:
                Signalement.objects.filter(pk=signalement.pk).update(crew_return=update)
                signalement.crew_return = update
            if update.status != signalement.status:
                CrewUpdate.objects.filter(pk=update.pk).update(status=signalement.status)
                update.status = signalement.status
    except IntegrityError:
        if idempotency_key:
            existing = CrewUpdate.objects.filter(idempotency_key=idempotency_key).first()
            if existing is not None:
                return _crew_update_replayed(existing, signalement=signalement, author=author), False
        raise
    return update, True
