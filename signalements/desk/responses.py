"""Ready-made public replies: which apply to a report, and their text with the report's details."""

import re

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import translation

from ..models import ResponseTemplate, Signalement
from .workflow import allowed_next

# What an agent may write in a template's text; ResponseTemplate.text's help text documents them.
PLACEHOLDERS = ("reference", "category", "status", "address", "district", "team", "team_phone", "team_email")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def response_templates_for(*, signalement: Signalement) -> QuerySet[ResponseTemplate]:
    """Templates of the report's category or of every category, for any status, its status now,
    or one it may move to next (a "resolved" reply is written while resolving)."""
    statuses = ["", signalement.status, *allowed_next(signalement.status)]
    return ResponseTemplate.objects.filter(
        Q(category=signalement.category_id) | Q(category__isnull=True), status__in=statuses
    ).order_by("title", "pk")


def response_template_render(*, template: ResponseTemplate, signalement: Signalement) -> str:
    """The template's text with its placeholders filled; an unknown {name} is left as written.

    Templates are written in the site's language: the category and status are named in it too,
    whatever the agent's interface language."""
    team = signalement.team
    with translation.override(settings.LANGUAGE_CODE):
        category, status = str(signalement.category.name), str(signalement.get_status_display())
    values = {
        "reference": signalement.reference,
        "category": category,
        "status": status,
        "address": signalement.address or signalement.place_description,
        "district": signalement.district.name if signalement.district else "",
        "team": team.name if team else "",
        "team_phone": team.public_phone if team else "",
        "team_email": team.public_email if team else "",
    }
    return PLACEHOLDER.sub(lambda match: str(values.get(match[1], match[0])), template.text)
