"""Reads that carry a rule."""

from django.db.models import QuerySet

from .models import Signalement


def signalements_public() -> QuerySet[Signalement]:
    """Reports the public may see: never those of sensitive categories."""
    return Signalement.objects.filter(category__is_sensitive=False).select_related(
        "category", "district", "team"
    )


def signalements_visible_to(user) -> QuerySet[Signalement]:
    if user.is_authenticated and user.is_staff:
        return Signalement.objects.select_related("category", "district", "team")
    return signalements_public()
