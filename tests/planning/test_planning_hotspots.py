"""Emerging hotspots (cartography.planning.hotspots): each of the 17 class rules on a constructed
series, the statistics against their references, a seeded hotspot recovered and a uniform background
giving none, and the whole analysis on Liège's real districts and grid."""

from datetime import UTC, date, datetime

import numpy as np
import pymannkendall
import pytest
from django.conf import settings
from django.contrib.gis.geos import Point
from django.db import connection

from cartography.planning.grid import DEFAULT_CELL_SIZE_M
from cartography.planning.hotspots import (
    benjamini_hochberg,
    emerging_hotspots,
    gi_star,
    gi_star_esda,
    grid_adjacency,
    hotspot_classify,
    mann_kendall,
)
from cartography.planning.models import AnalysisRun, HotspotClass, HotspotPlace
from cartography.planning.services import analysis_run
from signalements.models import Category, Signalement
from tests.conftest import PLACE_SAINT_LAMBERT

C = HotspotClass
UP, NONE, DOWN = 1, 0, -1
_ = 0
H, K = 1, -1  # hot, cold (K: "kalt")

# One constructed series of ten months per class (90 % is nine months of ten).
CLASS_SERIES = [
    (C.NEW_HOT, [_, _, _, _, _, _, _, _, _, H], NONE),
    (C.CONSECUTIVE_HOT, [_, _, _, _, _, _, _, H, H, H], NONE),
    (C.INTENSIFYING_HOT, [H, H, H, H, H, H, H, H, H, H], UP),
    (C.PERSISTENT_HOT, [_, H, H, H, H, H, H, H, H, H], NONE),
    (C.DIMINISHING_HOT, [H, H, H, H, H, H, H, H, H, H], DOWN),
    (C.SPORADIC_HOT, [_, H, _, _, H, _, _, _, H, _], NONE),
    (C.OSCILLATING_HOT, [K, _, _, H, _, _, _, _, _, H], NONE),
    (C.HISTORICAL_HOT, [H, H, H, H, H, H, H, H, H, _], NONE),
    (C.NEW_COLD, [_, _, _, _, _, _, _, _, _, K], NONE),
    (C.CONSECUTIVE_COLD, [_, _, _, _, _, _, _, _, K, K], NONE),
    (C.INTENSIFYING_COLD, [K, K, K, K, K, K, K, K, K, K], DOWN),
    (C.PERSISTENT_COLD, [K, K, K, K, K, K, K, K, K, K], NONE),
    (C.DIMINISHING_COLD, [K, K, K, K, K, K, K, K, K, K], UP),
    (C.SPORADIC_COLD, [K, _, _, K, _, _, _, _, _, _], NONE),
    (C.OSCILLATING_COLD, [H, _, _, _, _, H, _, _, _, K], NONE),
    (C.HISTORICAL_COLD, [K, K, K, K, K, K, K, K, K, _], UP),
    (C.NO_PATTERN, [_, _, _, _, _, _, _, _, _, _], UP),
]


def test_every_class_has_its_constructed_series():
    assert {expected for expected, _bins, _trend in CLASS_SERIES} == set(HotspotClass)


@pytest.mark.parametrize(
    ("expected", "bins", "trend"), CLASS_SERIES, ids=[c.value for c, _b, _t in CLASS_SERIES]
)
def test_each_class_rule_on_a_constructed_series(expected, bins, trend):
    assert hotspot_classify(bins, trend) == expected


@pytest.mark.parametrize(
    ("bins", "trend", "expected"),
    [
        # Nine hot months of ten is 90 %: persistent, not sporadic; eight is sporadic.
        ([_, H, H, H, H, H, H, H, H, H], NONE, C.PERSISTENT_HOT),
        ([_, _, H, H, H, H, H, H, H, H], NONE, C.CONSECUTIVE_HOT),
        ([H, _, _, H, H, H, H, H, H, H], NONE, C.SPORADIC_HOT),
        # A trend only matters at 90 %: under it, the runs decide.
        ([_, _, _, _, _, _, _, _, _, H], UP, C.NEW_HOT),
        # Hot before the final run: sporadic, not consecutive.
        ([H, _, _, _, _, _, _, H, H, H], NONE, C.SPORADIC_HOT),
        # Hot only in the final month after a cold one: a swing, not news.
        ([K, _, _, _, _, _, _, _, _, H], NONE, C.OSCILLATING_HOT),
        # Hot nine months, cold in the last: the final month's family first.
        ([H, H, H, H, H, H, H, H, H, K], NONE, C.OSCILLATING_COLD),
        # Hot and cold months, the final one neither: no rule describes it.
        ([H, _, _, K, _, _, _, _, _, _], NONE, C.NO_PATTERN),
        # Sporadic hot ending on a hot month after earlier hot ones.
        ([_, H, _, _, _, H, _, _, _, H], NONE, C.SPORADIC_HOT),
        ([], NONE, C.NO_PATTERN),
        ([H], NONE, C.PERSISTENT_HOT),
        ([K], DOWN, C.INTENSIFYING_COLD),
    ],
)
def test_edge_cases_of_the_class_rules(bins, trend, expected):
    assert hotspot_classify(bins, trend) == expected


def test_mann_kendall_matches_pymannkendall_with_ties():
    rng = np.random.default_rng(3)
    series = np.vstack(
        [
            rng.normal(size=24),
            np.arange(24) + rng.normal(scale=3, size=24),
            np.round(rng.normal(size=24)),  # many ties
            -np.arange(24.0),
        ]
    )

    tau, p, direction = mann_kendall(series)

    for i, row in enumerate(series):
        reference = pymannkendall.original_test(row)
        assert p[i] == pytest.approx(reference.p, abs=1e-9)
        assert tau[i] == pytest.approx(reference.Tau, abs=1e-9)
        assert direction[i] == {"increasing": 1, "decreasing": -1, "no trend": 0}[reference.trend]
    assert direction[1] == 1 and direction[3] == -1


def test_benjamini_hochberg_steps_up():
    assert benjamini_hochberg(np.array([0.01, 0.02, 0.03, 0.04, 0.5])).tolist() == [True] * 4 + [False]
    # 0.03 passes its threshold (2/2 × 0.05), so 0.04 ≥ 0.025 is rejected with it.
    assert benjamini_hochberg(np.array([0.04, 0.03])).tolist() == [True, True]
    assert benjamini_hochberg(np.array([0.04, 0.06])).tolist() == [False, False]


def _grid(side: int) -> tuple[np.ndarray, np.ndarray]:
    cells = np.array([(x, y) for x in range(side) for y in range(side)])
    return cells, grid_adjacency(cells[:, 0], cells[:, 1])


def test_gi_star_is_esdas_statistic():
    rng = np.random.default_rng(5)
    cells = np.array([(x, y) for x in range(15) for y in range(15) if rng.random() < 0.7])
    adjacency = grid_adjacency(cells[:, 0], cells[:, 1])
    counts = rng.poisson(0.8, size=(len(cells), 18)).astype(float)

    assert np.allclose(gi_star(counts, adjacency), gi_star_esda(counts, adjacency), atol=1e-9)


def test_grid_adjacency_is_queen_contiguity_among_the_cells_given():
    adjacency = grid_adjacency(np.array([0, 1, 1, 5]), np.array([0, 0, 1, 5])).toarray()

    assert adjacency.tolist() == [[0, 1, 1, 0], [1, 0, 1, 0], [1, 1, 0, 0], [0, 0, 0, 0]]


def test_a_seeded_cluster_is_recovered_as_a_new_hotspot():
    rng = np.random.default_rng(11)
    cells, adjacency = _grid(20)
    counts = rng.poisson(1.0, size=(len(cells), 24)).astype(float)
    cluster = np.nonzero((cells[:, 0] // 2 == 5) & (cells[:, 1] // 2 == 5))[0]  # cells 10-11 × 10-11
    counts[cluster, -4:] += rng.poisson(8, size=(len(cluster), 4))

    result = emerging_hotspots(counts, adjacency)

    assert {result.classes[i] for i in cluster} <= {C.CONSECUTIVE_HOT, C.NEW_HOT}
    hot = {i for i, c in enumerate(result.classes) if c.value.endswith("_hot")}
    assert set(cluster) <= hot
    # Gi* reaches the cluster's neighbours, nothing farther.
    distance = np.abs(cells[:, None, :] - cells[None, cluster, :]).max(axis=2).min(axis=1)
    assert all(distance[i] <= 1 for i in hot)


def test_a_uniform_background_gives_no_hotspot():
    rng = np.random.default_rng(12)
    cells, adjacency = _grid(20)
    counts = rng.poisson(1.0, size=(len(cells), 24)).astype(float)

    result = emerging_hotspots(counts, adjacency)

    assert set(result.classes) == {C.NO_PATTERN}
    assert not result.bins.any()


def test_an_emerging_hotspot_in_liege_is_found_in_its_cell_and_district(liege):
    """Background reports scattered over 1.5 km around Saint-Lambert every month of 2025, and one
    100 m cell with a dozen reports a month from September on."""
    rng = np.random.default_rng(2025)
    category = Category.objects.get(slug="depot-sauvage")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_X(p), ST_Y(p) FROM ST_Transform(ST_SetSRID(ST_MakePoint(%s, %s), 4326), %s) p",
            [*PLACE_SAINT_LAMBERT, settings.METRIC_SRID],
        )
        x0, y0 = cursor.fetchone()
    size = DEFAULT_CELL_SIZE_M
    cell = (int(x0 // size), int(y0 // size))
    points, months = [], []
    for month in range(1, 13):
        for _i in range(50):
            points.append((x0 + rng.uniform(-750, 750), y0 + rng.uniform(-750, 750)))
            months.append(month)
        if month >= 9:
            for _i in range(12):
                points.append(
                    ((cell[0] + rng.uniform(0.1, 0.9)) * size, (cell[1] + rng.uniform(0.1, 0.9)) * size)
                )
                months.append(month)
    # The data cover the whole year, to its last days (window.territory_window).
    points += [(x0 + 500, y0 + 500), (x0 - 500, y0 - 500)]
    days = [int(day) for day in rng.integers(1, 29, size=len(months))] + [2, 30]
    months += [1, 12]
    reports = []
    for (x, y), month, day in zip(points, months, days, strict=True):
        location = Point(x, y, srid=settings.METRIC_SRID)
        location.transform(4326)
        created = datetime(2025, month, day, 12, tzinfo=UTC)
        reports.append(
            Signalement(
                category=category, location=location, territory=liege, created_at=created, channel="web"
            )
        )
    Signalement.objects.bulk_create(reports)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE signalements_signalement s SET district_id = d.id FROM cartography_district d "
            "WHERE d.territory_id = s.territory_id AND d.layer = 'districts' "
            "AND ST_Contains(d.geom, s.location)"
        )

    run = analysis_run(territory=liege, kind="hotspots", now=datetime(2026, 2, 10, tzinfo=UTC))

    assert (
        run.parameters["window"]["start"] == "2025-01-01" and run.parameters["window"]["end"] == "2026-01-01"
    )
    places = HotspotPlace.objects.filter(run=run, category=category)
    seeded = places.get(kind="cell", cell_x=cell[0], cell_y=cell[1])
    assert seeded.hotspot_class == C.CONSECUTIVE_HOT
    assert seeded.bins[-4:] == [1, 1, 1, 1] and not any(seeded.bins[:6])
    assert seeded.count >= 48 and len(seeded.series) == 12 and seeded.first_month == date(2025, 1, 1)
    assert seeded.geom.contains(Point(*seeded.geom.centroid.coords, srid=4326))
    # Every district of both layers has its row; the one holding the cell is hot at the end.
    assert (
        places.filter(kind="district", layer="districts").count()
        == liege.districts.filter(layer="districts").count()
    )
    assert (
        places.filter(kind="district", layer="sectors").count()
        == liege.districts.filter(layer="sectors").count()
    )
    sector = places.get(kind="district", layer="sectors", district__geom__contains=seeded.geom.centroid)
    assert sector.bins[-1] == 1
    # Stored cells are classified ones only; a rerun replaces them.
    assert not places.filter(kind="cell", hotspot_class=C.NO_PATTERN).exists()
    again = analysis_run(territory=liege, kind="hotspots", now=datetime(2026, 2, 10, tzinfo=UTC))
    assert not HotspotPlace.objects.filter(run=run).exists()
    assert HotspotPlace.objects.filter(run=again).count() == again.rows == run.rows
    assert AnalysisRun.objects.filter(territory=liege, kind="hotspots").count() == 2


def test_district_counts_from_the_volumes_equal_those_from_the_reports(liege):
    from cartography.planning.hotspots import _district_counts, _volumes_cover
    from cartography.planning.window import Window

    rng = np.random.default_rng(4)
    categories = list(Category.objects.filter(slug__in=["dechets", "nid-de-poule"]))
    reports = [
        Signalement(
            category=categories[i % 2],
            location=Point(
                PLACE_SAINT_LAMBERT[0] + rng.uniform(-0.02, 0.02),
                PLACE_SAINT_LAMBERT[1] + rng.uniform(-0.01, 0.01),
                srid=4326,
            ),
            territory=liege,
            created_at=datetime(2025, 1 + i % 3, 1 + i % 28, 12, tzinfo=UTC),
            channel="web",
            status="duplicate" if i % 7 == 0 else "new",
        )
        for i in range(90)
    ]
    Signalement.objects.bulk_create(reports)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE signalements_signalement s SET district_id = d.id FROM cartography_district d "
            "WHERE d.territory_id = s.territory_id AND d.layer = 'districts' "
            "AND ST_Contains(d.geom, s.location)"
        )
    now = datetime(2025, 4, 10, tzinfo=UTC)
    window = Window(date(2025, 1, 1), date(2025, 4, 1))
    with connection.cursor() as cursor:
        direct = {
            layer: _district_counts(cursor, territory=liege, window=window, layer=layer)
            for layer in ("districts", "sectors")
        }
    assert not _volumes_cover(territory=liege, window=window)
    analysis_run(territory=liege, kind="volumes", now=now)
    assert _volumes_cover(territory=liege, window=window)
    with connection.cursor() as cursor:
        from_volumes = {
            layer: _district_counts(cursor, territory=liege, window=window, layer=layer)
            for layer in ("districts", "sectors")
        }

    for layer in ("districts", "sectors"):
        assert sorted(map(tuple, direct[layer].tolist())) == sorted(map(tuple, from_volumes[layer].tolist()))
        assert direct[layer][:, 3].sum() == 90 - 13  # 13 duplicates (i = 0, 7, …, 84)
