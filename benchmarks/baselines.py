"""The public map's baselines served as the map is, so that both sides of a ratio are requests through
the same stack (middleware, filters read once per view, response): the site's URLs plus two that only
the benchmarks mount (ROOT_URLCONF = "benchmarks.baselines").

- the naive GeoJSON: every public report of a box under the map's filters, serialized by
  djangorestframework-gis without paging, as a list endpoint of points would;
- the tile made on the fly by ST_AsMVT from the reports: every public report of the tile as a point
  with its public properties (the SQL of the map's own point tiles), as a tile server over the
  reports table would, without the tables of counts."""

from django.contrib.gis.geos import Polygon
from django.db import connection, transaction
from django.http import HttpResponse
from django.urls import include, path
from django.utils import timezone
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer

from cartography.publicmap import selectors
from cartography.publicmap.filters import STAGE_IN_PROGRESS, STAGE_RESOLVED, STAGES
from cartography.publicmap.views import _filter_query, _tile_filters
from signalements.api.serializers import FEATURE_COLUMNS, SignalementFeatureSerializer

# The naive baseline serializes at most this many features a request: at a million reports a whole
# city through Python would take minutes and gigabytes; its ratio is then a lower bound.
BASELINE_MAX_FEATURES = 200_000


def _filters(request):
    """The map's filters of the request, read as the tiles read them (once per view and process)."""
    filters, errors = _tile_filters(
        selectors.freshness_token(), timezone.localdate().isoformat(), _filter_query(request.GET)
    )
    if errors:
        raise ValueError(errors)
    return filters


class NaiveGeoJSON(ListAPIView):
    serializer_class = SignalementFeatureSerializer
    pagination_class = None
    renderer_classes = [JSONRenderer]
    permission_classes = [AllowAny]
    throttle_classes = []

    def get_queryset(self):
        box = Polygon.from_bbox([float(value) for value in self.request.GET["bbox"].split(",")])
        box.srid = 4326
        rows = selectors.map_list(filters=_filters(self.request), bbox=box)
        return rows.only(*FEATURE_COLUMNS)[:BASELINE_MAX_FEATURES]


def on_the_fly_mvt(z: int, x: int, y: int, filters) -> bytes:
    where, params = selectors._where_common(filters)
    params |= {
        "z": z,
        "x": x,
        "y": y,
        "extent": selectors.EXTENT,
        "buffer": selectors.BUFFER,
        "stage_resolved": list(STAGES[STAGE_RESOLVED]),
        "stage_in_progress": list(STAGES[STAGE_IN_PROGRESS]),
    }
    sql = (
        f"WITH {selectors._SHOWN.format(where=where)} SELECT coalesce(({selectors._POINTS_LAYER}), ''::bytea)"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(selectors.LOCAL_SETTINGS)
        cursor.execute(sql, params)
        return bytes(cursor.fetchone()[0])


def on_the_fly_tile(request, z: int, x: int, y: int):
    return HttpResponse(
        on_the_fly_mvt(z, x, y, _filters(request)), content_type="application/vnd.mapbox-vector-tile"
    )


urlpatterns = [
    path("banc/geojson-naif/", NaiveGeoJSON.as_view()),
    path("banc/tuiles-a-la-volee/<int:z>/<int:x>/<int:y>.pbf", on_the_fly_tile),
    path("", include("config.urls")),
]
