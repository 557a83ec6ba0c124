"""Who may do what to a report: one policy, checked in the services, read by the pages, the REST
API and the admin to decide what to offer.

A role gives capabilities; a crew member's capabilities reach only the reports of its teams, and
its status changes only the steps of field work. `author=None` in a service is the system itself
(a merge's side effects, an import, a Celery job): adapters always pass the signed-in user.
"""

from enum import StrEnum

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from cartography.models import Team

from ..models import Signalement, Status
from ..roles import ADMINISTRATOR, AGENT, CREW, PLANNER


class Capability(StrEnum):
    READ = "read"  # the staff view of a report: internal notes, history, exact place
    VIEW_CONTACT = "view_contact"  # the reporter's name, e-mail and phone
    MOVE = "move"  # a status change
    MESSAGE = "message"  # a public reply or an internal note
    TRIAGE = "triage"  # category, priority, responsible team
    MERGE = "merge"  # merging duplicates and undoing a merge
    REGISTER = "register"  # a report received by phone, e-mail or at the counter
    MODERATE = "moderate"  # hiding or redacting public text and photos
    PLAN = "plan"  # the planners' analyses: volumes, hotspots, recurring places, early warning


ROLE_CAPABILITIES: dict[str, frozenset[Capability]] = {
    AGENT: frozenset(Capability),
    ADMINISTRATOR: frozenset(Capability),
    PLANNER: frozenset({Capability.READ, Capability.PLAN}),
    CREW: frozenset({Capability.READ, Capability.MOVE, Capability.MESSAGE}),
}

# The capabilities that change a report: a staff member without any of them only reads.
WRITES = frozenset(
    {
        Capability.MOVE,
        Capability.MESSAGE,
        Capability.TRIAGE,
        Capability.MERGE,
        Capability.REGISTER,
        Capability.MODERATE,
    }
)


def writes_reports(user) -> bool:
    return bool(capabilities_of(user) & WRITES)


# The capabilities whose reach is all reports; a crew's stop at its teams' reports.
EVERY_REPORT = (AGENT, ADMINISTRATOR, PLANNER)

# A crew reports field work: it starts, finishes, or hands back to the desk ("cannot be done").
# Rejecting, closing, reopening or marking a duplicate is the desk's decision.
CREW_STATUSES = frozenset({Status.PLANNED, Status.IN_PROGRESS, Status.RESOLVED, Status.ACKNOWLEDGED})


def roles_of(user) -> frozenset[str]:
    """The user's roles, read once per request object (the pages ask several times)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    cached = getattr(user, "_signalement_roles", None)
    if cached is None:
        if user.is_superuser:
            cached = frozenset({ADMINISTRATOR})
        else:
            cached = frozenset(user.groups.values_list("name", flat=True)) & frozenset(ROLE_CAPABILITIES)
        user._signalement_roles = cached
    return cached


def capabilities_of(user) -> frozenset[Capability]:
    return frozenset().union(*(ROLE_CAPABILITIES[role] for role in roles_of(user)))


def reaches_every_report(user) -> bool:
    return bool(roles_of(user) & set(EVERY_REPORT))


def _in_scope(user, signalement: Signalement) -> bool:
    if reaches_every_report(user):
        return True
    if CREW in roles_of(user) and signalement.team_id is not None:
        return user.teams.filter(pk=signalement.team_id).exists()
    return False


def can(user, capability: Capability, signalement: Signalement | None = None) -> bool:
    """Whether `user` may do `capability`, to `signalement` when given (its scope)."""
    roles = roles_of(user)
    if not roles:
        return False
    if signalement is None:
        return capability in capabilities_of(user)
    # A crew member who is also an agent acts as an agent: take the widest reach that holds.
    for role in roles:
        if capability in ROLE_CAPABILITIES[role] and (role in EVERY_REPORT or _in_scope(user, signalement)):
            return True
    return False


def can_move_to(user, signalement: Signalement, to_status: str) -> bool:
    if not can(user, Capability.MOVE, signalement):
        return False
    if roles_of(user) & set(EVERY_REPORT) - {PLANNER}:
        return True
    return to_status in CREW_STATUSES


def require(user, capability: Capability, signalement: Signalement | None = None) -> None:
    """Raise PermissionDenied unless `user` may; None is the system and always may."""
    if user is None:
        return
    if not can(user, capability, signalement):
        raise PermissionDenied(_("Votre rôle ne permet pas cette action."))


def require_move(user, signalement: Signalement, to_status: str) -> None:
    if user is None:
        return
    if not can_move_to(user, signalement, to_status):
        raise PermissionDenied(_("Votre rôle ne permet pas ce changement de statut."))


def team_for_work_list(user, slug: str):
    """The team whose work list `user` may open: agents and administrators open any, a crew member
    the active teams it belongs to. PermissionDenied otherwise, Http404 for an unknown team."""
    if not getattr(user, "is_authenticated", False):
        raise PermissionDenied
    team = get_object_or_404(Team, slug=slug)
    if roles_of(user) & {AGENT, ADMINISTRATOR} or user.teams.filter(pk=team.pk, is_active=True).exists():
        return team
    raise PermissionDenied


def signalements_in_scope(user, queryset: QuerySet[Signalement]) -> QuerySet[Signalement]:
    """The part of `queryset` the user may read as staff: all, its teams' reports, or none."""
    if reaches_every_report(user):
        return queryset
    if CREW in roles_of(user):
        return queryset.filter(team__members=user)
    return queryset.none()
