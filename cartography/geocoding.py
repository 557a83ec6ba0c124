"""Finding places by name and naming places. A local geocoder searches the Place table; another
backend (Nominatim-compatible) may be set with GEOCODER_BACKEND."""

import json
import logging
import math
import re
import unicodedata
import urllib.parse
import urllib.request
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.contrib.gis.db.models import Extent
from django.contrib.gis.db.models.functions import Distance
from django.contrib.gis.geos import Point
from django.contrib.gis.measure import D
from django.contrib.postgres.search import TrigramWordSimilarity
from django.db.models import BooleanField, Case, ExpressionWrapper, Q, When
from django.utils.module_loading import import_string

from .models import District, Place, Territory

logger = logging.getLogger(__name__)
REVERSE_RADIUS_M = 150


@dataclass(frozen=True)
class GeocodeResult:
    label: str
    lon: float
    lat: float
    kind: str
    territory: str = ""


def normalize(text: str) -> str:
    """Lower case, no accents, single spaces: "Rue Féronstrée" -> "rue feronstree"."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", " ", plain).strip()


def street_of(address: str) -> str:
    """The street part of an address: "26 Rue de la Lune, 75002 PARIS" -> "Rue de la Lune"."""
    street = address.split(",")[0].lstrip(" -–.")
    street = re.sub(r"^\d+\s*(bis|ter|[a-z])?\b[\s,]*", "", street, flags=re.IGNORECASE)
    return street.strip()


def house_number_of(address: str) -> str:
    """The house number of an address, before or after the street: "12 rue X" or "Rue X 12b"."""
    first = address.split(",")[0].strip()
    match = re.match(r"^(\d+\s*(?:bis|ter|[a-z])?)\b", first, flags=re.IGNORECASE) or re.search(
        r"\s(\d+\s*(?:bis|ter|[a-z])?)$", first, flags=re.IGNORECASE
    )
    return match.group(1).strip() if match else ""


class LocalGeocoder:
    """Trigram search over the streets, places and districts loaded for each territory."""

    def search(self, query: str, *, territory: str | None = None, limit: int = 8) -> list[GeocodeResult]:
        street = street_of(query) or query
        wanted = normalize(street)
        if len(wanted) < 2:
            return []
        # Accents, case, apostrophes and hyphens are dropped on both sides (normalize), so
        # "boulevard d'Avroy" finds "Boulevard d’Avroy"; the label shown is the place's own name.
        places = (
            Place.objects.exclude(kind=Place.Kind.ADDRESS)
            .annotate(
                similarity=TrigramWordSimilarity(wanted, "search_name"),
                exact=ExpressionWrapper(Q(search_name=wanted), output_field=BooleanField()),
                rank=Case(
                    When(kind=Place.Kind.STREET, then=0), When(kind=Place.Kind.PLACE, then=1), default=2
                ),
            )
            .filter(similarity__gte=0.5)
        )
        addresses = Place.objects.none()
        number = house_number_of(query)
        if number:
            # House numbers are only found exactly: "12 boulevard d'Avroy" or "Boulevard d'Avroy 12".
            bare = normalize(re.sub(rf"(^|\s){re.escape(number)}(\s|$)", " ", street, count=1))
            addresses = Place.objects.filter(
                kind=Place.Kind.ADDRESS, search_name__startswith=f"{bare} {normalize(number)}"
            )
        if territory:
            places = places.filter(territory__slug=territory)
            addresses = addresses.filter(territory__slug=territory)
        found = [*addresses.select_related("territory").order_by("name")[:limit]]
        found += places.select_related("territory").order_by("-exact", "-similarity", "rank", "name")[
            : limit - len(found)
        ]
        return [
            GeocodeResult(label=p.name, lon=p.point.x, lat=p.point.y, kind=p.kind, territory=p.territory.slug)
            for p in found
        ]

    def reverse(self, *, lon: float, lat: float) -> str:
        here = Point(lon, lat, srid=4326)
        # The index prefilter works in degrees (a degree of longitude is the shorter one); the
        # exact test is then on the spheroid, in metres.
        degrees = REVERSE_RADIUS_M / (111_320 * max(math.cos(math.radians(lat)), 0.01))
        nearest = (
            Place.objects.exclude(kind=Place.Kind.DISTRICT)
            .filter(point__dwithin=(here, degrees))
            .annotate(distance=Distance("point", here))
            .filter(distance__lte=D(m=REVERSE_RADIUS_M))
            .order_by("distance")
            .first()
        )
        if nearest is not None:
            return nearest.name
        district = (
            District.objects.filter(geom__contains=here, layer__in=Territory.objects.values("locating_layer"))
            .only("name")
            .first()
        )
        return district.name if district else ""


class NominatimGeocoder:
    """Any Nominatim-compatible service (GEOCODER_URL), limited to the territories' extent."""

    def __init__(self, base_url: str | None = None, timeout: float = 3.0):
        self.base_url = (base_url or settings.GEOCODER_URL).rstrip("/")
        self.timeout = timeout

    def _get(self, path: str, params: dict) -> object:
        url = f"{self.base_url}/{path}?{urllib.parse.urlencode(params)}"
        request = urllib.request.Request(url, headers={"User-Agent": settings.GEOCODER_USER_AGENT})
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - URL from settings
            return json.load(response)

    def search(self, query: str, *, territory: str | None = None, limit: int = 8) -> list[GeocodeResult]:
        extent = Territory.objects.aggregate(extent=Extent("geom"))["extent"]
        params = {"q": query, "format": "jsonv2", "limit": limit}
        if extent:
            params |= {"viewbox": ",".join(map(str, extent)), "bounded": 1}
        try:
            rows = self._get("search", params)
        except OSError:
            logger.warning("geocoder unreachable", exc_info=True)
            return []
        return [
            GeocodeResult(label=r["display_name"], lon=float(r["lon"]), lat=float(r["lat"]), kind="place")
            for r in rows
        ]

    def reverse(self, *, lon: float, lat: float) -> str:
        try:
            row = self._get("reverse", {"lon": lon, "lat": lat, "format": "jsonv2"})
        except OSError:
            return LocalGeocoder().reverse(lon=lon, lat=lat)
        return row.get("display_name", "") if isinstance(row, dict) else ""


@cache
def get_geocoder():
    return import_string(settings.GEOCODER_BACKEND)()
