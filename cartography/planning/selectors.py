"""The planners' reads of the precomputed analyses: one selection (territory, district layer,
category or group, season, years) and what the page, the API, the exports, the folium report and the
notebooks show for it.

Each analysis table holds the rows of its last run per territory (the jobs rewrite it whole), so the
reads filter by territory, never by run."""

import warnings
from dataclasses import dataclass, field
from datetime import date

import mapclassify
import numpy as np
from django.contrib.gis.db.models.functions import AsGeoJSON
from django.db.models import Count, Max, Q, QuerySet, Sum

from cartography.models import District, Territory
from signalements.models import Category, CategoryGroup

from .legend import CHOROPLETH_COLOURS, NO_DATA_COLOUR
from .models import (
    AnalysisRun,
    DistrictVolume,
    EarlyWarningCluster,
    HotspotClass,
    HotspotPlace,
    PlaceKind,
    RecurringPlace,
    Season,
)
from .window import Window

MEASURES = ("per_km2", "per_1000", "count")
CHOROPLETH_CLASSES = 5
# GeoJSON coordinates to 6 decimals: about 10 cm, and a third less to send than 15.
PRECISION = 6


@dataclass(frozen=True)
class Selection:
    territory: Territory
    layer: str
    season: str
    years: tuple[int, ...]
    group: CategoryGroup | None = None
    category: Category | None = None
    measure: str = "per_km2"

    @property
    def reference_year(self) -> int | None:
        """The year the table and the choropleth show: the latest one selected."""
        return max(self.years) if self.years else None


def seasons_of_date(day: date) -> tuple[str, int]:
    """The meteorological season of `day` and its year (a winter is the year of its January)."""
    month = day.month
    if month == 12:
        return Season.WINTER, day.year + 1
    if month <= 2:
        return Season.WINTER, day.year
    if month <= 5:
        return Season.SPRING, day.year
    if month <= 8:
        return Season.SUMMER, day.year
    return Season.AUTUMN, day.year


# --- runs -------------------------------------------------------------------------------------


def latest_runs(territory: Territory) -> dict[str, AnalysisRun]:
    """The last finished run of each analysis over the territory, by kind."""
    runs = {}
    for run in AnalysisRun.objects.filter(territory=territory, finished_at__isnull=False).order_by(
        "kind", "-finished_at"
    ):
        runs.setdefault(run.kind, run)
    return runs


def _season_totals(territory: Territory, layer: str) -> QuerySet[DistrictVolume]:
    """The layer's seasons, every category's totals: a row for every season with a report, read in
    order from the (layer, period, category, group, period_start) index."""
    return DistrictVolume.objects.filter(
        district__territory=territory,
        layer=layer,
        period=DistrictVolume.Period.SEASON,
        category__isnull=True,
        group__isnull=True,
    )


def available_years(territory: Territory, layer: str) -> list[int]:
    """The years the volumes cover: from the first season's to the last one's. Two index scans that
    stop at the first row (a DISTINCT over the whole table read every row, 170 ms at 270,000 rows)."""
    rows = _season_totals(territory, layer)
    first = rows.order_by("period_start").values_list("year", flat=True).first()
    last = rows.order_by("-period_start").values_list("year", flat=True).first()
    return [] if first is None else list(range(first, last + 1))


def default_season(territory: Territory, layer: str) -> str:
    """The season of the latest volumes, or today's."""
    latest = (
        _season_totals(territory, layer).order_by("-period_start").values_list("season", flat=True).first()
    )
    return latest or seasons_of_date(date.today())[0]


def district_layers(territory: Territory) -> list[str]:
    return list(
        District.objects.filter(territory=territory)
        .order_by("layer")
        .values_list("layer", flat=True)
        .distinct()
    )


# --- volumes ----------------------------------------------------------------------------------


def _volume_scope(selection: Selection) -> Q:
    """A category's rows, a group's totals, or every category's totals."""
    if selection.category is not None:
        return Q(category=selection.category)
    if selection.group is not None:
        return Q(group=selection.group, category__isnull=True)
    return Q(group__isnull=True, category__isnull=True)


def season_start(season: str, year: int) -> date:
    """The first day of a season of a year (a winter starts in December of the year before)."""
    if season == Season.WINTER:
        return date(year - 1, 12, 1)
    return date(year, {Season.SPRING: 3, Season.SUMMER: 6, Season.AUTUMN: 9}[season], 1)


def volumes(selection: Selection) -> QuerySet[DistrictVolume]:
    """The season's rows of each district of the layer, for the selected years."""
    return (
        DistrictVolume.objects.filter(
            _volume_scope(selection),
            district__territory=selection.territory,
            layer=selection.layer,
            period=DistrictVolume.Period.SEASON,
            # The season's first days: exact lookups in the (layer, period, period_start) index.
            period_start__in=[season_start(selection.season, year) for year in selection.years],
            season=selection.season,
        )
        .select_related("district", "category", "group")
        .defer("district__geom")  # names and codes only: a boundary per row is heavy
        .order_by("district__name", "district__code", "year")
    )


@dataclass
class DistrictRow:
    """One district in the table and the choropleth: its volume for the reference year, or zero."""

    district_id: int
    code: str
    name: str
    population: int | None
    volume: DistrictVolume | None
    value: float | None = None
    klass: int | None = None

    @property
    def count(self) -> int:
        return self.volume.count if self.volume else 0

    @property
    def per_km2(self) -> float:
        return self.volume.per_km2 if self.volume else 0.0

    @property
    def per_1000_residents(self) -> float | None:
        if self.volume:
            return self.volume.per_1000_residents
        return 0.0 if self.population else None

    def measure(self, name: str) -> float | None:
        return {"per_km2": self.per_km2, "per_1000": self.per_1000_residents, "count": self.count}[name]


@dataclass
class Choropleth:
    rows: list[DistrictRow]
    bins: list[float] = field(default_factory=list)
    colours: list[str] = field(default_factory=list)
    method: str = ""

    def legend(self) -> list[dict]:
        """Each class with its bounds (the first from the smallest value) and colour."""
        values = [row.value for row in self.rows if row.value is not None]
        lower = min(values) if values else 0
        entries = []
        for upper, colour in zip(self.bins, self.colours, strict=True):
            entries.append(
                {
                    "lower": round(lower, 2),
                    "upper": round(upper, 2),
                    "colour": colour,
                    "css": f"cp-{CHOROPLETH_COLOURS.index(colour)}",
                }
            )
            lower = upper
        return entries


def district_rows(selection: Selection) -> Choropleth:
    """Every district of the layer with its volume of the reference year, classed for the map:
    Fisher-Jenks natural breaks in up to five classes of the selected measure (fewer when there are
    fewer distinct values)."""
    by_district = {}
    if selection.reference_year is not None:
        for volume in volumes(selection).filter(year=selection.reference_year):
            by_district[volume.district_id] = volume
    districts = (
        District.objects.filter(territory=selection.territory, layer=selection.layer)
        .only("pk", "code", "name", "population")
        .order_by("name", "code")
    )
    rows = [
        DistrictRow(
            district_id=d.pk,
            code=d.code,
            name=d.name,
            population=d.population,
            volume=by_district.get(d.pk),
        )
        for d in districts
    ]
    for row in rows:
        row.value = row.measure(selection.measure)
    return _classify(rows)


def _classify(rows: list[DistrictRow]) -> Choropleth:
    values = np.array([row.value for row in rows if row.value is not None], dtype=float)
    if values.size == 0:
        return Choropleth(rows=rows)
    distinct = np.unique(values).size
    k = min(CHOROPLETH_CLASSES, distinct)
    if k < 2:
        bins, method = [float(values.max())], "single"
    else:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Numba not installed")  # pure Python suffices here
            classifier = mapclassify.FisherJenks(values, k=k)
        bins, method = [float(b) for b in classifier.bins], "fisher_jenks"
    colours = CHOROPLETH_COLOURS[-len(bins) :] if len(bins) < 3 else _spread(len(bins))
    for row in rows:
        if row.value is not None:
            row.klass = next(i for i, upper in enumerate(bins) if row.value <= upper + 1e-9)
    return Choropleth(rows=rows, bins=bins, colours=colours, method=method)


def _spread(n: int) -> list[str]:
    """n colours of the palette, from the lightest to the darkest."""
    if n >= len(CHOROPLETH_COLOURS):
        return list(CHOROPLETH_COLOURS)
    step = (len(CHOROPLETH_COLOURS) - 1) / (n - 1)
    return [CHOROPLETH_COLOURS[round(i * step)] for i in range(n)]


def choropleth_geojson(selection: Selection, choropleth: Choropleth | None = None) -> dict:
    """The districts of the layer as GeoJSON, each with its figures, class and colour."""
    choropleth = choropleth or district_rows(selection)
    geometries = dict(
        District.objects.filter(territory=selection.territory, layer=selection.layer)
        .annotate(json=AsGeoJSON("geom", precision=PRECISION))
        .values_list("pk", "json")
    )
    features = []
    for row in choropleth.rows:
        features.append(
            {
                "type": "Feature",
                "id": row.code,
                "geometry": _raw(geometries[row.district_id]),
                "properties": {
                    "code": row.code,
                    "name": row.name,
                    "year": selection.reference_year,
                    "season": selection.season,
                    "count": row.count,
                    "per_km2": _round(row.per_km2),
                    "per_1000_residents": _round(row.per_1000_residents),
                    "change_vs_previous_year": _round(
                        row.volume.change_vs_previous_year if row.volume else None
                    ),
                    "value": _round(row.value),
                    "class": row.klass,
                    "colour": choropleth.colours[row.klass] if row.klass is not None else NO_DATA_COLOUR,
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


class _RawJSON(str):
    """GeoJSON already serialised by PostGIS, spliced as is (see exports.dumps)."""


def _raw(text: str) -> _RawJSON:
    return _RawJSON(text)


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def volumes_window(run: AnalysisRun | None) -> Window | None:
    """The months a volumes run covered (None without a run, or for a run without one)."""
    parameters = run.parameters if run is not None else None
    return Window.from_json(parameters["window"]) if parameters and "window" in parameters else None


def monthly_series(selection: Selection, window: Window | None) -> dict[int, list[int | None]]:
    """Reports per month of the layer's districts (12 values a year), for each selected year. A month
    outside `window`, the months the last volumes run covered (the current one, those to come, those
    before the data), is None, not 0: a chart would draw it as a fall to nothing."""
    series = {
        year: [
            0 if window is None or window.start <= date(year, month, 1) < window.end else None
            for month in range(1, 13)
        ]
        for year in selection.years
    }
    if not selection.years:
        return series
    rows = (
        DistrictVolume.objects.filter(
            _volume_scope(selection),
            district__territory=selection.territory,
            layer=selection.layer,
            period=DistrictVolume.Period.MONTH,
            # A range of the index's last column (an extracted year is not indexed).
            period_start__gte=date(min(selection.years), 1, 1),
            period_start__lt=date(max(selection.years) + 1, 1, 1),
        )
        .values("period_start")
        .annotate(total=Sum("count"))
    )
    for row in rows:
        start = row["period_start"]
        if start.year in series:
            series[start.year][start.month - 1] = row["total"]
    return series


# --- hotspots, recurring places, early warning ------------------------------------------------


def _category_scope(selection: Selection) -> Q:
    if selection.category is not None:
        return Q(category=selection.category)
    if selection.group is not None:
        return Q(category__group=selection.group)
    return Q()


def hotspots(
    selection: Selection, *, kind: str = PlaceKind.CELL, significant_only: bool = False
) -> QuerySet[HotspotPlace]:
    """The places' hotspot classes for the selected categories. District places are those of the
    selected layer. `significant_only` leaves out the places with no pattern (the map's background)."""
    queryset = HotspotPlace.objects.filter(
        _category_scope(selection), run__territory=selection.territory, kind=kind
    )
    if kind == PlaceKind.DISTRICT:
        queryset = queryset.filter(layer=selection.layer)
    if significant_only:
        queryset = queryset.exclude(hotspot_class=HotspotClass.NO_PATTERN)
    return (
        queryset.select_related("category", "district")
        .defer("district__geom")
        .order_by("category__slug", "hotspot_class", "pk")
    )


def hotspot_class_counts(selection: Selection) -> list[dict]:
    """How many cells and districts fall in each of the 17 classes."""
    counts = {
        (row["kind"], row["hotspot_class"]): row["n"]
        for row in HotspotPlace.objects.filter(_category_scope(selection), run__territory=selection.territory)
        .filter(Q(kind=PlaceKind.CELL) | Q(kind=PlaceKind.DISTRICT, layer=selection.layer))
        .values("kind", "hotspot_class")
        .annotate(n=Count("pk"))
    }
    return [
        {
            "value": value,
            "label": str(label),
            "cells": counts.get((PlaceKind.CELL, value), 0),
            "districts": counts.get((PlaceKind.DISTRICT, value), 0),
        }
        for value, label in HotspotClass.choices
    ]


def recurring_places(selection: Selection) -> QuerySet[RecurringPlace]:
    """The season's places that come back, best ranked first."""
    return (
        RecurringPlace.objects.filter(
            _category_scope(selection), run__territory=selection.territory, season=selection.season
        )
        .select_related("category", "district")
        .defer("district__geom")
        .order_by("rank", "category__slug", "pk")
    )


def clusters(selection: Selection) -> QuerySet[EarlyWarningCluster]:
    """The early-warning clusters of the last weekly scan, most significant first."""
    return (
        EarlyWarningCluster.objects.filter(_category_scope(selection), run__territory=selection.territory)
        .select_related("category", "district")
        .defer("district__geom")
        .order_by("p_value", "-log_likelihood_ratio", "pk")
    )


def has_any_analysis(territory: Territory) -> bool:
    return (
        AnalysisRun.objects.filter(territory=territory).exists()
        or DistrictVolume.objects.filter(district__territory=territory).exists()
    )


def last_computed_at(territory: Territory):
    return AnalysisRun.objects.filter(territory=territory).aggregate(at=Max("finished_at"))["at"]
