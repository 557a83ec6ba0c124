from django.contrib.gis.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from .signalement import Signalement


class Satisfaction(models.Model):
    """The one question asked when a report is resolved."""

    signalement = models.OneToOneField(Signalement, on_delete=models.CASCADE, related_name="satisfaction")
    solved = models.BooleanField(_("problème résolu"))
    rating = models.PositiveSmallIntegerField(_("note"))
    text = models.TextField(_("commentaire"), blank=True)
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        verbose_name = _("avis")
        verbose_name_plural = _("avis")
        constraints = [
            models.CheckConstraint(condition=Q(rating__gte=1, rating__lte=5), name="satisfaction_rating_1_5"),
        ]
