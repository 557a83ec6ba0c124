"""The desk's write operations: status changes (every move through `status_record`, checked against
the workflow table), messages, triage. The desk's pages and its REST API call these."""

import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cartography.selectors import locate

from ..history import history_note
from ..models import (
    Category,
    Comment,
    Notification,
    Priority,
    Signalement,
    Status,
    StatusChange,
)
from ..notifications.queue import followers_notify
from ..trust.moderation import (
    comment_public_version,
)
from ..trust.policy import Capability, require, require_move
from .workflow import ENTERED_BY_MERGE, Event, allowed_next

logger = logging.getLogger(__name__)


class TransitionError(ValidationError):
    pass


class MergeOnly(TransitionError):
    """A status only a merge sets: "duplicate" must name its master (signalements_merge)."""


class EditConflict(ValidationError):
    """Someone changed the report since the author read it: the author decides again."""


def status_record(
    *,
    signalement: Signalement,
    to_status: str,
    author=None,
    text: str = "",
    is_public: bool = True,
    event: Event | None = None,
    **fields,
) -> StatusChange:
    """Every status change, the staff's and the system's (`event`: a merge, its undoing), goes
    through here: checked against the workflow table, written with its history row. `signalement`
    is locked by the caller; `fields` are written with the status (the master of a merge)."""
    if to_status not in allowed_next(signalement.status, event):
        raise TransitionError(
            {
                "status": _("Passage de « %(from)s » à « %(to)s » non autorisé.")
                % {
                    "from": Status(signalement.status).label,
                    "to": Status(to_status).label if to_status in Status.values else to_status,
                }
            }
        )
    change = StatusChange.objects.create(
        signalement=signalement,
        from_status=signalement.status,
        to_status=to_status,
        author=author,
        text=text,
        is_public=is_public,
    )
    Signalement.objects.filter(pk=signalement.pk).update(
        status=to_status, updated_at=timezone.now(), **fields
    )
    return change


@transaction.atomic
def signalement_transition(
    *,
    signalement: Signalement,
    to_status: str,
    author=None,
    text: str = "",
    is_public: bool = True,
    from_status: str | None = None,
) -> StatusChange:
    """Move a report along the workflow, write the history row and queue the e-mails.

    `from_status` is the status the author saw: when the report has moved since (another agent,
    a crew), nothing is written and EditConflict says what it is now."""
    locked = Signalement.objects.select_for_update().get(pk=signalement.pk)
    require_move(author, locked, to_status)
    if to_status in ENTERED_BY_MERGE:
        raise MergeOnly(
            {
                "to_status": _(
                    "Un doublon se déclare en fusionnant ce signalement dans le signalement principal, "
                    "pas par un changement de statut."
                )
            },
            code="merge_only",
        )
    if from_status is not None and from_status != locked.status:
        raise EditConflict(
            {
                "status": _(
                    "Ce signalement est passé entre-temps à « %(now)s » : "
                    "rechargez la page et décidez à nouveau."
                )
                % {"now": Status(locked.status).label}
            },
            code="conflict",
        )
    # A status change answers a crew's "cannot": the stop may come back on its list.
    change = status_record(
        signalement=locked,
        to_status=to_status,
        author=author,
        text=text,
        is_public=is_public,
        crew_return=None,
    )
    signalement.status, signalement.crew_return_id = to_status, None
    if is_public:
        followers_notify(locked, Notification.Kind.STATUS, status_change=change)
    return change


@transaction.atomic
def comment_add(
    *, signalement: Signalement, text: str, author=None, from_citizen: bool = False, is_internal: bool = False
) -> Comment:
    """A citizen's message, a public reply from staff (e-mailed to followers) or an internal note."""
    if not from_citizen:
        require(author, Capability.MESSAGE, signalement)
    text = text.strip()
    if not text:
        raise ValidationError({"text": _("Le message est vide.")})
    is_internal = is_internal and not from_citizen
    public = comment_public_version(text=text, from_citizen=from_citizen, is_internal=is_internal)
    comment = Comment.objects.create(
        signalement=signalement,
        text=text,
        public_text=public.text,
        moderation=public.state,
        author=author,
        from_citizen=from_citizen,
        is_internal=is_internal,
    )
    if not from_citizen and not comment.is_internal:
        followers_notify(signalement, Notification.Kind.REPLY, comment=comment)
    return comment


def _assign(*, signalement: Signalement, team, author) -> None:
    Signalement.objects.filter(pk=signalement.pk).update(
        team=team, team_is_manual=True, updated_at=timezone.now(), crew_return=None
    )
    history_note(
        signalement=signalement,
        author=author,
        text=_("Confié à l'équipe « %(team)s ».") % {"team": team.name},
    )
    signalement.team, signalement.team_is_manual, signalement.crew_return_id = team, True, None


def _recategorize(*, signalement: Signalement, category: Category, author) -> None:
    located = locate(lon=signalement.location.x, lat=signalement.location.y, category_id=category.pk)
    team_id = signalement.team_id if signalement.team_is_manual or located is None else located.team_id
    Signalement.objects.filter(pk=signalement.pk).update(
        category=category, team_id=team_id, updated_at=timezone.now()
    )
    history_note(
        signalement=signalement,
        author=author,
        text=_("Catégorie : %(old)s → %(new)s.") % {"old": signalement.category.name, "new": category.name},
    )
    signalement.category, signalement.team_id = category, team_id


def _set_priority(*, signalement: Signalement, priority: str, author) -> None:
    Signalement.objects.filter(pk=signalement.pk).update(priority=priority, updated_at=timezone.now())
    history_note(
        signalement=signalement,
        author=author,
        text=_("Priorité : %(old)s → %(new)s.")
        % {"old": Priority(signalement.priority).label, "new": Priority(priority).label},
    )
    signalement.priority = priority


@transaction.atomic
def signalement_triage(
    *,
    signalement: Signalement,
    author=None,
    category: Category | None = None,
    priority: str | None = None,
    team=None,
) -> list[str]:
    """The desk's triage, one locked and atomic change: the category (the team is located again
    unless an agent chose it), the priority, the team (kept when zones or boundaries change).
    Only what differs is written, each with its history row. Returns the names of what changed."""
    locked = (
        Signalement.objects.select_for_update(of=("self",)).select_related("category").get(pk=signalement.pk)
    )
    require(author, Capability.TRIAGE, locked)
    if priority is not None and priority not in Priority.values:
        raise ValidationError({"priority": _("Priorité inconnue.")})
    changed = []
    if category is not None and category.pk != locked.category_id:
        _recategorize(signalement=locked, category=category, author=author)
        changed.append("category")
    if priority is not None and priority != locked.priority:
        _set_priority(signalement=locked, priority=priority, author=author)
        changed.append("priority")
    if team is not None and team.pk != locked.team_id:
        _assign(signalement=locked, team=team, author=author)
        changed.append("team")
    for name in ("category", "category_id", "priority", "team_id", "team_is_manual"):
        setattr(signalement, name, getattr(locked, name))
    return changed
