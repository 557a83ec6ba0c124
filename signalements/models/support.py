from django.contrib.gis.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from .signalement import Signalement, random_token


class Support(models.Model):
    """A citizen backing an existing report ("me too") instead of filing a duplicate."""

    signalement = models.ForeignKey(Signalement, on_delete=models.CASCADE, related_name="supports")
    email = models.EmailField(_("e-mail"), blank=True)
    wants_updates = models.BooleanField(_("reçoit les mises à jour"), default=True)
    language = models.CharField(_("langue"), max_length=8, default="fr")
    email_confirmed_at = models.DateTimeField(_("e-mail confirmé le"), null=True, blank=True)
    # Set when the support was carried over from a duplicate merged into this report (undo removes it).
    merged_from = models.ForeignKey(
        "Signalement", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    # Who backs it (trust.supporters: the account, or the client's address and browser), so that
    # one person counts once.
    supporter_key = models.CharField(max_length=64)
    unsubscribe_token = models.CharField(
        max_length=64,
        editable=False,
        db_default=random_token(),
    )
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        verbose_name = _("soutien")
        verbose_name_plural = _("soutiens")
        constraints = [
            models.UniqueConstraint(fields=["signalement", "supporter_key"], name="support_once_per_person"),
            models.UniqueConstraint(fields=["unsubscribe_token"], name="support_unique_token"),
        ]
