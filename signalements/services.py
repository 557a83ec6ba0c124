"""Write operations on reports. Views, serializers, admin and tasks call these, nothing else writes."""

import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from cartography.selectors import locate
from config.celery import app as celery_app
from config.celery import delay_or_leave_for_sweep

from .deadlines import deadline_for
from .history import history_note
from .models import (
    CITIZEN_CHANNELS,
    STAFF_CHANNELS,
    Category,
    Channel,
    Comment,
    CrewUpdate,
    DuplicateCandidate,
    Notification,
    Photo,
    Priority,
    ReporterContact,
    Satisfaction,
    Signalement,
    Status,
    StatusChange,
    Support,
)
from .photos import CleanPhoto, thumbnail_make
from .selectors import nearby_open_signalements
from .trust.moderation import (
    comment_public_version,
    description_public_version,
    photo_public_state,
)
from .trust.optin import confirmed_by_staff
from .trust.policy import Capability, require, require_move
from .workflow import ENTERED_BY_MERGE, Event, allowed_next

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReporterData:
    name: str = ""
    email: str = ""
    phone: str = ""
    show_name: bool = False
    wants_updates: bool = True

    def is_empty(self) -> bool:
        return not (self.name or self.email or self.phone)


def enqueue_after_submit(signalement_id: int) -> None:
    """Hand the side effects to Celery. A broker outage must not lose the report: it stays
    unprocessed and the periodic sweep enqueues it again."""
    delay_or_leave_for_sweep(
        celery_app.signature("signalements.tasks.signalement_after_submit"),
        signalement_id,
        what=f"signalement {signalement_id}",
        logger=logger,
    )


class IdempotencyKeyReused(ValidationError):
    """A key this client already used for a different submission (answered 422 by the API)."""


def idempotency_scope(client) -> str:
    """Whose key it is: the authenticated user, or every anonymous client together. Anonymous
    keys are still bound to their content (submission_fingerprint)."""
    who = f"user:{client.pk}" if getattr(client, "is_authenticated", False) else "anonymous"
    return hashlib.sha256(who.encode()).hexdigest()


def submission_fingerprint(
    *,
    category: Category,
    location: Point,
    description: str,
    address: str,
    channel: str,
    reporter: ReporterData | None,
    photos: Iterable[CleanPhoto],
    place_description: str,
    location_is_approximate: bool,
) -> str:
    """A sha256 of the validated submission, canonicalised, photos by the digest of their bytes:
    a retry has the same, another report under the same key has another."""
    digests = []
    for photo in photos:
        photo.content.seek(0)
        digests.append(hashlib.sha256(photo.content.read()).hexdigest())
        photo.content.seek(0)
    contact = None if reporter is None or reporter.is_empty() else reporter
    canonical = {
        "category": category.pk,
        "location": [location.x, location.y],
        "description": description,
        "address": address,
        "channel": channel,
        "place_description": place_description,
        "location_is_approximate": location_is_approximate,
        "contact": None
        if contact is None
        else [contact.name, contact.email, contact.phone, contact.show_name, contact.wants_updates],
        "photos": digests,
    }
    text = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _submitted_before(*, scope: str, key: str, fingerprint: str) -> Signalement | None:
    existing = Signalement.objects.filter(idempotency_scope=scope, idempotency_key=key).first()
    if existing is not None and existing.idempotency_fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            {
                "idempotency_key": _(
                    "Cette clé d'idempotence a déjà servi pour une autre soumission : "
                    "envoyez un nouveau signalement avec une nouvelle clé."
                )
            },
            code="idempotency_key_reused",
        )
    return existing


def signalement_submit(
    *,
    category: Category,
    location: Point,
    description: str = "",
    address: str = "",
    channel: str = Channel.WEB,
    reporter: ReporterData | None = None,
    photos: list[CleanPhoto] = (),
    idempotency_key: str | None = None,
    author=None,
    place_description: str = "",
    location_is_approximate: bool = False,
    language: str = "fr",
) -> tuple[Signalement, bool]:
    """Validate, locate and store a report with its first history row, in one transaction.

    Returns the report and whether it was created. An idempotency key is the author's (or the
    anonymous clients'): sent again by them with the same content, it returns the report first
    stored under it; with another content, it is refused (IdempotencyKeyReused).
    """
    if channel in STAFF_CHANNELS:  # on behalf of a citizen: the desk's registration
        require(author, Capability.REGISTER)
    if idempotency_key is not None and len(idempotency_key) > 128:
        raise ValidationError({"idempotency_key": _("La clé d'idempotence dépasse 128 caractères.")})
    if not category.is_active:
        raise ValidationError({"category": _("Cette catégorie n'accepte plus de signalements.")})
    located = locate(lon=location.x, lat=location.y, category_id=category.pk)
    if located is None:
        raise ValidationError({"location": _("Ce lieu est en dehors du territoire couvert par la ville.")})
    public = description_public_version(description=description, channel=channel, language=language)
    photos_public, photos_moderation = photo_public_state(from_citizen=channel in CITIZEN_CHANNELS)
    scope = fingerprint = ""
    if idempotency_key:
        scope = idempotency_scope(author)
        fingerprint = submission_fingerprint(
            category=category,
            location=location,
            description=description,
            address=address,
            channel=channel,
            reporter=reporter,
            photos=photos,
            place_description=place_description,
            location_is_approximate=location_is_approximate,
        )
        existing = _submitted_before(scope=scope, key=idempotency_key, fingerprint=fingerprint)
        if existing is not None:
            return existing, False
    try:
        with transaction.atomic():
            signalement = Signalement.objects.create(
                category=category,
                location=location,
                description=description,
                public_description=public.text,
                description_moderation=public.state,
                address=address,
                channel=channel,
                place_description=place_description,
                location_is_approximate=location_is_approximate,
                territory_id=located.territory_id,
                district_id=located.district_id,
                team_id=located.team_id,
                idempotency_key=idempotency_key or None,
                idempotency_scope=scope,
                idempotency_fingerprint=fingerprint,
                deadline_at=deadline_for(
                    timezone.now(), category.deadline_days, territory_id=located.territory_id
                ),
            )
            StatusChange.objects.create(
                signalement=signalement, from_status="", to_status=Status.NEW, author=author
            )
            if reporter is not None and not reporter.is_empty():
                ReporterContact.objects.create(
                    signalement=signalement,
                    name=reporter.name,
                    email=reporter.email,
                    phone=reporter.phone,
                    show_name=reporter.show_name,
                    wants_updates=reporter.wants_updates,
                    language=language,
                    email_confirmed_at=timezone.now()
                    if reporter.email and confirmed_by_staff(channel=channel, author=author)
                    else None,
                )
                if reporter.email:
                    # An address not confirmed yet gets this one e-mail, asking to confirm it.
                    Notification.objects.create(
                        signalement=signalement,
                        kind=Notification.Kind.SUBMITTED,
                        recipient=reporter.email,
                        language=language,
                    )
            DuplicateCandidate.objects.bulk_create(
                [
                    DuplicateCandidate(
                        signalement=signalement, candidate=candidate, distance_m=candidate.distance.m
                    )
                    for candidate in nearby_open_signalements(
                        category=category, location=location, exclude_id=signalement.pk, public=False
                    )
                ]
            )
            for photo in photos:
                Photo.objects.create(
                    signalement=signalement,
                    image=photo.content,
                    is_public=photos_public,
                    moderation=photos_moderation,
                )
    except IntegrityError:
        # Two submissions with the same key raced: the other one won, return it.
        if idempotency_key:
            existing = _submitted_before(scope=scope, key=idempotency_key, fingerprint=fingerprint)
            if existing is not None:
                return existing, False
        raise
    transaction.on_commit(lambda: enqueue_after_submit(signalement.pk))
    return signalement, True


def signalement_process(*, signalement_id: int) -> bool:
    """Make missing thumbnails and mark the report processed. Running it twice does nothing more.
    (The acknowledgement e-mail is a Notification row, sent by notifications_send.)"""
    with transaction.atomic():
        signalement = Signalement.objects.select_for_update().filter(pk=signalement_id).first()
        if signalement is None or signalement.processed_at is not None:
            return False
        photo: Photo
        for photo in signalement.photos.filter(thumbnail=""):
            with photo.image.open("rb") as source:
                photo.thumbnail.save("thumbnail.jpg", thumbnail_make(source.read()), save=False)
            photo.save(update_fields=["thumbnail"])
        Signalement.objects.filter(pk=signalement_id).update(processed_at=timezone.now())
    return True


def _notify_followers(signalement: Signalement, kind: str, **cause) -> None:
    """Queue one e-mail per person following the report: its reporter and its supporters, once
    they confirmed their address (trust.optin)."""
    recipients: dict[str, str] = {}
    reporter = (
        ReporterContact.objects.filter(
            signalement=signalement, wants_updates=True, email_confirmed_at__isnull=False
        )
        .exclude(email="")
        .first()
    )
    if reporter is not None:
        recipients[reporter.email.lower()] = reporter.language
    for email, language in (
        Support.objects.filter(signalement=signalement, wants_updates=True, email_confirmed_at__isnull=False)
        .exclude(email="")
        .values_list("email", "language")
    ):
        recipients.setdefault(email.lower(), language)
    notifications_queue(signalement=signalement, kind=kind, recipients=recipients.items(), **cause)


def notifications_queue(
    *, signalement: Signalement, kind: str, recipients: Iterable[tuple[str, str]], **cause
) -> None:
    """One e-mail row per (address, language), sent after commit; a row already there for the same
    cause and address is kept, so that retries send nothing twice."""
    rows = [
        Notification(signalement=signalement, kind=kind, recipient=email, language=language, **cause)
        for email, language in recipients
    ]
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    if rows:
        transaction.on_commit(lambda: enqueue_notifications(signalement.pk))


def enqueue_notifications(signalement_id: int) -> None:
    delay_or_leave_for_sweep(
        celery_app.signature("signalements.tasks.notifications_deliver"),
        signalement_id,
        what=f"notifications of {signalement_id}",
        logger=logger,
    )


class TransitionError(ValidationError):
    pass


class MergeOnly(TransitionError):
    """A status only a merge sets: "duplicate" must name its master (signalements_merge)."""


class EditConflict(ValidationError):
    """Someone changed the report since the author read it: the author decides again."""


@transaction.atomic
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
        _notify_followers(locked, Notification.Kind.STATUS, status_change=change)
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
        _notify_followers(signalement, Notification.Kind.REPLY, comment=comment)
    return comment


@transaction.atomic
def signalement_support(
    *, signalement: Signalement, supporter_key: str, email: str = "", language: str = "fr"
) -> tuple[Support, bool]:
    """Back an open report ("me too"). One person counts once; an e-mail makes them a follower
    once they confirm it: until then it gets only the e-mail asking to."""
    if not signalement.is_open:
        raise ValidationError(
            {"signalement": _("Ce signalement est clôturé : il ne peut plus être soutenu.")}
        )
    support, created = Support.objects.get_or_create(
        signalement=signalement,
        supporter_key=supporter_key,
        defaults={"email": email, "language": language},
    )
    if created:
        Signalement.objects.filter(pk=signalement.pk).update(support_count=F("support_count") + 1)
    elif email and not support.email:
        Support.objects.filter(pk=support.pk).update(email=email, language=language)
        support.email, support.language = email, language
    if email and support.email == email and support.email_confirmed_at is None:
        notifications_queue(
            signalement=signalement, kind=Notification.Kind.CONFIRM, recipients=[(email, language)]
        )
    return support, created


@transaction.atomic
def photo_add(
    *, signalement: Signalement, photo: CleanPhoto, is_public: bool = True, from_citizen: bool = False
) -> Photo:
    """A photo added later: by the reporter (from_citizen: moderated like their text) or by staff."""
    if signalement.photos.count() >= settings.SIGNALEMENT_MAX_PHOTOS_TOTAL:
        raise ValidationError({"photo": _("Ce signalement a déjà le nombre maximal de photos.")})
    public, moderation = photo_public_state(from_citizen=from_citizen)
    added = Photo.objects.create(
        signalement=signalement, image=photo.content, is_public=is_public and public, moderation=moderation
    )
    Signalement.objects.filter(pk=signalement.pk).update(processed_at=None)
    transaction.on_commit(lambda: enqueue_after_submit(signalement.pk))
    return added


@transaction.atomic
def reporter_updates_set(*, signalement: Signalement, wants_updates: bool) -> None:
    """Start or stop the reporter's e-mails, including those of the report this one was merged into
    (the reporter follows it through a support carried over by the merge)."""
    reporter = ReporterContact.objects.filter(signalement=signalement).first()
    if reporter is None:
        return
    ReporterContact.objects.filter(pk=reporter.pk).update(wants_updates=wants_updates)
    if reporter.email:
        Support.objects.filter(merged_from=signalement, email__iexact=reporter.email).update(
            wants_updates=wants_updates
        )


def satisfaction_record(
    *, signalement: Signalement, solved: bool, rating: int, text: str = ""
) -> Satisfaction:
    """Store the answer to the satisfaction question, once, for a resolved or closed report."""
    if signalement.status not in (Status.RESOLVED, Status.CLOSED):
        raise ValidationError({"signalement": _("Cette question est posée quand le problème est résolu.")})
    if not 1 <= rating <= 5:
        raise ValidationError({"rating": _("Donnez une note de 1 à 5.")})
    satisfaction, created = Satisfaction.objects.get_or_create(
        signalement=signalement, defaults={"solved": solved, "rating": rating, "text": text.strip()}
    )
    if not created:
        raise ValidationError({"signalement": _("Vous avez déjà répondu, merci.")})
    return satisfaction


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
