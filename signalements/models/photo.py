import secrets

from django.contrib.gis.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from .choices import NEEDS_REVIEW, Moderation
from .signalement import Signalement


def photo_path(instance: "Photo", filename: str) -> str:
    return f"photos/{instance.signalement.created_at:%Y/%m}/{secrets.token_hex(16)}.jpg"


class Photo(models.Model):
    signalement = models.ForeignKey(
        Signalement, on_delete=models.CASCADE, related_name="photos", verbose_name=_("signalement")
    )
    image = models.ImageField(_("image"), upload_to=photo_path)
    thumbnail = models.ImageField(_("vignette"), upload_to=photo_path, blank=True)
    is_public = models.BooleanField(_("publique"), default=True)
    moderation = models.CharField(
        _("modération"),
        max_length=10,
        choices=Moderation.choices,
        default=Moderation.PUBLISHED,
        db_default=Moderation.PUBLISHED,
    )
    created_at = models.DateTimeField(_("ajoutée le"), db_default=Now())

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["signalement"], name="photo_moderation_due", condition=Q(moderation__in=NEEDS_REVIEW)
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(moderation__in=Moderation.values), name="photo_moderation_valid"
            ),
        ]
