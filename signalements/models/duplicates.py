from django.contrib.gis.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from .category import Category
from .signalement import Signalement


class DuplicateCandidate(models.Model):
    """Open reports found near a new one when it was filed: likely duplicates, for the desk."""

    signalement = models.ForeignKey(
        Signalement, on_delete=models.CASCADE, related_name="duplicate_candidates"
    )
    candidate = models.ForeignKey(Signalement, on_delete=models.CASCADE, related_name="+")
    distance_m = models.FloatField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["signalement", "candidate"], name="duplicate_candidate_once"),
        ]


class DuplicateGroup(models.Model):
    """Open reports the clustering job found together: a merge the desk may confirm."""

    class State(models.TextChoices):
        PROPOSED = "proposed", _("Proposé")
        MERGED = "merged", _("Fusionné")
        DISMISSED = "dismissed", _("Écarté")

    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="+")
    members = models.ManyToManyField(Signalement, related_name="duplicate_groups")
    state = models.CharField(max_length=20, choices=State.choices, default=State.PROPOSED)
    # A hash of the category and sorted member ids: the same group is proposed once, whatever the
    # job's runs (a group may have hundreds of members: the ids themselves would not fit).
    signature = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        verbose_name = _("groupe de doublons")
        verbose_name_plural = _("groupes de doublons")
        ordering = ["-created_at"]
