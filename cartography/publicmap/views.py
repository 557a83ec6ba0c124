"""Thin adapters of the public map: the page, its tiles, its list and a report's public details."""

import hashlib
from functools import lru_cache, wraps
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib.gis.db.models import Extent
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import get_object_or_404, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from signalements.models import Signalement, Status
from signalements.selectors import signalements_public
from signalements.trust.guards import bbox_parse
from signalements.trust.moderation import comments_public, history_public

from .filters import (
    DEFAULT_RESOLVED_DAYS,
    MapFilterForm,
    MapFilters,
    map_filters,
    map_filters_from,
    public_districts,
)
from .selectors import (
    CELLS_FROM,
    POINTS_ALWAYS_FROM,
    SORTS,
    freshness_token,
    map_list,
    map_list_rows,
    tile_mvt,
    tile_valid,
)

FILTER_FIELDS = tuple(MapFilterForm.base_fields)
LIST_PAGE_SIZE = 50
# Colour-blind-safe and distinct on a light map (Okabe–Ito, then Tol's muted scheme).
PALETTE = (
    "#0072b2",
    "#e69f00",
    "#009e73",
    "#cc79a7",
    "#56b4e9",
    "#d55e00",
    "#882255",
    "#117733",
    "#332288",
    "#999933",
    "#44aa99",
    "#aa4499",
)


def _basemap_policy(view):
    """MapLibre fetches the basemap's tiles (connect-src); its worker is a static file ('self').
    The basemap's host is read from the settings at each request, as the page's config is (read
    once at import, a test's or a deployment's later setting would leave the policy behind)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if url := settings.PUBLIC_MAP_BASEMAP_URL:
            parts = urlsplit(url.replace("{s}", "*"))
            response._csp_update = {"connect-src": [f"{parts.scheme}://{parts.netloc}"]}
        return response

    return wrapper


def _filter_query(data) -> str:
    """The filters of a query string, in one order (the same view, the same cache key)."""
    return urlencode([(key, value) for key in FILTER_FIELDS for value in sorted(data.getlist(key)) if value])


def _categories_legend(form: MapFilterForm) -> list[dict]:
    return [
        {"id": category.pk, "name": category.name, "colour": PALETTE[index % len(PALETTE)]}
        for index, category in enumerate(
            form.fields["category"]
            .queryset.filter(is_sensitive=False)
            .order_by("group__position", "position")
        )
    ]


@require_safe
@_basemap_policy
def home(request):
    """The territory map, the site's home page."""
    # Filters in the URL, or the defaults (the view alone, z/lat/lon, leaves them as they are).
    form = MapFilterForm(request.GET if any(key in request.GET for key in FILTER_FIELDS) else None)
    form.is_valid()
    box = public_districts().aggregate(box=Extent("geom"))["box"] or settings.PUBLIC_MAP_DEFAULT_BOUNDS
    config = {
        "tiles": request.build_absolute_uri(reverse("publicmap-tile", args=[0, 0, 0])).replace(
            "/0/0/0.pbf", "/{z}/{x}/{y}.pbf"
        ),
        "detail": reverse("publicmap-detail", args=["REF"]),
        "list": reverse("publicmap-list"),
        "report": reverse("report"),
        "bounds": list(box),
        "basemap": settings.PUBLIC_MAP_BASEMAP_URL,
        "basemapAttribution": settings.PUBLIC_MAP_BASEMAP_ATTRIBUTION,
        "cellsFrom": CELLS_FROM,
        "pointsAlwaysFrom": POINTS_ALWAYS_FROM,
        "resolvedDays": DEFAULT_RESOLVED_DAYS,
        "categories": _categories_legend(form),
        "worker": static("vendor/maplibre-gl/maplibre-gl-csp-worker.js"),
    }
    return render(
        request,
        "publicmap/home.html",
        {"form": form, "config": config, "query": _filter_query(request.GET), "legend": config["categories"]},
    )


@lru_cache(maxsize=256)
def _tile_filters(token: str, today: str, written: str) -> tuple[MapFilters | None, dict]:
    """The filters of a tile's query (`written`: _filter_query's), read once per view in each
    process: a map's view asks a dozen tiles with the same filters, and reading them (the form, the
    categories) is a fifth of an uncached tile. The freshness token and the day are part of the key:
    a change of the categories or districts, or midnight, reads them again."""
    return map_filters_from(QueryDict(written))


@require_safe
def tile(request, z: int, x: int, y: int):
    """A vector tile of the map. Its ETag is the freshness token of the reports with the filters and
    the tile's address: a tile is built once per change, and revalidated for nothing after."""
    if not tile_valid(z, x, y):
        raise Http404
    # The ETag and the cache key come from the query as written (and the day: "resolved in the
    # last N days" moves at midnight), so that a cached tile or a 304 costs no query: the filters
    # are read, and checked, only to build a tile.
    token = freshness_token()
    written = _filter_query(request.GET)
    today = timezone.localdate().isoformat()
    etag = '"' + hashlib.sha1(f"{token}|{today}|{written}|{z}/{x}/{y}".encode()).hexdigest()[:32] + '"'
    if etag in [value.strip() for value in request.headers.get("If-None-Match", "").split(",")]:
        response = HttpResponse(status=304)
    else:
        key = "publicmap:tile:" + etag
        data = cache.get(key)
        if data is None:
            filters, errors = _tile_filters(token, today, written)
            if errors:
                return JsonResponse(errors, status=400)
            data = tile_mvt(z=z, x=x, y=y, filters=filters, token=token)
            cache.set(key, data, settings.PUBLIC_MAP_CACHE_SECONDS)
        response = HttpResponse(data, content_type="application/vnd.mapbox-vector-tile")
    response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={settings.PUBLIC_MAP_MAX_AGE}"
    return response


def _rows_label(rows: list[Signalement]) -> None:
    """Each row's status label and public page, worked out once for the page: a row's
    get_status_display() hashes the lazy choices and {% url %} resolves the pattern, each a third
    of the rows' rendering."""
    labels = {value: str(label) for value, label in Status.choices}
    page_url = reverse("public-signalement", args=["REFERENCE"])
    for row in rows:
        row.status_label = labels.get(row.status, row.status)
        row.public_url = page_url.replace("REFERENCE", row.reference)


@require_safe
def signalement_list(request):
    """What the map shows, as a table: same filters, the map's view if given, sortable, paginated
    without counting (a next page exists if one more row does)."""
    form = MapFilterForm(request.GET if any(key in request.GET for key in FILTER_FIELDS) else None)
    bbox = None
    errors = {}
    if request.GET.get("bbox"):
        try:
            bbox = bbox_parse(request.GET["bbox"])
        except ValidationError as exc:
            errors["bbox"] = exc.messages
    valid = form.is_valid() if form.is_bound else True
    rows, has_next = [], False
    sort = request.GET.get("sort") if request.GET.get("sort") in SORTS else "-created"
    page = request.GET.get("page", "1")
    page = int(page) if page.isdigit() and 0 < int(page) < 100_000 else 1
    if valid and not errors:
        filters = map_filters(**form.cleaned_data) if form.is_bound else map_filters()
        queryset = map_list_rows(map_list(filters=filters, sort=sort, bbox=bbox))
        start = (page - 1) * LIST_PAGE_SIZE
        rows = list(queryset[start : start + LIST_PAGE_SIZE + 1])
        has_next = len(rows) > LIST_PAGE_SIZE
        rows = rows[:LIST_PAGE_SIZE]
        _rows_label(rows)
    base = _filter_query(request.GET)
    if bbox is not None:
        base = f"{base}&bbox={request.GET['bbox']}" if base else f"bbox={request.GET['bbox']}"

    def link(**changes) -> str:
        params = {"sort": sort, "page": page} | changes
        return "?" + "&".join(p for p in (base, urlencode(params)) if p)

    headers = [
        {
            "key": key,
            "url": link(sort=key if sort == f"-{key}" else f"-{key}", page=1),
            "sorted": "descending" if sort == f"-{key}" else "ascending" if sort == key else "",
        }
        for key in ("created", "category", "status", "district", "updated")
    ]
    return render(
        request,
        "publicmap/list.html",
        {
            "form": form,
            "errors": errors,
            "rows": rows,
            "page": page,
            "headers": {h["key"]: h for h in headers},
            "previous_url": link(page=page - 1) if page > 1 else "",
            "next_url": link(page=page + 1) if has_next else "",
            "map_url": reverse("home") + ("?" + base if base else ""),
        },
        status=400 if errors or not valid else 200,
    )


@require_safe
def signalement_detail(request, reference: str):
    """A report's public details, as a fragment the map shows beside itself (and a page without
    script): the same reads as the report's public page."""
    signalement = get_object_or_404(signalements_public(), reference=reference)
    response = render(
        request,
        "publicmap/_detail.html",
        {
            "signalement": signalement,
            "history": history_public(signalement),
            "photos": signalement.photos.filter(is_public=True),
            "comments": comments_public(signalement).filter(from_citizen=False),
            "report_url": reverse("report")
            + "?"
            + urlencode({"lat": f"{signalement.location.y:.6f}", "lon": f"{signalement.location.x:.6f}"}),
        },
    )
    response["Cache-Control"] = f"public, max-age={settings.PUBLIC_MAP_MAX_AGE}"
    return response
