"""Locate one report: one probe of the locate cells (LOCATE_CELL_SQL, what locate() runs), and the rules
on the subdivided tables (LOCATE_SQL, its fallback), against the same rules on the whole polygons."""

import numpy as np
from django.db import connection

from cartography.selectors import LOCATE_CELL_SQL, LOCATE_SQL, cells_answer, cells_fresh, locate
from signalements.models import Category

from .data import random_points, territory_get
from .measure import Figure, Report, Stopwatch, Target, explain_ms, percentiles

TARGET_MS = 0.1
WARM_UP = 50

# LOCATE_SQL's rules (cartography.selectors) written against the original polygons, each a few
# thousand vertices: the GiST index finds the candidate polygons, then the exact test walks them whole.
# Zones are ranked by planar area (the same order within a city): the subdivided tables store the
# geodesic area, and computing it here would charge the baseline for more than the subdivision.
WHOLE_POLYGONS_LOCATE_SQL = """
WITH pt AS (SELECT ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) AS geom),
terr AS (SELECT (SELECT t.id FROM cartography_territory t WHERE ST_Intersects(t.geom, pt.geom)
                  ORDER BY t.id LIMIT 1) AS id FROM pt)
SELECT terr.id,
       (SELECT d.id
          FROM cartography_district d
          JOIN cartography_territory t ON t.id = d.territory_id AND t.locating_layer = d.layer
         WHERE d.territory_id = terr.id AND ST_Intersects(d.geom, pt.geom)
         ORDER BY d.id LIMIT 1),
       COALESCE(
        (SELECT wz.team_id
           FROM cartography_workzone wz
           JOIN cartography_team team ON team.id = wz.team_id AND team.is_active
           LEFT JOIN cartography_workzone_categories wc
                  ON wc.workzone_id = wz.id AND wc.category_id = %(category_id)s
          WHERE ST_Intersects(wz.geom, pt.geom)
            AND (wc.id IS NOT NULL OR NOT EXISTS (
                    SELECT 1 FROM cartography_workzone_categories any_wc WHERE any_wc.workzone_id = wz.id))
          ORDER BY (wc.id IS NULL), wz.priority DESC, ST_Area(wz.geom), wz.id
          LIMIT 1),
        (SELECT c.default_team_id
           FROM signalements_category c
           JOIN cartography_team team ON team.id = c.default_team_id AND team.is_active
                AND (team.territory_id IS NULL OR team.territory_id = terr.id)
          WHERE c.id = %(category_id)s))
FROM pt, terr
WHERE terr.id IS NOT NULL
"""


def run(*, points: int, seed: int) -> Report:
    territory = territory_get()
    rng = np.random.default_rng(seed)
    categories = list(Category.objects.filter(is_active=True).values_list("id", flat=True))
    queries = [
        {"lon": lon, "lat": lat, "category_id": int(rng.choice(categories))}
        for lon, lat in random_points(territory, points, seed=seed)
    ]
    cells: dict[str, list[float]] = {"execution": [], "planning": [], "round_trip": []}
    subdivided: dict[str, list[float]] = {"execution": [], "planning": []}
    whole: dict[str, list[float]] = {"execution": [], "planning": [], "round_trip": []}
    disagreements = fallbacks = 0
    with connection.cursor() as cursor:
        stale = not cells_fresh(cursor)
        for params in queries[:WARM_UP]:
            for sql in (LOCATE_CELL_SQL, LOCATE_SQL, WHOLE_POLYGONS_LOCATE_SQL):
                cursor.execute(sql, params)
        for params in queries:  # side by side, point by point, so all see the same cache
            for sql, times in (
                (LOCATE_CELL_SQL, cells),
                (LOCATE_SQL, subdivided),
                (WHOLE_POLYGONS_LOCATE_SQL, whole),
            ):
                execution, planning = explain_ms(cursor, sql, params)
                times["execution"].append(execution)
                times["planning"].append(planning)
            fallbacks += cells_answer(cursor, params) is False
        for params in queries:
            with Stopwatch() as watch:
                located = locate(**params)
            cells["round_trip"].append(watch.seconds * 1000)
            with Stopwatch() as watch:
                cursor.execute(WHOLE_POLYGONS_LOCATE_SQL, params)
                row = cursor.fetchone()
            whole["round_trip"].append(watch.seconds * 1000)
            mine = None if located is None else (located.territory_id, located.district_id, located.team_id)
            disagreements += mine != row

    report = Report("locate")
    measures = (
        (cells, "execution", "DB execution, one probe of the cells", "DB execution"),
        (subdivided, "execution", "DB execution, the rules on the parts (fallback)", "DB execution"),
        (cells, "round_trip", "Python round trip, locate()", "Python round trip"),
    )
    for times, key, label, baseline_label in measures:
        for rank, mine, theirs in zip(
            ("p50", "p95"), percentiles(times[key]), percentiles(whole[key]), strict=True
        ):
            report.figures.append(
                Figure(
                    f"locate, {label} {rank}",
                    mine,
                    "ms",
                    baseline=f"whole polygons, {baseline_label} {rank}",
                    baseline_value=theirs,
                    target=Target(TARGET_MS) if times is cells and key == "execution" else None,
                )
            )
    report.details = {
        "points": points,
        "planning_ms_p50_p95": {
            "cells": percentiles(cells["planning"]),
            "subdivided": percentiles(subdivided["planning"]),
            "whole_polygons": percentiles(whole["planning"]),
        },
        "disagreements": disagreements,
        "fallbacks_to_the_rules": fallbacks,
        "cells_stale": stale,
    }
    planning = report.details["planning_ms_p50_p95"]
    report.notes = [
        f"{points:,} random points inside {territory.name}, random active categories; DB times from "
        "EXPLAIN (ANALYZE, TIMING OFF), planning apart (p50 "
        f"{planning['cells'][0]:.3f} ms cells, {planning['subdivided'][0]:.3f} ms parts, "
        f"{planning['whole_polygons'][0]:.3f} ms whole).",
        f"locate() and the whole-polygon rules agree on territory, district and team for "
        f"{points - disagreements:,} of {points:,} points; the cells could not answer alone for "
        f"{fallbacks:,} (the rules did){' — THE CELLS WERE STALE' if stale else ''}.",
    ]
    return report
