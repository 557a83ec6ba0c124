from django.contrib.gis.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from .comment import Comment
from .history import StatusChange
from .signalement import Signalement


class Notification(models.Model):
    """An e-mail to send, written in the same transaction as its cause.

    One row per (cause, recipient): the unique constraints make a retried task or a repeated
    service call unable to queue the same e-mail twice, and sent_at makes the sender skip it.
    """

    class Kind(models.TextChoices):
        SUBMITTED = "submitted", _("Signalement reçu")
        STATUS = "status", _("Changement de statut")
        REPLY = "reply", _("Réponse publique")
        MERGED = "merged", _("Fusionné dans un autre signalement")
        UNMERGED = "unmerged", _("Fusion annulée")
        CONFIRM = "confirm", _("Confirmation de l'adresse e-mail")

    signalement = models.ForeignKey(Signalement, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    status_change = models.ForeignKey(
        StatusChange, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    recipient = models.EmailField()
    language = models.CharField(max_length=8, default="fr")
    created_at = models.DateTimeField(db_default=Now())
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["created_at"], name="notification_pending", condition=Q(sent_at__isnull=True)
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["signalement", "recipient"],
                condition=Q(kind="submitted"),
                name="notification_submitted_once",
            ),
            models.UniqueConstraint(
                fields=["signalement", "recipient"],
                condition=Q(kind="confirm"),
                name="notification_confirm_once",
            ),
            models.UniqueConstraint(fields=["status_change", "recipient"], name="notification_status_once"),
            models.UniqueConstraint(fields=["comment", "recipient"], name="notification_reply_once"),
        ]
