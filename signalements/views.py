from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from .roles import ADMINISTRATOR, AGENT, CREW, PLANNER
from .trust.policy import roles_of


def role_home(user) -> tuple[str, str]:
    """Where a person starts, by role: the URL and its name."""
    roles = roles_of(user)
    if roles & {AGENT, ADMINISTRATOR, PLANNER}:
        return reverse("desk-queue"), _("la file du bureau")
    if CREW in roles:
        return reverse("crew-home"), _("votre liste de travail")
    return reverse("home"), _("la page d'accueil")


def permission_denied(request, exception=None):
    """The 403 page (handler403), in the site's layout: what happened, and what to do instead."""
    home_url, home_name = role_home(request.user)
    reason = str(exception) if exception is not None else ""
    return render(
        request, "403.html", {"home_url": home_url, "home_name": home_name, "reason": reason}, status=403
    )
