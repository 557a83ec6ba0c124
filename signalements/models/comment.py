from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from .choices import NEEDS_REVIEW, Moderation
from .signalement import Signalement


class Comment(models.Model):
    """A public message on a report (citizen or staff reply), or an internal note never shown to citizens."""

    signalement = models.ForeignKey(Signalement, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    from_citizen = models.BooleanField(default=False)
    is_internal = models.BooleanField(_("note interne"), default=False)
    text = models.TextField(_("message"))
    # What the public and the e-mails to followers show (trust.moderation); empty while hidden.
    public_text = models.TextField(_("message public"), blank=True, default="", db_default="")
    moderation = models.CharField(
        _("modération"),
        max_length=10,
        choices=Moderation.choices,
        default=Moderation.PUBLISHED,
        db_default=Moderation.PUBLISHED,
    )
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        verbose_name = _("commentaire")
        verbose_name_plural = _("commentaires")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~(Q(from_citizen=True) & Q(is_internal=True)), name="comment_citizen_never_internal"
            ),
            models.CheckConstraint(
                condition=Q(moderation__in=Moderation.values), name="comment_moderation_valid"
            ),
        ]
        indexes = [
            models.Index(
                fields=["signalement"],
                name="comment_moderation_due",
                condition=Q(moderation__in=NEEDS_REVIEW),
            ),
        ]
