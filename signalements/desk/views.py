"""The desk: one queue for every channel, triage, duplicates, statistics. Views stay thin."""

import csv
import json
import secrets
from datetime import timedelta
from functools import cached_property, wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.contrib.gis.db.models.functions import AsGeoJSON
from django.contrib.gis.geos import Point
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cartography.geocoding import get_geocoder
from cartography.models import District

from ..intake.services import ReporterData, signalement_submit
from ..models import Category, DuplicateGroup, Status
from ..roles import ADMINISTRATOR, AGENT, CREW, PLANNER
from ..selectors import (
    duplicate_groups_for_desk,
    nearby_open_for_desk,
    reporter_history,
    signalements_for_staff,
)
from ..trust.moderation import comments_public, moderation_apply, moderation_queue
from ..trust.policy import Capability, can, can_move_to, roles_of, writes_reports
from ..trust.throttles import page_throttle
from .duplicates import signalement_unmerge, signalements_merge
from .forms import (
    BulkForm,
    MessageForm,
    ModerationForm,
    QueueFilter,
    RegisterForm,
    TemplatePickForm,
    TransitionForm,
    TriageForm,
)
from .responses import response_template_render, response_templates_for
from .services import comment_add, signalement_transition, signalement_triage
from .statistics import desk_statistics
from .workflow import allowed_next

QUEUE_PAGE = 50
GROUPS_PAGE = 20  # each group has its own small map
# Counting every closed report, or every match of a common word, read the whole table at 1M
# reports. Counting up to a cap reads until that many matches: a word in one report of 15 costs a
# full-text test on 15 × the cap rows (benchmarks/results/FINDINGS.md: desk queue).
# Past it, the page says "more than" and offers five pages: a search is narrowed, not paged.
COUNT_CAP = 250
MAP_LIMIT = 2000


def staff_only(*roles):
    """Signed-in members of these groups. A POST needs more than reading (the policy): planners may
    read every page but change nothing."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not roles_of(request.user) & set(roles):
                raise PermissionDenied
            if request.method == "POST" and not writes_reports(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return login_required(wrapper)

    return decorator


def _queue(request) -> QueueFilter:
    return QueueFilter(request.GET or None, user=request.user)


class CappedPaginator(Paginator):
    """Counts up to COUNT_CAP + 1 rows: a search or a closed status lists at most that many pages."""

    @cached_property
    def count(self) -> int:
        return self.object_list.order_by()[: COUNT_CAP + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > COUNT_CAP


def _queue_caption(filterset: QueueFilter, paginator: Paginator) -> str:
    """What the table shows, in words: the open queue, search results, or reports of one status."""
    status = filterset.form.cleaned_data.get("status") if filterset.is_bound else None
    searched = filterset.is_bound and filterset.form.cleaned_data.get("q")
    count = paginator.count
    number = str(count)
    if getattr(paginator, "capped", False):
        count = COUNT_CAP + 1  # "more than" takes the plural
        number = _("plus de %(n)d") % {"n": COUNT_CAP}
    values = {"n": number, "status": Status(status).label if status else ""}
    if searched and status:
        text = ngettext(
            "%(n)s signalement trouvé au statut « %(status)s »",
            "%(n)s signalements trouvés au statut « %(status)s »",
            count,
        )
    elif searched:
        text = ngettext(
            "%(n)s signalement trouvé, ouvert ou non",
            "%(n)s signalements trouvés, ouverts ou non",
            count,
        )
    elif status:
        text = ngettext(
            "%(n)s signalement au statut « %(status)s »",
            "%(n)s signalements au statut « %(status)s »",
            count,
        )
    else:
        text = ngettext("%(n)s signalement ouvert", "%(n)s signalements ouverts", count)
    return text % values


@staff_only(AGENT, CREW, PLANNER, ADMINISTRATOR)
@page_throttle("staff")
def queue(request):
    filterset = _queue(request)
    # With the crew's "cannot" the desk has to answer: its reason is shown on the row.
    paginator = (CappedPaginator if filterset.every_status else Paginator)(
        filterset.qs.select_related("crew_return"), QUEUE_PAGE
    )
    page = paginator.get_page(request.GET.get("page"))
    if request.method == "POST":
        if not can(request.user, Capability.TRIAGE):
            raise PermissionDenied
        form = BulkForm(request.POST, references=request.POST.getlist("selected"))
        if form.is_valid():
            chosen = signalements_for_staff(request.user).filter(reference__in=form.cleaned_data["selected"])
            done = 0
            with transaction.atomic():
                for signalement in chosen:
                    if form.cleaned_data["action"] == "assign":
                        signalement_triage(
                            signalement=signalement, team=form.cleaned_data["team"], author=request.user
                        )
                        done += 1
                    elif Status.ACKNOWLEDGED in allowed_next(signalement.status):
                        signalement_transition(
                            signalement=signalement, to_status=Status.ACKNOWLEDGED, author=request.user
                        )
                        done += 1
            messages.success(request, _("%(n)d signalement(s) mis à jour.") % {"n": done})
            return redirect(request.get_full_path())
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "signalements/desk/queue.html",
        {
            "filter": filterset,
            "page": page,
            "caption": _queue_caption(filterset, paginator),
            "query": query.urlencode(),
            "now": timezone.now(),
            "bulk_form": BulkForm(auto_id="bulk_%s"),  # the filters have a "team" field too
            "can_write": can(request.user, Capability.TRIAGE),
            "tile_url": settings.LEAFLET_CONFIG["TILES"][0][1],
            "map_center": settings.LEAFLET_CONFIG["DEFAULT_CENTER"],
            "map_zoom": settings.LEAFLET_CONFIG["DEFAULT_ZOOM"],
        },
    )


@staff_only(AGENT, CREW, PLANNER, ADMINISTRATOR)
def queue_geojson(request):
    """The queue's current selection as GeoJSON for its map, built in the database."""
    rows = (
        _queue(request)
        .qs.annotate(geojson=AsGeoJSON("location", precision=6))
        .values_list("reference", "status", "category_id", "overdue", "geojson")[:MAP_LIMIT]
    )
    # A few categories: their names in the visitor's language, rather than a join per report.
    names = {category.pk: category.name for category in Category.objects.all()}
    statuses = dict(Status.choices)
    return JsonResponse(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "id": ref,
                    "geometry": json.loads(geometry),
                    "properties": {
                        "status": status,
                        "status_label": str(statuses[status]),
                        "category": names[category_id],
                        "overdue": overdue,
                    },
                }
                for ref, status, category_id, overdue, geometry in rows
            ],
        }
    )


@staff_only(AGENT, CREW, PLANNER, ADMINISTRATOR)
@page_throttle("staff")
def detail(request, reference: str):
    signalement = get_object_or_404(signalements_for_staff(request.user), reference=reference)
    user = request.user
    can_triage = can(user, Capability.TRIAGE, signalement)
    can_message = can(user, Capability.MESSAGE, signalement)
    allowed = sorted(s for s in allowed_next(signalement.status) if can_move_to(user, signalement, s))
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "transition":
                form = TransitionForm(request.POST, allowed=allowed)
                if form.is_valid():
                    signalement_transition(
                        signalement=signalement,
                        to_status=form.cleaned_data["to_status"],
                        text=form.cleaned_data["text"],
                        author=user,
                        from_status=form.cleaned_data["from_status"] or None,
                    )
                else:
                    raise ValidationError(form.errors.get_json_data())
            elif action == "message":
                form = MessageForm(request.POST)
                if not form.is_valid():
                    raise ValidationError({"text": _("Le message est vide.")})
                comment_add(
                    signalement=signalement,
                    text=form.cleaned_data["text"],
                    author=user,
                    is_internal=form.cleaned_data["internal"],
                )
            elif action == "triage":
                form = TriageForm(request.POST)
                if not form.is_valid():
                    raise ValidationError(_("Triage incomplet."))
                signalement_triage(signalement=signalement, author=user, **form.cleaned_data)
            elif action == "merge":
                # One click on a nearby report: that report is merged into this one.
                duplicate = get_object_or_404(
                    signalements_for_staff(user), reference=request.POST.get("duplicate", "")
                )
                signalements_merge(master=signalement, duplicates=[duplicate], author=user)
                messages.success(
                    request,
                    _("%(ref)s fusionné dans ce signalement.") % {"ref": duplicate.reference},
                )
                return redirect("desk-detail", reference=reference)
            elif action == "unmerge":
                # From the duplicate itself, or from its master, which names it.
                target = signalement
                if request.POST.get("duplicate"):
                    target = get_object_or_404(signalement.duplicates, reference=request.POST["duplicate"])
                signalement_unmerge(duplicate=target, author=user)
            else:
                return HttpResponseBadRequest(_("Action inconnue."), content_type="text/plain; charset=utf-8")
            messages.success(request, _("Enregistré."))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return redirect("desk-detail", reference=reference)
    may_view_contact = can(user, Capability.VIEW_CONTACT, signalement)
    reporter = getattr(signalement, "reporter", None) if may_view_contact else None
    comments = list(signalement.comments.select_related("author").prefetch_related("author__groups"))
    for comment in comments:
        # Contact details a citizen typed are for the roles that see contacts: others read the
        # public version.
        shows_original = may_view_contact or not comment.from_citizen
        comment.shown_text = comment.text if shows_original else comment.public_text
        comment.author_label = _author_label(comment)
    can_merge = can(user, Capability.MERGE, signalement)
    mergeable = signalement.is_open and signalement.duplicate_of_id is None
    nearby = nearby_open_for_desk(signalement=signalement, user=user) if mergeable else []
    for other in nearby:
        other.shown_description = other.description if may_view_contact else other.public_description
    templates = list(response_templates_for(signalement=signalement))
    rendered = {t.pk: response_template_render(template=t, signalement=signalement) for t in templates}
    pick_form = TemplatePickForm(
        request.GET if "template" in request.GET else None,
        templates=response_templates_for(signalement=signalement),
    )
    reply = rendered[pick_form.cleaned_data["template"].pk] if pick_form.is_valid() else ""
    return render(
        request,
        "signalements/desk/detail.html",
        {
            "s": signalement,
            "reporter": reporter,
            "history": signalement.history.select_related("author"),
            "comments": comments,
            "may_view_contact": may_view_contact,
            "photos": signalement.photos.all(),
            "nearby": nearby,
            "merged_here": signalement.duplicates.order_by("created_at", "id"),
            "can_merge": can_merge,
            "district_outline": _district_outline(signalement.district_id),
            "tile_url": settings.LEAFLET_CONFIG["TILES"][0][1],
            "transition_form": TransitionForm(
                allowed=allowed, initial={"from_status": signalement.status}, auto_id="transition_%s"
            ),
            "message_form": MessageForm(initial={"text": reply}, auto_id="message_%s"),
            "pick_form": pick_form,
            "rendered_templates": {str(pk): text for pk, text in rendered.items()},
            "triage_form": TriageForm(
                initial={
                    "category": signalement.category,
                    "priority": signalement.priority,
                    "team": signalement.team,
                }
            ),
            "templates": templates,
            "can_triage": can_triage,
            "can_move": bool(allowed),
            "can_message": can_message,
            "can_moderate": can(user, Capability.MODERATE, signalement),
            "moderation_form": ModerationForm(auto_id=False),
            "public_comment_ids": set(comments_public(signalement).values_list("pk", flat=True)),
            "earlier": reporter_history(email=reporter.email)[:5] if reporter else [],
            "now": timezone.now(),
        },
    )


def _author_label(comment) -> str:
    """Who wrote a message, as the desk needs it: the citizen, a named agent, or a crew."""
    if comment.from_citizen:
        return _("Citoyen")
    author = comment.author
    if author is None:
        return _("Service")
    name = author.get_full_name() or author.get_username()
    if any(group.name == CREW for group in author.groups.all()):
        return _("%(name)s (équipe de terrain)") % {"name": name}
    return name


def _district_outline(district_id: int | None) -> dict | None:
    """The district's outline as GeoJSON for the report's map, rounded to about a metre."""
    if district_id is None:
        return None
    outline = (
        District.objects.filter(pk=district_id)
        .annotate(outline=AsGeoJSON("geom", precision=5))
        .values_list("outline", flat=True)
        .first()
    )
    return json.loads(outline) if outline else None


@staff_only(AGENT, ADMINISTRATOR)
def moderation(request):
    """What waits for a moderator: descriptions, public messages and photos flagged by the filter
    or, with pre-moderation, not yet shown."""
    page = Paginator(moderation_queue(), QUEUE_PAGE).get_page(request.GET.get("page"))
    return render(request, "signalements/desk/moderation.html", {"page": page})


@staff_only(AGENT, ADMINISTRATOR)
def moderate(request, reference: str):
    """Approve, redact or hide a description, a public message or a photo (POST), then back to
    the report or the moderation list."""
    if request.method != "POST":
        return redirect("desk-detail", reference=reference)
    signalement = get_object_or_404(signalements_for_staff(request.user), reference=reference)
    form = ModerationForm(request.POST)
    if form.is_valid():
        try:
            moderation_apply(
                signalement=signalement,
                target=form.cleaned_data["target"],
                action=form.cleaned_data["action"],
                object_id=form.cleaned_data["id"],
                text=form.cleaned_data["text"],
                author=request.user,
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Modération enregistrée."))
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    if request.POST.get("next") == "list":
        return redirect("desk-moderation")
    return redirect("desk-detail", reference=reference)


def _picked_place(posted) -> tuple[str, str, str] | None:
    """The "lon;lat;label" of a search result button, or None (a bad value is left to the form)."""
    if posted is None or not posted.get("place"):
        return None
    lon, _sep, rest = posted["place"].partition(";")
    lat, _sep, label = rest.partition(";")
    return lon, lat, label


@staff_only(AGENT, ADMINISTRATOR)
@page_throttle("staff")
def register(request):
    """A report received by phone, e-mail or at the counter, through the same intake service."""
    posted = request.POST.copy() if request.method == "POST" else None
    picked = _picked_place(posted)
    if picked is not None:  # an address found by the search: its point and label, then the form again
        posted["lon"], posted["lat"], posted["address"] = picked
    form = RegisterForm(posted)
    results, earlier = [], []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        earlier = reporter_history(email=data["contact_email"], phone=data["contact_phone"])
        if request.POST.get("action") == "search":
            results = get_geocoder().search(data["address"]) if data["address"] else []
        elif picked is not None:
            messages.success(request, _("Point placé : %(place)s.") % {"place": data["address"]})
        elif data["lon"] is None or data["lat"] is None:
            form.add_error("address", _("Placez le point sur la carte ou choisissez une adresse trouvée."))
        else:
            try:
                signalement, _created = signalement_submit(
                    category=data["category"],
                    location=Point(data["lon"], data["lat"], srid=4326),
                    description=data["description"],
                    address=data["address"],
                    channel=data["channel"],
                    reporter=ReporterData(
                        name=data["contact_name"],
                        email=data["contact_email"],
                        phone=data["contact_phone"],
                    ),
                    author=request.user,
                    idempotency_key=request.POST.get("idempotency_key") or None,
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(
                    request, _("Signalement %(ref)s enregistré.") % {"ref": signalement.reference}
                )
                return redirect("desk-detail", reference=signalement.reference)
    return render(
        request,
        "signalements/desk/register.html",
        {
            "form": form,
            "results": results,
            "earlier": earlier,
            "tile_url": settings.LEAFLET_CONFIG["TILES"][0][1],
            # Random: a guessable key would let anyone who guesses it submit under the agent's name.
            "idempotency_key": request.POST.get("idempotency_key") or secrets.token_urlsafe(24),
        },
    )


@staff_only(AGENT, PLANNER, ADMINISTRATOR)
@page_throttle("staff")
def duplicates(request):
    if request.method == "POST":
        if not can(request.user, Capability.MERGE):
            raise PermissionDenied
        group_id = request.POST.get("group", "")
        if not group_id.isascii() or not group_id.isdecimal():  # a forged value: no such group
            raise Http404
        group = get_object_or_404(DuplicateGroup, pk=group_id)
        members = list(group.members.order_by("created_at", "id"))
        if request.POST.get("action") == "dismiss":
            DuplicateGroup.objects.filter(pk=group.pk).update(state=DuplicateGroup.State.DISMISSED)
        else:
            master = next((m for m in members if m.reference == request.POST.get("master")), None)
            if master is None:
                messages.error(request, _("Choisissez le signalement principal."))
                return redirect("desk-duplicates")
            try:
                signalements_merge(
                    master=master, duplicates=[m for m in members if m.pk != master.pk], author=request.user
                )
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
                return redirect("desk-duplicates")
            messages.success(request, _("Fusionné dans %(ref)s.") % {"ref": master.reference})
        return redirect("desk-duplicates")
    page = Paginator(duplicate_groups_for_desk(), GROUPS_PAGE).get_page(request.GET.get("page"))
    may_view_contact = can(request.user, Capability.VIEW_CONTACT)
    for group in page:
        group.sorted_members = list(group.members.all())  # oldest first: the proposed master
        oldest = group.sorted_members[0]
        for member in group.sorted_members:
            member.distance_m = member.location_metric.distance(oldest.location_metric)
            member.shown_description = member.description if may_view_contact else member.public_description
    return render(
        request,
        "signalements/desk/duplicates.html",
        {
            "page": page,
            "can_write": can(request.user, Capability.MERGE),
            "tile_url": settings.LEAFLET_CONFIG["TILES"][0][1],
        },
    )


@staff_only(AGENT, PLANNER, ADMINISTRATOR)
def statistics(request):
    end = parse_date(request.GET.get("end", "")) or timezone.localdate() + timedelta(days=1)
    start = parse_date(request.GET.get("start", "")) or end - timedelta(days=365)
    figures = desk_statistics(start=start, end=end)
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="statistiques-{start}-{end}.csv"'
        writer = csv.writer(response)
        writer.writerow(["dimension", "value", "reports"])
        for dimension, rows in figures.volumes.items():
            writer.writerows((dimension, label, count) for label, count in rows)
        for name in (
            "acknowledge_median_h",
            "acknowledge_p90_h",
            "resolve_median_h",
            "resolve_p90_h",
            "within_deadline_share",
            "satisfaction_answers",
            "satisfaction_mean",
            "timed",
            "untimed",
        ):
            writer.writerow(["figure", name, getattr(figures, name)])
        return response
    return render(
        request,
        "signalements/desk/statistics.html",
        {
            "f": figures,
            "volumes": figures.named_volumes(),
            "chart_data": figures.chart_data(),
            "start": start,
            "end": end,
        },
    )
