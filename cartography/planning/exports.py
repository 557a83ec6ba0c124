"""The planners' tables as CSV and layers as GeoJSON, for one selection. Geometries come from
PostGIS already serialised (ST_AsGeoJSON) and are spliced into the output, never parsed in Python."""

import csv
import io
import json
from collections.abc import Iterable

from django.contrib.gis.db.models.functions import AsGeoJSON

from . import selectors
from .legend import HOTSPOT_STYLES
from .models import VOLUME_FIGURES, HotspotClass, PlaceKind
from .selectors import PRECISION, Selection

TABLES = ("volumes", "classes", "hotspots", "recurring", "clusters")
LAYERS = ("districts", "hotspots", "recurring", "clusters")


def _share(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def table_rows(selection: Selection, table: str) -> tuple[list[str], Iterable[list]]:
    """The header and rows of one of TABLES."""
    if table == "volumes":
        header = [
            "district_code",
            "district",
            "layer",
            "category",
            "group",
            "season",
            "year",
            *VOLUME_FIGURES,
        ]
        rows = (
            [
                v.district.code,
                v.district.name,
                v.layer,
                v.category.slug if v.category else "",
                v.group.slug if v.group else "",
                v.season,
                v.year,
                v.count,
                round(v.per_km2, 3),
                "" if v.per_1000_residents is None else round(v.per_1000_residents, 3),
                "" if v.previous_year_count is None else v.previous_year_count,
                "" if v.change_vs_previous_year is None else round(v.change_vs_previous_year, 4),
                "" if v.median_days_to_resolve is None else round(v.median_days_to_resolve, 2),
                "" if v.share_resolved_in_time is None else _share(v.share_resolved_in_time),
                "" if v.share_duplicates is None else _share(v.share_duplicates),
            ]
            for v in selectors.volumes(selection)
        )
        return header, rows
    if table == "classes":
        header = ["hotspot_class", "label", "cells", "districts"]
        counts = selectors.hotspot_class_counts(selection)
        rows = ([c["value"], c["label"], c["cells"], c["districts"]] for c in counts)
        return header, rows
    if table == "hotspots":
        header = [
            "kind",
            "category",
            "hotspot_class",
            "district_code",
            "cell_x",
            "cell_y",
            "cell_size_m",
            "first_month",
            "months",
            "count",
            "trend_tau",
            "trend_p",
        ]
        rows = (
            [
                h.kind,
                h.category.slug,
                h.hotspot_class,
                h.district.code if h.district else "",
                _blank(h.cell_x),
                _blank(h.cell_y),
                _blank(h.cell_size_m),
                h.first_month.isoformat(),
                len(h.bins),
                h.count,
                _blank(h.trend_tau),
                _blank(h.trend_p),
            ]
            for kind in (PlaceKind.DISTRICT, PlaceKind.CELL)
            for h in selectors.hotspots(selection, kind=kind).defer("geom", "series")
        )
        return header, rows
    if table == "recurring":
        header = [
            "rank",
            "category",
            "season",
            "district_code",
            "district",
            "cell_x",
            "cell_y",
            "cell_size_m",
            "score",
            "years_hot",
            "years_observed",
            "reports",
            "usual_first_week",
            "action_week_from",
            "action_week_to",
        ]
        rows = (
            [
                r.rank,
                r.category.slug,
                r.season,
                r.district.code if r.district else "",
                r.district.name if r.district else "",
                r.cell_x,
                r.cell_y,
                r.cell_size_m,
                round(r.score, 4),
                " ".join(str(y) for y in r.years_hot),
                r.years_observed,
                r.reports,
                r.usual_first_week,
                r.action_week_from,
                r.action_week_to,
            ]
            for r in selectors.recurring_places(selection).defer("geom")
        )
        return header, rows
    if table == "clusters":
        header = [
            "category",
            "district_code",
            "district",
            "longitude",
            "latitude",
            "radius_m",
            "start_date",
            "end_date",
            "observed",
            "expected",
            "log_likelihood_ratio",
            "p_value",
        ]
        rows = (
            [
                c.category.slug,
                c.district.code if c.district else "",
                c.district.name if c.district else "",
                round(c.centre.x, PRECISION),
                round(c.centre.y, PRECISION),
                round(c.radius_m, 1),
                c.start_date.isoformat(),
                c.end_date.isoformat(),
                c.observed,
                round(c.expected, 3),
                round(c.log_likelihood_ratio, 3),
                round(c.p_value, 4),
            ]
            for c in selectors.clusters(selection)
        )
        return header, rows
    raise ValueError(table)


def _blank(value):
    return "" if value is None else value


def table_csv(selection: Selection, table: str) -> str:
    header, rows = table_rows(selection, table)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def _collection(features: Iterable[tuple[str, dict, object]]) -> str:
    """A FeatureCollection from (geometry as GeoJSON text, properties, id) triples."""
    parts = []
    for geometry, properties, ident in features:
        properties_json = json.dumps(properties, ensure_ascii=False)
        parts.append(
            f'{{"type":"Feature","id":{json.dumps(ident)},"geometry":{geometry or "null"},'
            f'"properties":{properties_json}}}'
        )
    return '{"type":"FeatureCollection","features":[' + ",".join(parts) + "]}"


def layer_geojson(selection: Selection, layer: str) -> str:
    """One of LAYERS as GeoJSON text."""
    if layer == "districts":
        collection = selectors.choropleth_geojson(selection)
        return _collection(
            (feature["geometry"], feature["properties"], feature["id"]) for feature in collection["features"]
        )
    if layer == "hotspots":
        # Plain rows, not model instances: a map of every category's cells is thousands of them.
        places = (
            selectors.hotspots(selection, kind=PlaceKind.CELL, significant_only=True)
            .annotate(json=AsGeoJSON("geom", precision=PRECISION))
            .values_list(
                "pk",
                "json",
                "category__slug",
                "category__name",
                "hotspot_class",
                "district__name",
                "cell_x",
                "cell_y",
                "count",
                "trend_tau",
                "trend_p",
            )
        )
        labels = {value: str(label) for value, label in HotspotClass.choices}
        return _collection(
            (
                geometry,
                {
                    "category": slug,
                    "category_name": name,
                    "hotspot_class": hotspot_class,
                    "label": labels[hotspot_class],
                    "colour": HOTSPOT_STYLES[hotspot_class].colour,
                    "district": district,
                    "cell_x": cell_x,
                    "cell_y": cell_y,
                    "count": count,
                    "trend_tau": tau,
                    "trend_p": p,
                },
                pk,
            )
            for pk, geometry, slug, name, hotspot_class, district, cell_x, cell_y, count, tau, p in places
        )
    if layer == "recurring":
        places = selectors.recurring_places(selection).annotate(json=AsGeoJSON("geom", precision=PRECISION))
        return _collection(
            (
                r.json,
                {
                    "rank": r.rank,
                    "category": r.category.slug,
                    "category_name": r.category.name,
                    "season": r.season,
                    "district": r.district.name if r.district else None,
                    "years_hot": list(r.years_hot),
                    "years_observed": r.years_observed,
                    "reports": r.reports,
                    "score": r.score,
                    "usual_first_week": r.usual_first_week,
                    "action_week_from": r.action_week_from,
                    "action_week_to": r.action_week_to,
                },
                r.pk,
            )
            for r in places.defer("geom")
        )
    if layer == "clusters":
        found = selectors.clusters(selection).annotate(json=AsGeoJSON("centre", precision=PRECISION))
        return _collection(
            (
                c.json,
                {
                    "category": c.category.slug,
                    "category_name": c.category.name,
                    "district": c.district.name if c.district else None,
                    "radius_m": c.radius_m,
                    "start_date": c.start_date.isoformat(),
                    "end_date": c.end_date.isoformat(),
                    "observed": c.observed,
                    "expected": c.expected,
                    "p_value": c.p_value,
                },
                c.pk,
            )
            for c in found.defer("centre")
        )
    raise ValueError(layer)
