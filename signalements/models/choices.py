"""The vocabularies a report's columns take, constrained in the database too."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    NEW = "new", _("Nouveau")
    ACKNOWLEDGED = "acknowledged", _("Pris en compte")
    PLANNED = "planned", _("Planifié")
    IN_PROGRESS = "in_progress", _("En cours")
    RESOLVED = "resolved", _("Résolu")
    CLOSED = "closed", _("Clôturé")
    REJECTED = "rejected", _("Refusé")
    DUPLICATE = "duplicate", _("Doublon")


OPEN_STATUSES = (Status.NEW, Status.ACKNOWLEDGED, Status.PLANNED, Status.IN_PROGRESS)


class Channel(models.TextChoices):
    WEB = "web", _("Site web")
    APP = "app", _("Application mobile")
    API = "api", _("API")
    PHONE = "phone", _("Téléphone")
    EMAIL = "email", _("E-mail")
    COUNTER = "counter", _("Guichet")
    BACK_OFFICE = "back_office", _("Agent de la ville")
    IMPORT = "import", _("Import")


# Reports a citizen files alone, and those staff register for a citizen who called, wrote or came by.
CITIZEN_CHANNELS = (Channel.WEB, Channel.APP, Channel.API)
STAFF_CHANNELS = (Channel.PHONE, Channel.EMAIL, Channel.COUNTER, Channel.BACK_OFFICE)


class Priority(models.TextChoices):
    LOW = "low", _("Basse")
    NORMAL = "normal", _("Normale")
    HIGH = "high", _("Haute")
    URGENT = "urgent", _("Urgente")


class Moderation(models.TextChoices):
    """Where a public text or photo stands in moderation (signalements.trust.moderation)."""

    PUBLISHED = "published", _("Publié")
    FLAGGED = "flagged", _("Coordonnées masquées, à revoir")
    PENDING = "pending", _("En attente de modération")
    APPROVED = "approved", _("Approuvé")
    REDACTED = "redacted", _("Modifié par la modération")
    HIDDEN = "hidden", _("Masqué par la modération")


NEEDS_REVIEW = (Moderation.FLAGGED, Moderation.PENDING)
