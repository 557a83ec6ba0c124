"""Crew pages: the day's work list as a map and a numbered list in route order, from a phone."""

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from cartography.models import District

from ..models import Category, CrewUpdate, Priority, Status
from ..photos import photo_clean
from ..trust.policy import team_for_work_list
from ..trust.throttles import page_throttle
from .exports import as_csv, as_geojson, as_gpx
from .filters import work_list_filters
from .services import crew_update_record
from .worklists import WORK_STATUSES, Stop, teams_of, work_list, work_list_reorder, work_list_reset

# One stop of the list. Written by format_html (which escapes every value) rather than by the
# template's loop: a crew's 500 stops were some 6,000 template variables, most of the page's time.
STOP_HTML = (
    '<li class="stop{forced_class}" data-reference="{reference}">'
    '<input type="hidden" name="order" value="{reference}">'
    '<a class="stop-link" href="{url}"><span class="stop-number">{number}</span>'
    "<span><strong>{category}</strong> – {place}<br>{status}{urgent} · {leg}</span></a>"
    '<span class="reorder">'
    '<button name="action" value="up:{reference}" class="secondary" aria-label="{up_label}">↑</button>'
    '<button name="action" value="down:{reference}" class="secondary" aria-label="{down_label}">↓</button>'
    "</span></li>"
)


def _rows(stops: list[Stop], *, list_url: str) -> list[SafeString]:
    statuses = {value: str(label) for value, label in Status.choices}
    leg = _("%(m)s m, %(walk)s min à pied, %(drive)s min en voiture")
    up, down = _("Monter l'arrêt %(n)s"), _("Descendre l'arrêt %(n)s")
    urgent = format_html(" · <strong>{}</strong>", _("prioritaire"))
    rows = []
    for stop in stops:
        s = stop.signalement
        rows.append(
            format_html(
                STOP_HTML,
                forced_class=" forced" if stop.forced else "",
                reference=s.reference,
                url=f"{list_url}{s.reference}/",
                number=stop.number,
                category=s.category.name,
                place=s.address or (s.district.name if s.district else ""),
                status=statuses[s.status],
                urgent=urgent if stop.forced else "",
                leg=leg % {"m": round(stop.leg_m), "walk": stop.walk_min, "drive": stop.drive_min},
                up_label=up % {"n": stop.number},
                down_label=down % {"n": stop.number},
            )
        )
    return rows


OFFLINE_ASSETS = (
    "signalements/site.css",
    "signalements/crew-offline.js",
    "signalements/crew-map.js",
    "leaflet/leaflet.css",
    "leaflet/leaflet.extras.css",
    "leaflet/leaflet.js",
    "leaflet/leaflet.extras.js",
    "leaflet/draw/leaflet.draw.i18n.js",
)


def crew_service_worker(request):
    """The crews' offline worker. Served under /equipe/ (not /static/) so that its scope covers
    the crew pages; never cached by the browser, so that a new version installs on the next visit."""
    response = render(
        request,
        "signalements/crew/sw.js",
        {
            "paths": json.dumps(
                {
                    "PRECACHE": [static(path) for path in OFFLINE_ASSETS],
                    "SCOPE": reverse("crew-home"),
                    "STATIC_URL": settings.STATIC_URL,
                    "MEDIA_URL": settings.MEDIA_URL,
                }
            )
        },
        content_type="text/javascript; charset=utf-8",
    )
    response["Service-Worker-Allowed"] = reverse("crew-home")
    response["Cache-Control"] = "no-cache"
    return response


def crew_home(request):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    teams = list(teams_of(request.user))
    if len(teams) == 1:
        return redirect("crew-list", slug=teams[0].slug)
    return render(request, "signalements/crew/home.html", {"teams": teams})


@page_throttle("staff")
def crew_list(request, slug: str):
    team = team_for_work_list(request.user, slug)
    if request.method == "POST":
        if request.POST.get("action") == "reset":
            work_list_reset(team=team)
        else:
            order = request.POST.getlist("order")
            move, _sep, ref = request.POST.get("action", "").partition(":")
            ref = ref or request.POST.get("ref")
            if ref in order and move in ("up", "down"):
                i = order.index(ref)
                j = i - 1 if move == "up" else i + 1
                if 0 <= j < len(order):
                    order[i], order[j] = order[j], order[i]
            work_list_reorder(team=team, references=order)
        return redirect(request.get_full_path())
    status = 200
    try:
        filters = work_list_filters(request.GET)
    except ValidationError as exc:
        if request.GET.get("format") in ("geojson", "gpx", "csv"):
            return HttpResponseBadRequest(" ".join(exc.messages), content_type="text/plain; charset=utf-8")
        # The page then shows the whole list, with the reason the filter was not applied.
        for message in exc.messages:
            messages.error(request, message)
        filters, status = {}, 400
    stops = work_list(team=team, urgent_first=request.GET.get("urgent_first", "1") == "1", **filters)
    fmt = request.GET.get("format")
    if fmt == "geojson":
        return HttpResponse(as_geojson(stops), content_type="application/geo+json")
    if fmt == "gpx":
        response = HttpResponse(as_gpx(stops, name=team.name), content_type="application/gpx+xml")
        response["Content-Disposition"] = f'attachment; filename="{team.slug}.gpx"'
        return response
    if fmt == "csv":
        response = HttpResponse(as_csv(stops), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{team.slug}.csv"'
        return response
    query = request.GET.copy()
    query.pop("format", None)
    template = "signalements/crew/print.html" if fmt == "print" else "signalements/crew/list.html"
    return render(
        request,
        template,
        {
            "team": team,
            "stops": stops,
            "rows": _rows(stops, list_url=request.path) if fmt != "print" else [],
            "query": query.urlencode(),
            "total_km": sum(s.leg_m for s in stops) / 1000,
            "categories": Category.objects.filter(is_active=True),
            "districts": District.objects.filter(territory=team.territory, layer="districts").only("name")
            if team.territory_id
            else District.objects.none(),
            "tile_url": settings.LEAFLET_CONFIG["TILES"][0][1],
            "statuses": [(s, Status(s).label) for s in WORK_STATUSES],
            "priorities": Priority.choices,
            "depot": team.depot,
        },
        status=status,
    )


@page_throttle("staff")
def crew_item(request, slug: str, reference: str):
    team = team_for_work_list(request.user, slug)
    signalement = get_object_or_404(
        team.signalements.select_related("category", "district"), reference=reference
    )
    errors, status = {}, 200
    if request.method == "POST":
        try:
            crew_update_record(
                signalement=signalement,
                team=team,
                author=request.user,
                outcome=request.POST.get("outcome", ""),
                note=request.POST.get("note", ""),
                reason=request.POST.get("reason", ""),
                photo=photo_clean(request.FILES["photo"]) if request.FILES.get("photo") else None,
                idempotency_key=request.POST.get("idempotency_key", "").strip() or None,
            )
            messages.success(request, _("Enregistré."))
            return redirect("crew-list", slug=slug)
        except ValidationError as exc:
            # Shown beside its field, with what was typed kept in the form.
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"photo": exc.messages}
            status = 400
            for field in ("outcome", "idempotency_key"):
                for message in errors.get(field, []):
                    messages.error(request, message)
    return render(
        request,
        "signalements/crew/item.html",
        {
            "team": team,
            "s": signalement,
            "errors": errors,
            "posted": request.POST if request.method == "POST" else {},
            "reasons": CrewUpdate.CannotReason.choices,
            "history": signalement.history.filter(is_public=True),
            "photos": signalement.photos.all(),
            "comments": signalement.comments.all(),
        },
        status=status,
    )
