"""Emerging hotspots, after ArcGIS Pro's Emerging Hot Spot Analysis (EHSA), per category over the
months of a window, for two kinds of places: the districts of every layer, and the cells of the
~100 m grid (`grid`) that hold at least one report of the category in the window.

1. The space-time cube: reports (duplicates left out: one problem is counted once) per place × month.
2. Getis-Ord Gi* (esda.G_Local, star=True, binary weights, analytic z-scores) over a space-time
   neighbourhood: a bin's neighbours are its place and the place's spatial neighbours, in the same
   month and the months just before and after (the Kronecker product of the two). This is what
   EHSA does (its default neighbourhood time step is one step); Gi* per month alone would compare
   each month only with itself and lose the continuity a planner reads as "emerging". Spatial
   neighbours: for cells, the eight around (queen contiguity on the grid); for districts, the
   districts of the same layer whose boundaries touch or lie within 5 m (real boundary files have
   slivers). The global mean and variance are those of the whole cube of the category.
3. Benjamini-Hochberg false-discovery-rate correction (q = `alpha`) on two-sided analytic
   p-values of all the bins of the category and kind of place; permutation p-values (at best
   1/(permutations+1)) could not be rejected over thousands of bins. The p-values are the tails of
   each bin's neighbourhood sum under a negative binomial with the cube's mean and variance
   (`neighbourhood_p_values`): Gi*'s normal approximation (ArcGIS's, esda's p_norm, still available
   as `p_values="normal"`) ignores the skew of the small counts of 100 m cells and put false
   hotspots on a uniform background in a quarter to a half of the seeds tried. A rejected bin is hot
   (z > 0, 1) or cold (z < 0, -1), every other bin 0.
4. Mann-Kendall trend test on each place's series of Gi* z-scores (S statistic with the tie-corrected
   variance, two-sided, at `alpha`), vectorised over places with numpy: the same statistic as
   `pymannkendall.original_test`, which takes about 6 ms a series where this takes microseconds.
5. The class, from the bins and the trend's direction (`hotspot_classify`, a pure function).

The 17 classes. n is the number of months, "hot" a bin hot after the FDR correction, share the hot
bins' share of n; the trend is the Mann-Kendall direction of the z-scores (up, down or none at
`alpha`). The final month decides which family is tried first: when it is cold, the cold family
(the mirror of every rule below, hot ↔ cold, up ↔ down), then the hot one; otherwise the hot family
first. A place that matches neither has no pattern.

- intensifying hot: share ≥ 90 %, the final month hot, trend up.
- diminishing hot: share ≥ 90 %, the final month hot, trend down.
- persistent hot: share ≥ 90 %, the final month hot, no trend.
- historical hot: share ≥ 90 %, the final month not hot.
- oscillating hot: share < 90 %, the final month hot, and at least one earlier month cold.
- new hot: the final month is the only hot month, and no month is cold.
- consecutive hot: the final run of hot months has two or more months, there is no hot month
  before it, share < 90 %, no month cold.
- sporadic hot: share < 90 %, some hot months and no cold month, and none of the above (hot months
  before the final run, or the final month not hot).
- the eight cold classes: the same rules with hot and cold swapped; intensifying cold is a
  significant downward trend of the z-scores (colder and colder), diminishing cold an upward one.
- no pattern: no hot and no cold month, or cold and hot months without the final month being
  either (which neither sporadic nor oscillating describes).

Where ArcGIS's text leaves an order open (open ports disagree: R sfdep issues 41 and 58), the
choices are: oscillating before new and consecutive (a place that was cold is not "never hot
before" news but a swing), persistent only with the final month hot (≥ 90 % with the final month
not hot is historical), and the final month's sign chooses the family.
"""

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import scipy.sparse as sp
from django.conf import settings
from django.db import connection
from scipy import stats

from cartography.models import District, Territory

from .grid import DEFAULT_CELL_SIZE_M, cell_columns_sql, cell_outline_sql
from .layers import district_join_sql, located_create
from .models import AnalysisRun, HotspotClass, PlaceKind
from .window import Window

ALPHA = 0.05
MONTHS = 36
PERSISTENCE = 0.9
# Districts of a layer this close (metres) are neighbours: boundary files leave slivers between them.
DISTRICT_TOUCH_M = 5

HOT, COLD = 1, -1


def hotspot_classify(bins: Sequence[int], trend: int) -> HotspotClass:
    """The EHSA class of one place from its bins (1 hot, -1 cold, 0 neither, oldest first) and the
    direction of its trend (1 up, -1 down, 0 none significant). The rules are in the module's
    docstring."""
    return _classify(tuple(int(b) for b in bins), int(np.sign(trend)))


@lru_cache(maxsize=65_536)
def _classify(bins: tuple[int, ...], trend: int) -> HotspotClass:
    if not bins:
        return HotspotClass.NO_PATTERN
    families = (COLD, HOT) if bins[-1] == COLD else (HOT, COLD)
    for sign in families:
        found = _family_classify(bins, trend, sign)
        if found is not None:
            return found
    return HotspotClass.NO_PATTERN


_NAMES = {
    HOT: {
        "new": HotspotClass.NEW_HOT,
        "consecutive": HotspotClass.CONSECUTIVE_HOT,
        "intensifying": HotspotClass.INTENSIFYING_HOT,
        "persistent": HotspotClass.PERSISTENT_HOT,
        "diminishing": HotspotClass.DIMINISHING_HOT,
        "sporadic": HotspotClass.SPORADIC_HOT,
        "oscillating": HotspotClass.OSCILLATING_HOT,
        "historical": HotspotClass.HISTORICAL_HOT,
    },
    COLD: {
        "new": HotspotClass.NEW_COLD,
        "consecutive": HotspotClass.CONSECUTIVE_COLD,
        "intensifying": HotspotClass.INTENSIFYING_COLD,
        "persistent": HotspotClass.PERSISTENT_COLD,
        "diminishing": HotspotClass.DIMINISHING_COLD,
        "sporadic": HotspotClass.SPORADIC_COLD,
        "oscillating": HotspotClass.OSCILLATING_COLD,
        "historical": HotspotClass.HISTORICAL_COLD,
    },
}


def _family_classify(bins: tuple[int, ...], trend: int, sign: int) -> HotspotClass | None:
    names = _NAMES[sign]
    hits = sum(1 for b in bins if b == sign)
    if hits == 0:
        return None
    opposite = any(b == -sign for b in bins)
    final = bins[-1] == sign
    if hits >= PERSISTENCE * len(bins):
        if not final:
            return names["historical"]
        # Intensifying: the clustering of this family strengthens (hot: z up; cold: z down).
        if trend * sign > 0:
            return names["intensifying"]
        if trend * sign < 0:
            return names["diminishing"]
        return names["persistent"]
    if final and opposite:
        return names["oscillating"]
    if opposite:
        return None
    if final:
        run = 0
        for b in reversed(bins):
            if b != sign:
                break
            run += 1
        if run == hits:
            return names["new"] if hits == 1 else names["consecutive"]
    return names["sporadic"]


def mann_kendall(series: np.ndarray, *, alpha: float = ALPHA) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mann-Kendall trend test on each row of `series` (places × time): Kendall's tau, the two-sided
    p-value (normal approximation with the tie-corrected variance and continuity correction, as
    pymannkendall.original_test) and the direction (1 up, -1 down, 0 not significant at `alpha`).
    Values are rounded to 1e-9 first, so that equal z-scores computed in another order tie."""
    x = np.round(np.asarray(series, dtype=float), 9)
    places, n = x.shape
    if n < 3:
        zeros = np.zeros(places)
        return zeros, np.ones(places), zeros.astype(int)
    i, j = np.triu_indices(n, k=1)
    s = np.sign(x[:, j] - x[:, i]).sum(axis=1)
    ordered = np.sort(x, axis=1)
    # Tie groups: a new group starts where a sorted value differs from the one before.
    group = np.concatenate([np.zeros((places, 1), int), np.cumsum(np.diff(ordered, axis=1) != 0, axis=1)], 1)
    sizes = np.zeros((places, n), int)
    np.add.at(sizes, (np.repeat(np.arange(places), n), group.ravel()), 1)
    ties = (sizes * (sizes - 1) * (2 * sizes + 5)).sum(axis=1)
    variance = (n * (n - 1) * (2 * n + 5) - ties) / 18.0
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(variance > 0, (s - np.sign(s)) / np.sqrt(variance), 0.0)
    p = 2 * stats.norm.sf(np.abs(z))
    tau = s / (n * (n - 1) / 2)
    direction = np.where(p < alpha, np.sign(s), 0).astype(int)
    return tau, p, direction


def benjamini_hochberg(p: np.ndarray, *, alpha: float = ALPHA) -> np.ndarray:
    """Which p-values are rejected at false-discovery rate `alpha` (Benjamini-Hochberg step-up)."""
    p = np.asarray(p, dtype=float).ravel()
    m = p.size
    if m == 0:
        return np.zeros(0, bool)
    # Only p ≤ alpha can be rejected (the largest threshold is alpha): sort those alone.
    candidates = np.nonzero(p <= alpha)[0]
    order = candidates[np.argsort(p[candidates])]
    passed = p[order] <= alpha * np.arange(1, order.size + 1) / m
    rejected = np.zeros(m, bool)
    if passed.any():
        rejected[order[: np.nonzero(passed)[0].max() + 1]] = True
    return rejected


def space_time_weights(spatial: sp.spmatrix, months: int) -> sp.csr_matrix:
    """Binary weights of the space-time cube, bins ordered place-major (place × months + month): a
    bin's neighbours are its place and the place's spatial neighbours, at months t-1, t and t+1,
    itself included (Gi*). `gi_star` uses this matrix's Kronecker structure without building it;
    `gi_star_esda` hands it to esda."""
    space, time = _space_time_factors(spatial, months)
    return sp.kron(space, time, format="csr")


def _space_time_factors(spatial: sp.spmatrix, months: int) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    places = spatial.shape[0]
    space = (sp.csr_matrix(spatial, dtype=float) + sp.identity(places, format="csr")).sign()
    ones = np.ones(months)
    time = sp.diags([ones[1:], ones, ones[1:]], [-1, 0, 1], format="csr")
    return space, time


def gi_star(counts: np.ndarray, spatial: sp.spmatrix) -> np.ndarray:
    """Gi* z-scores (places × months) of the cube `counts` on the space-time weights: esda.G_Local's
    analytic statistic (star=True, binary weights, its moments), computed through the weights'
    Kronecker structure: the spatial lag of the cube is S·Y·T (S spatial with the diagonal, T the
    three-month band), so the 27-times larger space-time matrix is never built. Equal to
    `gi_star_esda` (tests check it to 1e-9), which spends most of its time building and transforming
    that matrix: several seconds a category at a million reports. A cube without variance gives
    zeros."""
    counts = np.asarray(counts, dtype=float)
    places, months = counts.shape
    n = counts.size
    total = counts.sum()
    if n < 2 or total <= 0 or np.all(counts == counts.flat[0]):
        return np.zeros((places, months))
    space, time = _space_time_factors(spatial, months)
    lag = np.asarray((space @ counts) @ time.toarray())
    mean = total / n
    variance = (counts**2).sum() / n - mean**2
    cardinality = np.asarray(space.sum(axis=1)).reshape(-1, 1) * np.asarray(time.sum(axis=1)).reshape(1, -1)
    expected = cardinality / n
    expected_variance = cardinality * (n - cardinality) / (n - 1) / n**2 * variance / mean**2
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (lag / total - expected) / np.sqrt(expected_variance)
    return np.nan_to_num(z, nan=0.0, posinf=0.0, neginf=0.0)


def gi_star_esda(counts: np.ndarray, spatial: sp.spmatrix) -> np.ndarray:
    """The same z-scores by esda.G_Local itself (star=True, binary, permutations=0) on a libpysal
    Graph of the space-time weights: the reference `gi_star` is checked against, and the
    benchmark's baseline."""
    import pandas as pd
    from esda import G_Local
    from libpysal.graph import Graph

    places, months = counts.shape
    y = np.asarray(counts, dtype=float).ravel()
    if y.size < 2 or y.sum() <= 0 or np.all(y == y[0]):
        return np.zeros((places, months))
    weights = space_time_weights(spatial, months)
    weights.sort_indices()
    coo = weights.tocoo()
    # Straight from the sorted arrays: Graph.from_sparse validates and sorts again, 20 times slower.
    index = pd.MultiIndex.from_arrays([coo.row, coo.col], names=["focal", "neighbor"])
    graph = Graph(pd.Series(coo.data, index=index, name="weight"), transformation="B", is_sorted=True)
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore")
        local = G_Local(y, graph, transform="B", star=True, permutations=0, n_jobs=1)
    z = np.asarray(local.Zs, dtype=float).reshape(places, months)
    return np.nan_to_num(z, nan=0.0, posinf=0.0, neginf=0.0)


@dataclass(frozen=True)
class Emergence:
    """The result for the places of one cube: z-scores and bins (places × months), the trend, the
    class of each place."""

    z: np.ndarray
    bins: np.ndarray
    tau: np.ndarray
    trend_p: np.ndarray
    classes: list[HotspotClass]


def neighbourhood_p_values(counts: np.ndarray, spatial: sp.spmatrix) -> np.ndarray:
    """Two-sided analytic p-values of each bin's space-time neighbourhood sum (the numerator of
    Gi*), from a negative binomial with the cube's mean and variance per bin (a Poisson when the
    counts are not overdispersed): the sum of k such bins is negative binomial with k times the
    shape. Gi*'s normal approximation ignores the skew of small counts: on a uniform Poisson
    background of 400 cells × 24 months it found false hotspots in 9 seeds of 40 (21 of 40 with
    overdispersed counts), this tail in none, and it still finds a seeded cluster in every month."""
    counts = np.asarray(counts, dtype=float)
    space, time = _space_time_factors(spatial, counts.shape[1])
    neighbourhood = np.asarray((space @ counts) @ time.toarray())
    size = np.asarray(space.sum(axis=1)).reshape(-1, 1) * np.asarray(time.sum(axis=1)).reshape(1, -1)
    mean, variance = counts.mean(), counts.var()
    p = np.ones_like(counts)
    if mean <= 0:
        return p
    # The tails are computed only for bins at least one standard deviation (of the sum, under the
    # same moments) from their expectation: nearer, no tail is under 0.05 and nothing can be rejected.
    spread = np.sqrt(size * max(variance, mean))
    upper = neighbourhood - size * mean >= spread
    lower = size * mean - neighbourhood >= spread
    if variance > mean:
        shape, success = mean**2 / (variance - mean), mean / variance

        def upper_tail(sums, sizes):
            return stats.nbinom.sf(sums - 1, sizes * shape, success)

        def lower_tail(sums, sizes):
            return stats.nbinom.cdf(sums, sizes * shape, success)
    else:

        def upper_tail(sums, sizes):
            return stats.poisson.sf(sums - 1, sizes * mean)

        def lower_tail(sums, sizes):
            return stats.poisson.cdf(sums, sizes * mean)

    p[upper] = _tail_once(upper_tail, neighbourhood[upper], size[upper])
    p[lower] = _tail_once(lower_tail, neighbourhood[lower], size[lower])
    return np.minimum(1.0, 2 * p)


def _tail_once(tail: Callable, sums: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """`tail(sums, sizes)` evaluated once per distinct (sum, size): neighbourhood sizes take a few
    values and sums of small counts repeat, so most bins share their p-value with others."""
    if sums.size == 0:
        return sums
    keys = sizes.astype(np.int64) * (1 << 32) + sums.astype(np.int64)
    distinct, inverse = np.unique(keys, return_inverse=True)
    return tail((distinct % (1 << 32)).astype(float), (distinct >> 32).astype(float))[inverse.ravel()]


P_VALUES = ("negative_binomial", "normal")


def emerging_hotspots(
    counts: np.ndarray, spatial: sp.spmatrix, *, alpha: float = ALPHA, p_values: str = "negative_binomial"
) -> Emergence:
    """Gi*, FDR, Mann-Kendall and the class of each place of the cube `counts` (places × months)
    with spatial adjacency `spatial` (places × places, binary, no diagonal needed). `p_values`:
    "negative_binomial" (`neighbourhood_p_values`) or "normal" (Gi*'s own, as ArcGIS and esda's
    p_norm, two-sided)."""
    z = gi_star(counts, spatial)
    p = 2 * stats.norm.sf(np.abs(z)) if p_values == "normal" else neighbourhood_p_values(counts, spatial)
    rejected = benjamini_hochberg(p, alpha=alpha).reshape(z.shape)
    bins = np.where(rejected, np.sign(z), 0).astype(np.int8)
    # A place without a hot or cold month has no pattern whatever its trend: its trend is not
    # computed (most cells), and stays null.
    tau, trend_p = np.full(len(z), np.nan), np.full(len(z), np.nan)
    direction = np.zeros(len(z), int)
    marked = np.nonzero(bins.any(axis=1))[0]
    if marked.size:
        tau[marked], trend_p[marked], direction[marked] = mann_kendall(z[marked], alpha=alpha)
    classes = [
        _classify(tuple(row), int(d)) for row, d in zip(bins.tolist(), direction.tolist(), strict=True)
    ]
    return Emergence(z=z, bins=bins, tau=tau, trend_p=trend_p, classes=classes)


def grid_adjacency(columns: np.ndarray, rows: np.ndarray) -> sp.csr_matrix:
    """Queen contiguity between the given grid cells (the eight around each), among those given."""
    columns = np.asarray(columns, dtype=np.int64)
    rows = np.asarray(rows, dtype=np.int64)
    n = columns.size
    span = np.int64(1 << 31)
    keys = (columns << 32) + (rows + span)
    order = np.argsort(keys)
    ordered = keys[order]
    focal, neighbour = [], []
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            if dx == dy == 0:
                continue
            wanted = ((columns + dx) << 32) + (rows + dy + span)
            at = np.clip(np.searchsorted(ordered, wanted), 0, max(n - 1, 0))
            found = ordered[at] == wanted if n else np.zeros(0, bool)
            focal.append(np.nonzero(found)[0])
            neighbour.append(order[at[found]])
    focal_all, neighbour_all = np.concatenate(focal), np.concatenate(neighbour)
    return sp.csr_matrix((np.ones(focal_all.size), (focal_all, neighbour_all)), shape=(n, n))


def _month_index_sql(created_at: str) -> str:
    """SQL for the index of the local month of `created_at` in the window (0 for its first month).
    date_part (a double) rather than extract (a numeric): half the time of the scan of a million
    reports."""
    local = f"({created_at} AT TIME ZONE %(tz)s)"
    return (
        f"((date_part('year', {local}) * 12 + date_part('month', {local}))::int"
        " - (%(start_year)s * 12 + %(start_month)s))"
    )


CELL_COUNTS_SQL = """
SELECT category_id, {column} AS x, {row} AS y,
       {month_index} AS t,
       count(*)
  FROM signalements_signalement
 WHERE territory_id = %(territory)s AND created_at >= %(since)s AND created_at < %(until)s
   AND status <> 'duplicate' AND duplicate_of_id IS NULL
 GROUP BY 1, 2, 3, 4
"""

DISTRICT_COUNTS_SQL = """
SELECT s.category_id, {district},
       {month_index} AS t,
       count(*)
  FROM signalements_signalement s {join}
 WHERE s.territory_id = %(territory)s AND s.created_at >= %(since)s AND s.created_at < %(until)s
   AND s.status <> 'duplicate' AND s.duplicate_of_id IS NULL
 GROUP BY 1, 2, 3
"""

# The same counts from the volumes table: its monthly rows per category, less the duplicates.
VOLUME_COUNTS_SQL = """
SELECT v.category_id, v.district_id,
       ((extract(year FROM v.period_start) - %(start_year)s) * 12
        + extract(month FROM v.period_start) - %(start_month)s)::int AS t,
       (v.count - round(v.count * coalesce(v.share_duplicates, 0)))::int
  FROM planning_districtvolume v JOIN cartography_district d ON d.id = v.district_id
 WHERE d.territory_id = %(territory)s AND v.layer = %(layer)s AND v.period = 'month'
   AND v.category_id IS NOT NULL AND v.period_start >= %(start)s AND v.period_start < %(end)s
"""

DISTRICT_NEIGHBOURS_SQL = """
WITH d AS MATERIALIZED (
    SELECT id, ST_Transform(geom, %(srid)s) AS geom FROM cartography_district
     WHERE territory_id = %(territory)s AND layer = %(layer)s
)
SELECT a.id, b.id FROM d a JOIN d b ON a.id < b.id AND ST_DWithin(a.geom, b.geom, %(touch)s)
"""

STAGING_SQL = """
CREATE TEMP TABLE planning_hotspot_staging (
    kind text, district_id bigint, layer text, cell_x integer, cell_y integer, category_id bigint,
    hotspot_class text, series double precision[], bins smallint[], count integer,
    trend_tau double precision, trend_p double precision
) ON COMMIT DROP
"""

# A district's outline on the map is its largest part (HotspotPlace.geom is a polygon; the district
# itself keeps every part).
WRITE_SQL = """
WITH outlines AS MATERIALIZED (
    SELECT DISTINCT ON (d.id) d.id, part.geom
      FROM cartography_district d, ST_Dump(d.geom) part
     WHERE d.territory_id = %(territory)s
     ORDER BY d.id, ST_Area(part.geom) DESC
)
INSERT INTO planning_hotspotplace
    (run_id, kind, district_id, layer, cell_x, cell_y, cell_size_m, geom, category_id, hotspot_class,
     first_month, series, bins, count, trend_tau, trend_p)
SELECT %(run)s, h.kind, h.district_id, h.layer, h.cell_x, h.cell_y,
       CASE WHEN h.kind = 'cell' THEN %(size)s END,
       CASE WHEN h.kind = 'cell' THEN {outline}
            ELSE d.geom END,
       h.category_id, h.hotspot_class, %(first_month)s, h.series, h.bins, h.count, h.trend_tau, h.trend_p
  FROM planning_hotspot_staging h LEFT JOIN outlines d ON d.id = h.district_id
"""


@dataclass
class PlaceRows:
    """The rows of one kind of place, for the staging table."""

    rows: list[tuple]

    def add(
        self,
        *,
        emergence: Emergence,
        counts: np.ndarray,
        category_id: int,
        keys: Callable[[int], dict],
        keep_all: bool,
    ):
        totals = counts.sum(axis=1)
        z = np.round(emergence.z, 4)
        for i, hotspot_class in enumerate(emergence.classes):
            if not keep_all and hotspot_class == HotspotClass.NO_PATTERN:
                continue
            key = keys(i)
            self.rows.append(
                (
                    key["kind"],
                    key.get("district_id"),
                    key.get("layer", ""),
                    key.get("cell_x"),
                    key.get("cell_y"),
                    category_id,
                    hotspot_class.value,
                    z[i].tolist(),
                    emergence.bins[i].tolist(),
                    int(totals[i]),
                    None if np.isnan(emergence.tau[i]) else float(emergence.tau[i]),
                    None if np.isnan(emergence.trend_p[i]) else float(emergence.trend_p[i]),
                )
            )


def _copy_value(value) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, list):
        return "{" + ",".join(map(repr, value)) + "}"
    return str(value)


def _copy_line(row: tuple) -> str:
    """One row in COPY's text format (psycopg's array adaptation costs 0.3 ms a row)."""
    return "\t".join(map(_copy_value, row)) + "\n"


def _month_params(window: Window) -> dict:
    since, until = window.bounds()
    return {
        "start": window.start,
        "end": window.end,
        "tz": settings.TIME_ZONE,
        "start_year": window.start.year,
        "start_month": window.start.month,
        "since": since,
        "until": until,
    }


def _cells(
    cursor, *, territory: Territory, window: Window, size: int, alpha: float, p_values: str, out: PlaceRows
) -> int:
    column, row = cell_columns_sql("location_metric", size)
    cursor.execute(
        CELL_COUNTS_SQL.format(column=column, row=row, month_index=_month_index_sql("created_at")),
        {**_month_params(window), "territory": territory.pk},
    )
    data = np.array(cursor.fetchall(), dtype=np.int64).reshape(-1, 5)
    months = window.months
    places = 0
    for category_id in np.unique(data[:, 0]):
        part = data[data[:, 0] == category_id]
        # One int64 key a cell (column, then row: the order of np.unique(axis=0), ten times faster).
        keys, index = np.unique((part[:, 1] << 32) + (part[:, 2] + (1 << 31)), return_inverse=True)
        cells = np.column_stack([keys >> 32, (keys & 0xFFFFFFFF) - (1 << 31)])
        index = index.ravel()
        counts = np.zeros((len(cells), months))
        np.add.at(counts, (index, part[:, 3]), part[:, 4])
        emergence = emerging_hotspots(
            counts, grid_adjacency(cells[:, 0], cells[:, 1]), alpha=alpha, p_values=p_values
        )
        out.add(
            emergence=emergence,
            counts=counts,
            category_id=int(category_id),
            keys=lambda i, cells=cells: {
                "kind": PlaceKind.CELL.value,
                "cell_x": int(cells[i, 0]),
                "cell_y": int(cells[i, 1]),
            },
            keep_all=False,
        )
        places += len(cells)
    return places


def _volumes_cover(*, territory: Territory, window: Window) -> bool:
    """Whether the district volumes were last written for these very months (or more before them)."""
    run = (
        AnalysisRun.objects.filter(
            territory=territory, kind=AnalysisRun.Kind.VOLUMES, finished_at__isnull=False
        )
        .order_by("-finished_at")
        .first()
    )
    if run is None:
        return False
    covered = Window.from_json(run.parameters["window"])
    return covered.end == window.end and covered.start <= window.start


def _district_counts(cursor, *, territory: Territory, window: Window, layer: str) -> np.ndarray:
    """Reports (duplicates left out) per category × district of `layer` × month index: rows of
    (category, district, month, count). From the district volumes when their last run covers the
    window (no second point-in-polygon pass over every report), else from the reports."""
    if _volumes_cover(territory=territory, window=window):
        cursor.execute(
            VOLUME_COUNTS_SQL, {**_month_params(window), "territory": territory.pk, "layer": layer}
        )
    else:
        params = {**_month_params(window), "territory": territory.pk}
        if layer != territory.locating_layer:
            located_create(
                cursor,
                territory=territory,
                layer=layer,
                since=params["since"],
                until=params["until"],
                table="planning_hotspot_located",
            )
        join, district = district_join_sql(
            territory=territory, layer=layer, located="planning_hotspot_located", report="s"
        )
        cursor.execute(
            DISTRICT_COUNTS_SQL.format(
                district=district, join=join, month_index=_month_index_sql("s.created_at")
            ),
            params,
        )
    return np.array([r for r in cursor.fetchall() if r[1] is not None and r[3] > 0], dtype=np.int64).reshape(
        -1, 4
    )


def _districts(
    cursor, *, territory: Territory, window: Window, layer: str, alpha: float, p_values: str, out: PlaceRows
) -> int:
    districts = list(
        District.objects.filter(territory=territory, layer=layer).order_by("pk").values_list("pk", flat=True)
    )
    position = {pk: i for i, pk in enumerate(districts)}
    cursor.execute(
        DISTRICT_NEIGHBOURS_SQL,
        {"srid": settings.METRIC_SRID, "territory": territory.pk, "layer": layer, "touch": DISTRICT_TOUCH_M},
    )
    pairs = np.array([(position[a], position[b]) for a, b in cursor.fetchall()], dtype=int).reshape(-1, 2)
    n = len(districts)
    adjacency = sp.csr_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    adjacency = adjacency + adjacency.T
    data = _district_counts(cursor, territory=territory, window=window, layer=layer)
    keys = [{"kind": PlaceKind.DISTRICT.value, "district_id": pk, "layer": layer} for pk in districts]
    for category_id in np.unique(data[:, 0]):
        part = data[data[:, 0] == category_id]
        counts = np.zeros((n, window.months))
        np.add.at(counts, ([position[pk] for pk in part[:, 1]], part[:, 2]), part[:, 3])
        emergence = emerging_hotspots(counts, adjacency, alpha=alpha, p_values=p_values)
        out.add(
            emergence=emergence,
            counts=counts,
            category_id=int(category_id),
            keys=keys.__getitem__,
            keep_all=True,
        )
    return n


def emerging_hotspots_compute(
    *,
    run: AnalysisRun,
    window: Window,
    cell_size_m: int = DEFAULT_CELL_SIZE_M,
    alpha: float = ALPHA,
    p_values: str = "negative_binomial",
) -> int:
    """Rewrite the territory's hotspot places (every district layer, and the grid cells that have
    a class) for `window` under `run`. Cells with no pattern are not stored (most of them); every
    district is. Run inside the caller's transaction; returns the rows written."""
    territory = run.territory
    out = PlaceRows(rows=[])
    layers = list(
        District.objects.filter(territory=territory)
        .values_list("layer", flat=True)
        .distinct()
        .order_by("layer")
    )
    with connection.cursor() as cursor:
        for layer in layers:
            _districts(
                cursor,
                territory=territory,
                window=window,
                layer=layer,
                alpha=alpha,
                p_values=p_values,
                out=out,
            )
        _cells(
            cursor,
            territory=territory,
            window=window,
            size=cell_size_m,
            alpha=alpha,
            p_values=p_values,
            out=out,
        )
        cursor.execute(
            "DELETE FROM planning_hotspotplace h USING planning_analysisrun r "
            "WHERE r.id = h.run_id AND r.territory_id = %s AND r.kind = %s",
            [territory.pk, AnalysisRun.Kind.HOTSPOTS],
        )
        cursor.execute("DROP TABLE IF EXISTS planning_hotspot_staging")
        cursor.execute(STAGING_SQL)
        with cursor.cursor.copy(
            "COPY planning_hotspot_staging (kind, district_id, layer, cell_x, cell_y, category_id, "
            "hotspot_class, series, bins, count, trend_tau, trend_p) FROM STDIN"
        ) as copy:
            copy.write("".join(_copy_line(row) for row in out.rows))
        outline = cell_outline_sql("h.cell_x", "h.cell_y", cell_size_m)
        cursor.execute(
            WRITE_SQL.format(outline=outline),
            {"run": run.pk, "size": cell_size_m, "first_month": window.start, "territory": territory.pk},
        )
        written = cursor.rowcount
        cursor.execute("DROP TABLE planning_hotspot_staging")
    return written
