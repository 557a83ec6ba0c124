"""Open data pages and downloads: thin adapters over selectors and services."""

from django.conf import settings
from django.http import FileResponse, Http404, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import condition, require_safe

from ..models import Status
from .selectors import EXPORT_FIELDS, SUMMARY_FIELDS, FilterInvalid, export_queryset
from .services import DUMP_FILES, csv_stream, dump_file, geojson_stream, gpkg_temporary, licence, summary_csv

CONTENT_TYPES = {
    "geojson": "application/geo+json",
    "csv": "text/csv; charset=utf-8",
    "gpkg": "application/geopackage+sqlite3",
    "summary": "text/csv; charset=utf-8",
}


def _licensed(response: HttpResponse, filename: str) -> HttpResponse:
    response["Link"] = f'<{settings.OPENDATA_LICENCE_URL}>; rel="license"'
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _bad_filters(exc: FilterInvalid) -> JsonResponse:
    return JsonResponse(exc.errors, status=400)


@require_safe
def opendata_page(request):
    dumps = []
    for key, name in DUMP_FILES.items():
        dumps.append({"key": key, "name": name, "file": dump_file(key)})
    return render(
        request,
        "signalements/opendata/index.html",
        {"licence": licence(), "dumps": dumps, "statuses": Status.choices},
    )


@require_safe
def dictionary_page(request):
    return render(
        request,
        "signalements/opendata/dictionary.html",
        {
            "licence": licence(),
            "fields": EXPORT_FIELDS,
            "summary_fields": SUMMARY_FIELDS,
            "statuses": Status.choices,
        },
    )


def _stamp() -> str:
    return timezone.now().strftime("%Y%m%d")


@require_safe
def export_geojson(request):
    try:
        export_queryset(request.GET)  # the filters, checked before the first byte is sent
    except FilterInvalid as exc:
        return _bad_filters(exc)
    response = StreamingHttpResponse(geojson_stream(request.GET), content_type=CONTENT_TYPES["geojson"])
    return _licensed(response, f"signalements-{_stamp()}.geojson")


@require_safe
def export_csv(request):
    try:
        export_queryset(request.GET)
    except FilterInvalid as exc:
        return _bad_filters(exc)
    response = StreamingHttpResponse(csv_stream(request.GET), content_type=CONTENT_TYPES["csv"])
    return _licensed(response, f"signalements-{_stamp()}.csv")


@require_safe
def export_gpkg(request):
    try:
        handle = gpkg_temporary(request.GET)
    except FilterInvalid as exc:
        return _bad_filters(exc)
    response = FileResponse(handle, content_type=CONTENT_TYPES["gpkg"])
    return _licensed(response, f"signalements-{_stamp()}.gpkg")


@require_safe
def export_summary(request):
    try:
        text = summary_csv(request.GET)
    except FilterInvalid as exc:
        return _bad_filters(exc)
    response = HttpResponse(text, content_type=CONTENT_TYPES["summary"])
    return _licensed(response, f"signalements-quartiers-mois-{_stamp()}.csv")


def _dump_etag(request, key: str) -> str | None:
    found = dump_file(key)
    return found.etag if found else None


def _dump_modified(request, key: str):
    found = dump_file(key)
    return found.modified if found else None


@require_safe
@condition(etag_func=_dump_etag, last_modified_func=_dump_modified)
def dump_download(request, key: str):
    """The latest daily dump at a URL that does not change: harvesters revalidate with
    If-None-Match or If-Modified-Since and get 304 until the next dump."""
    found = dump_file(key)
    if found is None:
        raise Http404("No dump yet")
    response = FileResponse(found.path.open("rb"), content_type=CONTENT_TYPES[key])
    response["Cache-Control"] = "public, max-age=3600"
    return _licensed(response, DUMP_FILES[key])
