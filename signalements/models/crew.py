from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from .choices import Status
from .signalement import Signalement


class WorkListPosition(models.Model):
    """The order a crew chose by hand for its work list; kept until the crew reorders again."""

    team = models.ForeignKey("cartography.Team", on_delete=models.CASCADE, related_name="+")
    signalement = models.ForeignKey(Signalement, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["team", "position"]
        constraints = [
            models.UniqueConstraint(fields=["team", "signalement"], name="worklist_position_once"),
        ]


class CrewUpdate(models.Model):
    """An update sent by a crew from the street: started, done or cannot be done, with a note.

    A phone that queued it offline, or lost the answer, sends it again under the same client-made
    key; the unique key makes the database refuse a second application."""

    class Outcome(models.TextChoices):
        START = "start", _("je commence")
        DONE = "done", _("fait")
        CANNOT = "cannot", _("impossible à faire")

    class CannotReason(models.TextChoices):
        PARKED = "parked", _("Un véhicule est garé dessus")
        EQUIPMENT = "equipment", _("Il faut un autre matériel ou une autre équipe")
        NOT_FOUND = "not_found", _("Rien trouvé à cet endroit")
        PRIVATE = "private", _("Terrain privé")
        DANGER = "danger", _("Dangereux : il faut une signalisation ou la police")
        OTHER = "other", _("Autre raison (précisez dans la note)")

    signalement = models.ForeignKey(Signalement, on_delete=models.CASCADE, related_name="crew_updates")
    team = models.ForeignKey("cartography.Team", on_delete=models.CASCADE, related_name="+")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    note = models.TextField(blank=True)
    # Why a stop could not be done: the desk reads it in its queue. Older "cannot" rows have none.
    cannot_reason = models.CharField(
        _("raison"), max_length=20, choices=CannotReason.choices, blank=True, default=""
    )
    status = models.CharField(max_length=20, choices=Status.choices)  # the report's, once applied
    idempotency_key = models.CharField(max_length=128, null=True, blank=True, editable=False)
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        verbose_name = _("mise à jour de terrain")
        verbose_name_plural = _("mises à jour de terrain")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["idempotency_key"],
                name="crewupdate_unique_idempotency_key",
                condition=Q(idempotency_key__isnull=False),
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=["", "start", "done", "cannot"]), name="crewupdate_outcome_valid"
            ),
            models.CheckConstraint(
                condition=Q(cannot_reason="")
                | Q(
                    outcome="cannot",
                    cannot_reason__in=["parked", "equipment", "not_found", "private", "danger", "other"],
                ),
                name="crewupdate_cannot_reason_valid",
            ),
        ]
