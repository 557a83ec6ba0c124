"""Intake: a report submitted (by a citizen, the desk or an import), processed once stored, supported
by neighbours, completed with photos; the satisfaction answer. The pages, the REST API and Open311
call these."""

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

from ..deadlines import deadline_for
from ..models import (
    CITIZEN_CHANNELS,
    STAFF_CHANNELS,
    Category,
    Channel,
    DuplicateCandidate,
    Notification,
    Photo,
    ReporterContact,
    Satisfaction,
    Signalement,
    Status,
    StatusChange,
    Support,
)
from ..notifications.queue import notifications_queue
from ..photos import CleanPhoto, thumbnail_make
from ..selectors import nearby_open_signalements
from ..trust.moderation import (
    description_public_version,
    photo_public_state,
)
from ..trust.optin import confirmed_by_staff
from ..trust.policy import Capability, require

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
