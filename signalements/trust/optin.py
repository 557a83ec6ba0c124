"""Double opt-in: an e-mail address typed on a form receives one e-mail, asking to confirm it,
and nothing else until its link is followed.

Anyone can type anyone's address: without this, one client had 195 strangers mailed at each
status change of a report. A confirmation holds for one address on one report (its reporter or
a supporter of it, and the supports a merge carried from it): an address confirmed on another
report does not count, or anyone could subscribe a known-good address to any report. The link
is signed (django.core.signing) with the address in it, so it cannot be made for another
address, and it expires after SIGNALEMENT_CONFIRMATION_MAX_AGE.

Reports an agent registers from a phone call, a letter, an e-mail or the counter are confirmed
from the start: the agent took the address from the person.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from ..models import STAFF_CHANNELS, ReporterContact, Signalement, Support
from .policy import Capability, can

SALT = "signalements.email-confirmation"


class ConfirmationInvalid(Exception):
    pass


class ConfirmationExpired(ConfirmationInvalid):
    pass


def confirmed_by_staff(*, channel: str, author) -> bool:
    return channel in STAFF_CHANNELS and author is not None and can(author, Capability.REGISTER)


def confirmation_url(*, signalement_id: int, email: str) -> str:
    token = signing.dumps({"s": signalement_id, "e": email.lower()}, salt=SALT, compress=True)
    return settings.SITE_URL + reverse("email-confirm", args=[token])


def confirmation_read(token: str) -> tuple[int, str]:
    max_age = settings.SIGNALEMENT_CONFIRMATION_MAX_AGE
    try:
        payload = signing.loads(token, salt=SALT, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise ConfirmationExpired from exc
    except signing.BadSignature as exc:
        raise ConfirmationInvalid from exc
    return payload["s"], payload["e"]


@dataclass(frozen=True)
class Confirmed:
    signalement: Signalement
    is_reporter: bool


@transaction.atomic
def email_confirm(*, token: str) -> Confirmed:
    """Mark the address confirmed where it follows the report: as its reporter, as a supporter,
    and as a follower a merge carried to another report. Following the link twice is harmless."""
    signalement_id, email = confirmation_read(token)
    signalement = Signalement.objects.filter(pk=signalement_id).first()
    if signalement is None:
        raise ConfirmationInvalid
    now = timezone.now()
    reporters = ReporterContact.objects.filter(signalement_id=signalement_id, email__iexact=email)
    reporters.filter(email_confirmed_at__isnull=True).update(email_confirmed_at=now)
    Support.objects.filter(
        Q(signalement_id=signalement_id) | Q(merged_from_id=signalement_id),
        email__iexact=email,
        email_confirmed_at__isnull=True,
    ).update(email_confirmed_at=now)
    return Confirmed(signalement=signalement, is_reporter=reporters.exists())
