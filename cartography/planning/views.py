"""The planners' page, its CSV and GeoJSON downloads and the standalone report. Thin: the filters
make a selection, the selectors read it."""

from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from signalements.trust.policy import Capability, can
from signalements.trust.throttles import page_throttle

from . import exports, selectors
from .forms import MEASURE_LABELS, PlanningFilterForm, selection_query
from .legend import hotspot_legend
from .models import AnalysisRun, Season

PAGE_ROWS = 50  # recurring places and clusters on the page; the CSV has them all


def planners_only(view):
    """Signed-in users whose role may read the planners' analyses (planners, agents, administrators)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not can(request.user, Capability.PLAN):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _form(request) -> PlanningFilterForm:
    return PlanningFilterForm(request.GET or None)


def _bad_request(form: PlanningFilterForm) -> JsonResponse:
    return JsonResponse({name: [str(e) for e in errors] for name, errors in form.errors.items()}, status=400)


@planners_only
@page_throttle("staff")
def planning(request):
    form = _form(request)
    if form.is_bound and not form.is_valid():
        return render(request, "planning/page.html", {"form": form, "invalid": True}, status=400)
    selection = form.selection()
    if selection is None:
        return render(request, "planning/page.html", {"form": form, "no_territory": True})
    runs = selectors.latest_runs(selection.territory)
    choropleth = selectors.district_rows(selection)
    query = selection_query(selection)
    series = selectors.monthly_series(
        selection, selectors.volumes_window(runs.get(AnalysisRun.Kind.VOLUMES.value))
    )
    classes = selectors.hotspot_class_counts(selection)
    legend = hotspot_legend()
    for entry, counts in zip(legend, classes, strict=True):
        entry.update(cells=counts["cells"], districts=counts["districts"])
    recurring = selectors.recurring_places(selection).defer("geom")
    found = selectors.clusters(selection)
    season_label = Season(selection.season).label
    context = {
        "form": form.bound_to(selection),
        "selection": selection,
        "season_label": season_label,
        "layer_name": selection.territory.layer_name(selection.layer),
        "measure_label": MEASURE_LABELS[selection.measure],
        "has_analysis": selectors.has_any_analysis(selection.territory),
        "runs": [(AnalysisRun.Kind(kind).label, runs.get(kind)) for kind in AnalysisRun.Kind.values],
        "last_computed_at": selectors.last_computed_at(selection.territory),
        "districts": choropleth.rows,
        "choropleth_legend": choropleth.legend(),
        "has_population": any(row.population for row in choropleth.rows),
        "classes": legend,
        "recurring": recurring[:PAGE_ROWS],
        "recurring_total": recurring.count(),
        "clusters": found[:PAGE_ROWS],
        "clusters_total": found.count(),
        "query": query,
        "csv_links": [
            (_("Volumes par quartier"), reverse("planning-csv-volumes")),
            (_("Classes de points chauds"), reverse("planning-csv-classes")),
            (_("Lieux des points chauds"), reverse("planning-csv-hotspots")),
            (_("Lieux récurrents"), reverse("planning-csv-recurring")),
            (_("Alertes précoces"), reverse("planning-csv-clusters")),
        ],
        "geojson_links": [
            (_("Quartiers (carte des volumes)"), reverse("planning-geojson-districts")),
            (_("Mailles des points chauds"), reverse("planning-geojson-hotspots")),
            (_("Lieux récurrents"), reverse("planning-geojson-recurring")),
            (_("Alertes précoces"), reverse("planning-geojson-clusters")),
        ],
        "map_config": {
            "layers": {layer: f"{reverse(f'planning-geojson-{layer}')}?{query}" for layer in exports.LAYERS},
            "labels": {
                "reports": _("signalements"),
                "rank": _("rang"),
                "first_week": _("première semaine habituelle"),
                "action": _("fenêtre d'action : semaines"),
                "years": _("années"),
                "observed": _("observés"),
                "expected": _("attendus"),
                "class": _("classe"),
                "no_data": _("aucune donnée"),
                "layer_districts": _("Quartiers (volumes)"),
                "layer_hotspots": _("Points chauds émergents"),
                "layer_recurring": _("Lieux récurrents"),
                "layer_clusters": _("Alertes précoces"),
            },
        },
        "chart_data": {
            "months": [
                _("janv."),
                _("févr."),
                _("mars"),
                _("avr."),
                _("mai"),
                _("juin"),
                _("juil."),
                _("août"),
                _("sept."),
                _("oct."),
                _("nov."),
                _("déc."),
            ],
            "series": [{"year": year, "counts": counts} for year, counts in series.items()],
        },
        "monthly_rows": list(series.items()),
        "tile_url": settings.LEAFLET_CONFIG["TILES"][0][1],
        "map_center": settings.LEAFLET_CONFIG["DEFAULT_CENTER"],
        "map_zoom": settings.LEAFLET_CONFIG["DEFAULT_ZOOM"],
    }
    return render(request, "planning/page.html", context)


@planners_only
@page_throttle("staff")
def table_csv(request, table: str):
    form = _form(request)
    if form.is_bound and not form.is_valid():
        return _bad_request(form)
    selection = form.selection()
    if selection is None:
        return HttpResponse("", content_type="text/csv; charset=utf-8")
    response = HttpResponse(exports.table_csv(selection, table), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="planification-{table}-{selection.season}.csv"'
    return response


@planners_only
@page_throttle("staff")
def layer_geojson(request, layer: str):
    form = _form(request)
    if form.is_bound and not form.is_valid():
        return _bad_request(form)
    selection = form.selection()
    body = (
        exports.layer_geojson(selection, layer) if selection else '{"type":"FeatureCollection","features":[]}'
    )
    response = HttpResponse(body, content_type="application/geo+json")
    if request.GET.get("download"):
        response["Content-Disposition"] = f'attachment; filename="planification-{layer}.geojson"'
    return response


@planners_only
@page_throttle("staff")
def report(request):
    """The standalone folium report of the selection, as a file to keep or mail (its scripts are
    inline, which this site's policy forbids on its own pages: it is downloaded, not shown)."""
    from .report import report_html

    form = _form(request)
    if form.is_bound and not form.is_valid():
        return _bad_request(form)
    selection = form.selection()
    if selection is None:
        return _bad_request(form)
    response = HttpResponse(report_html(selection), content_type="text/html; charset=utf-8")
    name = (
        selection.category.slug
        if selection.category
        else (selection.group.slug if selection.group else "tout")
    )
    response["Content-Disposition"] = f'attachment; filename="rapport-{name}-{selection.season}.html"'
    return response
