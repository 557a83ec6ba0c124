"""Moderation of what the public sees of a report: its description, the public messages and photos.

An automatic filter masks e-mail addresses and phone numbers in the public version of each text,
written when the text is (Signalement.public_description, Comment.public_text): lists read a
column, no regex runs per row when they are read. A text the filter changed is flagged for review;
with SIGNALEMENT_MODERATION = "pre", every citizen text and photo waits for a moderator before it is
shown. Agents and administrators approve, redact (rewrite the public version) or hide; each action
writes an internal history row that names what was done and by whom, never the text removed. The
original text is never changed: staff keep seeing it.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..history import history_note
from ..models import (
    CITIZEN_CHANNELS,
    NEEDS_REVIEW,
    Comment,
    Moderation,
    Photo,
    Signalement,
    StatusChange,
)
from .policy import Capability, require

PRE, POST = "pre", "post"
MASK = _("[coordonnées masquées]")

EMAIL_RE = re.compile(
    r"[\w.+-]+\s?(?:@|\[at\]|\(at\)|\[arobase\]|\(arobase\))\s?[\w-]+(?:\.[\w-]+)*\.[a-z]{2,24}\b",
    re.IGNORECASE,
)
# A cheap first look: a "+" before digits, or a 0 (the trunk prefix of Belgian and French numbers,
# without which phonenumbers' VALID leniency finds none) and eight digits more, with separators. Most
# descriptions have neither, and never reach the matcher (some 60 µs a text and region).
PHONE_HINT_RE = re.compile(r"\+\s?\(?\d|(?<!\d)0(?:[\s./()-]{0,3}\d){8,}")


@dataclass(frozen=True)
class Filtered:
    text: str  # the public version
    masked: int  # how many contact details were masked


def phone_regions() -> tuple[str, ...]:
    """Regions whose national formats are recognised (ISO 3166-1): a number written without its
    country code is read as a number of each of them in turn."""
    return tuple(settings.SIGNALEMENT_PHONE_REGIONS)


def _normalised_phone(raw: str, region: str) -> str | None:
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def contact_details_find(text: str, *, allowed: frozenset[str] = frozenset()) -> list[tuple[int, int]]:
    """The spans of e-mail addresses and phone numbers in `text`, but for those in `allowed` (the
    city's own public contacts, lower-case e-mails and E.164 numbers). Phone numbers are those that
    phonenumbers holds valid for one of phone_regions(): dates, postcodes, house numbers, references
    and coordinates are not."""
    spans = []
    for match in EMAIL_RE.finditer(text):
        if match.group().lower() not in allowed:
            spans.append(match.span())
    if PHONE_HINT_RE.search(text):
        for region in phone_regions():
            for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
                e164 = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
                if e164 not in allowed:
                    start, raw = match.start, match.raw_string
                    if raw.startswith("(") and ")" not in raw:  # "(0475 12 34 56)": keep the bracket
                        start += 1
                    spans.append((start, match.end))
    return _merged(spans)


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def contact_details_mask(
    text: str, *, language: str | None = None, allowed: frozenset[str] | None = None
) -> Filtered:
    """The public version of `text`: each e-mail address and phone number replaced by MASK, in the
    text's language (the reporter's). `allowed`: contacts left as they are; by default the teams'
    public phones and e-mails, read only when the text has something to mask."""
    spans = contact_details_find(text)
    if not spans:
        return Filtered(text, 0)
    if allowed is None:
        allowed = public_contacts()
        spans = contact_details_find(text, allowed=allowed)
        if not spans:
            return Filtered(text, 0)
    with translation.override(language or settings.LANGUAGE_CODE):
        mask = str(MASK)
    parts, last = [], 0
    for start, end in spans:
        parts += [text[last:start], mask]
        last = end
    parts.append(text[last:])
    return Filtered("".join(parts), len(spans))


def public_contacts() -> frozenset[str]:
    """The city's own contacts, which a text may show: the teams' public e-mails and phones."""
    from cartography.models import Team

    return contacts_allowed(Team.objects.values_list("public_phone", "public_email"))


def contacts_allowed(contacts: Iterable[tuple[str, str]]) -> frozenset[str]:
    """(phone, e-mail) pairs as contact_details_find's `allowed`: lower-case e-mails, E.164 numbers."""
    allowed: set[str] = set()
    for phone, email in contacts:
        if email:
            allowed.add(email.lower())
        for region in phone_regions() if phone else ():
            if (e164 := _normalised_phone(phone, region)) is not None:
                allowed.add(e164)
    return frozenset(allowed)


def moderation_mode() -> str:
    return PRE if settings.SIGNALEMENT_MODERATION == PRE else POST


@dataclass(frozen=True)
class PublicVersion:
    text: str
    state: str


def description_public_version(*, description: str, channel: str, language: str = "fr") -> PublicVersion:
    """What the public sees of a new report's description, and its moderation state: masked and
    flagged if it held contact details; in "pre" moderation, nothing until a moderator approves a
    citizen's text (staff typed the others: the filter suffices)."""
    if not description:
        return PublicVersion("", Moderation.PUBLISHED)
    filtered = contact_details_mask(description, language=language)
    if moderation_mode() == PRE and channel in CITIZEN_CHANNELS:
        return PublicVersion("", Moderation.PENDING)
    return PublicVersion(filtered.text, Moderation.FLAGGED if filtered.masked else Moderation.PUBLISHED)


def comment_public_version(
    *, text: str, from_citizen: bool, is_internal: bool, language: str | None = None
) -> PublicVersion:
    """The public version of a message. An internal note has none. A public reply is filtered too
    (a caller's number pasted by mistake), but for the teams' public contacts."""
    if is_internal:
        return PublicVersion("", Moderation.PUBLISHED)
    filtered = contact_details_mask(text, language=language)
    if from_citizen and moderation_mode() == PRE:
        return PublicVersion("", Moderation.PENDING)
    return PublicVersion(filtered.text, Moderation.FLAGGED if filtered.masked else Moderation.PUBLISHED)


def photo_public_state(*, from_citizen: bool) -> tuple[bool, str]:
    """Whether a new photo is public at once, and its moderation state."""
    if from_citizen and moderation_mode() == PRE:
        return False, Moderation.PENDING
    return True, Moderation.PUBLISHED


class BulkDescriptions:
    """The filter for a bulk load: the city's contacts read once, before the rows are copied."""

    def __init__(self) -> None:
        self.allowed = public_contacts()

    def public(self, description: str) -> str | None:
        """The public version of an imported description; None when it is the description itself
        (most rows: nothing more to copy), which the loader stores as published."""
        if not description or not PHONE_HINT_RE.search(description) and "@" not in description:
            return None
        filtered = contact_details_mask(description, allowed=self.allowed)
        return filtered.text if filtered.masked else None


class Target:
    DESCRIPTION, COMMENT, PHOTO = "description", "comment", "photo"
    CHOICES = (
        (DESCRIPTION, _("Description")),
        (COMMENT, _("Message public")),
        (PHOTO, _("Photo")),
    )


class Action:
    APPROVE, REDACT, HIDE = "approve", "redact", "hide"
    CHOICES = (
        (APPROVE, _("Approuver")),
        (REDACT, _("Modifier la version publique")),
        (HIDE, _("Masquer")),
    )


@transaction.atomic
def moderation_apply(
    *,
    signalement: Signalement,
    target: str,
    action: str,
    author,
    object_id: int | None = None,
    text: str = "",
) -> None:
    """Approve, redact or hide the description, a public message or a photo of a report, and write
    it in the history (internal: who and what, never the text removed).

    approve: the filtered original is public again (a flag is cleared, a waiting text or photo
    shown); redact: `text` becomes the public version, as the moderator wrote it; hide: nothing
    is shown."""
    require(author, Capability.MODERATE, signalement)
    if action not in dict(Action.CHOICES):
        raise ValidationError({"action": gettext("Action de modération inconnue.")})
    text = text.strip()
    if action == Action.REDACT and not text:
        raise ValidationError({"text": gettext("Écrivez la version publique, ou masquez.")})
    if target == Target.DESCRIPTION:
        note = _description_moderate(signalement, action, text)
    elif target == Target.COMMENT:
        note = _comment_moderate(signalement, action, text, object_id)
    elif target == Target.PHOTO:
        if action == Action.REDACT:
            raise ValidationError({"action": gettext("Une photo se masque ou s'approuve.")})
        note = _photo_moderate(signalement, action, object_id)
    else:
        raise ValidationError({"target": gettext("Cible de modération inconnue.")})
    history_note(signalement=signalement, author=author, text=note)


def _description_moderate(signalement: Signalement, action: str, text: str) -> str:
    locked = Signalement.objects.select_for_update().get(pk=signalement.pk)
    if action == Action.APPROVE:
        public, state = _original_filtered(locked), Moderation.APPROVED
        note = gettext("Modération : description approuvée.")
    elif action == Action.REDACT:
        public, state = text, Moderation.REDACTED
        note = gettext("Modération : version publique de la description modifiée.")
    else:
        public, state = "", Moderation.HIDDEN
        note = gettext("Modération : description masquée au public.")
    Signalement.objects.filter(pk=locked.pk).update(
        public_description=public, description_moderation=state, updated_at=timezone.now()
    )
    signalement.public_description, signalement.description_moderation = public, state
    return note


def _original_filtered(signalement: Signalement) -> str:
    reporter = getattr(signalement, "reporter", None)
    return contact_details_mask(signalement.description, language=getattr(reporter, "language", None)).text


def _comment_moderate(signalement: Signalement, action: str, text: str, object_id: int | None) -> str:
    comment = (
        Comment.objects.select_for_update()
        .filter(signalement=signalement, pk=object_id, is_internal=False)
        .first()
    )
    if comment is None:
        raise ValidationError({"id": gettext("Aucun message public de ce signalement n'a ce numéro.")})
    if action == Action.APPROVE:
        public, state = contact_details_mask(comment.text).text, Moderation.APPROVED
        note = gettext("Modération : message n° %(id)d approuvé.")
    elif action == Action.REDACT:
        public, state = text, Moderation.REDACTED
        note = gettext("Modération : version publique du message n° %(id)d modifiée.")
    else:
        public, state = "", Moderation.HIDDEN
        note = gettext("Modération : message n° %(id)d masqué au public.")
    Comment.objects.filter(pk=comment.pk).update(public_text=public, moderation=state)
    return note % {"id": comment.pk}


def _photo_moderate(signalement: Signalement, action: str, object_id: int | None) -> str:
    photo = Photo.objects.select_for_update().filter(signalement=signalement, pk=object_id).first()
    if photo is None:
        raise ValidationError({"id": gettext("Aucune photo de ce signalement n'a ce numéro.")})
    if action == Action.APPROVE:
        is_public, state = True, Moderation.APPROVED
        note = gettext("Modération : photo n° %(id)d approuvée.")
    else:
        is_public, state = False, Moderation.HIDDEN
        note = gettext("Modération : photo n° %(id)d masquée au public.")
    Photo.objects.filter(pk=photo.pk).update(is_public=is_public, moderation=state)
    return note % {"id": photo.pk}


def comments_public(signalement: Signalement) -> QuerySet[Comment]:
    """The messages the public may read, shown by their public_text: never internal notes, nor
    messages hidden or waiting for a moderator."""
    return signalement.comments.filter(is_internal=False).exclude(
        moderation__in=(Moderation.HIDDEN, Moderation.PENDING)
    )


def history_public(signalement: Signalement) -> list[StatusChange]:
    """The public history rows, their texts filtered as they are read: the history is append-only
    (a trigger refuses UPDATE), so it has no stored public version, and a report has few rows."""
    changes = list(signalement.history.filter(is_public=True))
    for change in changes:
        if change.text:
            change.text = contact_details_mask(change.text).text
    return changes


def moderation_queue() -> QuerySet[Signalement]:
    """Reports with something waiting for a moderator (a flagged or waiting description, message or
    photo), oldest first. Each test reads a partial index of the few rows waiting."""
    comment_due = Comment.objects.filter(signalement=OuterRef("pk"), moderation__in=NEEDS_REVIEW)
    photo_due = Photo.objects.filter(signalement=OuterRef("pk"), moderation__in=NEEDS_REVIEW)
    waiting = {
        *Signalement.objects.filter(description_moderation__in=NEEDS_REVIEW).values_list("pk", flat=True),
        *Comment.objects.filter(moderation__in=NEEDS_REVIEW).values_list("signalement_id", flat=True),
        *Photo.objects.filter(moderation__in=NEEDS_REVIEW).values_list("signalement_id", flat=True),
    }
    return (
        Signalement.objects.filter(pk__in=waiting)
        .select_related("category")
        .annotate(comment_due=Exists(comment_due), photo_due=Exists(photo_due))
        .order_by("created_at", "id")
    )
