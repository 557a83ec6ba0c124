from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from .choices import Status
from .signalement import Signalement


class StatusChange(models.Model):
    """Append-only history: database triggers refuse updates and deletes (signalements.history)."""

    signalement = models.ForeignKey(
        Signalement, on_delete=models.CASCADE, related_name="history", verbose_name=_("signalement")
    )
    from_status = models.CharField(_("ancien statut"), max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(_("nouveau statut"), max_length=20, choices=Status.choices)
    # Imports and the citizens' own changes have no author: the index leaves them out.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        verbose_name=_("auteur"),
    )
    text = models.TextField(_("message"), blank=True)
    is_public = models.BooleanField(_("public"), default=True)
    created_at = models.DateTimeField(_("date"), db_default=Now())

    class Meta:
        verbose_name = _("changement de statut")
        verbose_name_plural = _("historique")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["author"], name="statuschange_author", condition=Q(author__isnull=False)),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(to_status__in=Status.values), name="statuschange_to_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.signalement_id}: {self.from_status or '∅'} → {self.to_status}"
