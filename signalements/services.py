"""Write operations on reports. Views, serializers, admin and tasks call these, nothing else writes."""

import logging
from dataclasses import dataclass

from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cartography.selectors import locate

from .models import Category, Channel, Photo, ReporterContact, Signalement, Status, StatusChange
from .photos import CleanPhoto, thumbnail_make

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
    from .tasks import signalement_after_submit

    try:
        signalement_after_submit.delay(signalement_id)
    except Exception:  # noqa: BLE001 - any broker error: the sweep is the safety net
        logger.warning("broker unavailable, signalement %s left for the sweep", signalement_id, exc_info=True)


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
) -> tuple[Signalement, bool]:
    """Validate, locate and store a report with its first history row, in one transaction.

    Returns the report and whether it was created: a known idempotency key returns the report
    first stored under it.
    """
    if idempotency_key:
        existing = Signalement.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing, False
    if not category.is_active:
        raise ValidationError({"category": _("Cette catégorie n'accepte plus de signalements.")})
    located = locate(lon=location.x, lat=location.y, category_id=category.pk)
    if located is None:
        raise ValidationError({"location": _("Ce lieu est en dehors du territoire couvert par la ville.")})
    try:
        with transaction.atomic():
            signalement = Signalement.objects.create(
                category=category,
                location=location,
                description=description,
                address=address,
                channel=channel,
                territory_id=located.territory_id,
                district_id=located.district_id,
                team_id=located.team_id,
                idempotency_key=idempotency_key or None,
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
                )
            for photo in photos:
                Photo.objects.create(signalement=signalement, image=photo.content)
    except IntegrityError:
        # Two submissions with the same key raced: the other one won, return it.
        if idempotency_key:
            existing = Signalement.objects.filter(idempotency_key=idempotency_key).first()
            if existing is not None:
                return existing, False
        raise
    transaction.on_commit(lambda: enqueue_after_submit(signalement.pk))
    return signalement, True


def signalement_process(*, signalement_id: int) -> bool:
    """Make missing thumbnails and mark the report processed. Running it twice does nothing more."""
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
