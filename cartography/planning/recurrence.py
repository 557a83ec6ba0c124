"""Places that come back every year: per category and season, the grid cells hot in the same season in
two years or more, ranked, with their usual first week and the weeks to act before it.

Rules (the planners' documentation repeats them):
- Reports counted: every report of the territory except merged duplicates (`duplicate_of` set) and
  rejected ones, in the cells of `grid` (100 m by default), by local date.
- Seasons are meteorological (winter is December to February and belongs to the year of its January).
  A season of a year is observed when it has ended before the analysis date and the category had at
  least one report in it.
- Hot: in season s of year y, a cell with k reports of the category is hot when k >= 2 and k is
  significantly above an even spread of that season's N reports over the territory's A cells: the
  Poisson upper tail P(X >= k | N / A) passes a Benjamini-Hochberg false-discovery-rate test at 5 %
  over all A cells of the territory (cells without reports count as tests with p = 1).
- Recurring place: a cell hot in at least two observed years of that season. Its score is the share
  of observed years it was hot times its mean number of reports per observed season; the list is
  ranked by score.
- Usual first week: the median, over the years it was hot, of the day its first report of the
  season came (counted from the season's first day), as an ISO week of the coming season; the action
  window is the three weeks before that week.

Judging it (`recurrence_evaluate`): the ranking is learnt on the seasons before a held-out last
season; the hit rate is the share of the held-out season's reports that fall in the top 5 % of the
territory's area (5 % of all its cells, whether they ever had a report or not); the prediction
accuracy index is hit rate / area share. The naive rival ranks the cells by the previous season's
counts alone. Only cells with evidence are ranked (reports in a training season; for the naive rival,
in the previous season); when they fill less than the top 5 %, the rest of the top is filled at
random from the other cells and counts what such a draw catches on average, the same for both.
Ties: more reports over the training seasons, then column and row (recurrence); column and row
(naive).
"""

import math
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from django.conf import settings
from django.db import connection
from django.utils import timezone
from scipy.stats import poisson

from cartography.models import Territory

from .grid import DEFAULT_CELL_SIZE_M, cell_columns_sql, cell_outline_sql
from .models import AnalysisRun, Season

ALPHA = 0.05
MIN_REPORTS_HOT = 2
MIN_YEARS = 2
ACTION_WEEKS = 3
TOP_AREA_SHARE = 0.05
SEASONS = [Season.WINTER, Season.SPRING, Season.SUMMER, Season.AUTUMN]
SEASON_START_MONTH = {Season.WINTER: 12, Season.SPRING: 3, Season.SUMMER: 6, Season.AUTUMN: 9}


def season_start(season: str, year: int) -> date:
    """The first day of `season` of `year` (1 December of the year before for a winter)."""
    month = SEASON_START_MONTH[Season(season)]
    return date(year - 1 if month == 12 else year, month, 1)


def season_end(season: str, year: int) -> date:
    """The last day of the season."""
    start = season_start(season, year)
    month = start.month + 3
    return date(start.year + (month - 1) // 12, (month - 1) % 12 + 1, 1) - timedelta(days=1)


def season_of(day: date) -> tuple[str, int]:
    season = SEASONS[(day.month % 12) // 3]
    return season, day.year + 1 if day.month == 12 else day.year


# One pass over the territory's reports, grouped by category, season and cell. A season is keyed by
# (year × 12 + month) / 3 of the local date, integer division: December goes with the January and
# February after it. The first report's day comes as days since 1970-01-01, so that every column is
# an integer and the rows go into numpy without a Python loop (season_counts names the seasons).
COUNTS_SQL = """
SELECT category_id, (extract(year FROM local)::int * 12 + extract(month FROM local)::int) / 3,
       {column}, {row}, count(*), min(local)::date - DATE '1970-01-01'
  FROM (SELECT category_id, location_metric, created_at AT TIME ZONE %(tz)s AS local
          FROM signalements_signalement
         WHERE territory_id = %(territory)s AND duplicate_of_id IS NULL AND status <> 'rejected'
               {category_filter}) reports
 GROUP BY 1, 2, 3, 4
"""

# On pieces of the boundary: the whole outline against each cell is ten times slower.
AREA_SQL = """
SELECT count(DISTINCT (cell.i, cell.j))
  FROM (SELECT ST_Subdivide(ST_Transform(geom, %(srid)s), 64) AS geom
          FROM cartography_territory WHERE id = %(territory)s) t,
       LATERAL ST_SquareGrid(%(size)s, t.geom) AS cell
 WHERE ST_Intersects(cell.geom, t.geom)
"""


@dataclass
class SeasonCounts:
    """One category and season: reports per cell (rows) and season year (columns)."""

    years: list[int]
    cells: np.ndarray  # (n, 2) column, row
    counts: np.ndarray  # (n, len(years))
    first_day: np.ndarray  # (n, len(years)) days after the season's first day of the first report; -1 none


def territory_cell_count(territory: Territory, size_m: int = DEFAULT_CELL_SIZE_M) -> int:
    """The area denominator: how many cells of the grid touch the territory."""
    with connection.cursor() as cursor:
        cursor.execute(
            AREA_SQL, {"srid": settings.METRIC_SRID, "territory": territory.pk, "size": float(size_m)}
        )
        return cursor.fetchone()[0]


def season_counts(
    territory: Territory, *, size_m: int = DEFAULT_CELL_SIZE_M, category_id: int | None = None
) -> dict[tuple[int, str], SeasonCounts]:
    """Every category and season of the territory, counted per cell and season year in one query."""
    column, row = cell_columns_sql("location_metric", size_m)
    sql = COUNTS_SQL.format(
        column=column,
        row=row,
        category_filter="AND category_id = %(category)s" if category_id is not None else "",
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, {"tz": settings.TIME_ZONE, "territory": territory.pk, "category": category_id})
        rows = cursor.fetchall()
    raw = np.array(rows, dtype=np.int64).reshape(-1, 6)
    result = {}
    if not len(raw):
        return result
    # Season key k: 3k = season year × 12 + the month it starts in (0 for December, of the year before).
    months = raw[:, 1] * 3
    start_month = (months - 1 - 1970 * 12).astype("datetime64[M]")
    start_day = start_month.astype("datetime64[D]").astype(np.int64)
    data = np.column_stack(
        [raw[:, 0], (months % 12) // 3, months // 12, raw[:, 2], raw[:, 3], raw[:, 4], raw[:, 5] - start_day]
    )
    # Rows grouped by category and season; within one, cells and years numbered in sorted order.
    data = data[np.lexsort((data[:, 4], data[:, 3], data[:, 2], data[:, 1], data[:, 0]))]
    group = data[:, 0] * 4 + data[:, 1]
    bounds = np.flatnonzero(np.r_[True, group[1:] != group[:-1], True])
    for start, end in zip(bounds[:-1], bounds[1:], strict=True):
        part = data[start:end]
        years, year_index = np.unique(part[:, 2], return_inverse=True)
        cells, cell_index = np.unique(part[:, 3:5], axis=0, return_inverse=True)
        cell_index = cell_index.ravel()
        counts = np.zeros((len(cells), len(years)), np.int64)
        first = np.full((len(cells), len(years)), -1, np.int64)
        counts[cell_index, year_index] = part[:, 5]
        first[cell_index, year_index] = part[:, 6]
        season = SEASONS[int(part[0, 1])]
        result[(int(part[0, 0]), season)] = SeasonCounts([int(y) for y in years], cells, counts, first)
    return result


def hot_cells(counts: np.ndarray, area_cells: int, *, alpha: float = ALPHA) -> np.ndarray:
    """Which cells are hot in each year (columns): Poisson tail against an even spread over the
    territory's cells, Benjamini-Hochberg over all of them."""
    hot = np.zeros(counts.shape, bool)
    for j in range(counts.shape[1]):
        k = counts[:, j]
        total = k.sum()
        if total == 0:
            continue
        p = np.where(k > 0, poisson.sf(k - 1, total / area_cells), 1.0)
        order = np.argsort(p, kind="stable")
        ranked = p[order]
        passing = np.flatnonzero(ranked <= alpha * np.arange(1, len(ranked) + 1) / area_cells)
        if len(passing):
            threshold = ranked[passing[-1]]
            hot[:, j] = (p <= threshold) & (k >= MIN_REPORTS_HOT)
    return hot


@dataclass
class Ranking:
    order: np.ndarray  # cell indices, best first
    score: np.ndarray
    years_hot: np.ndarray  # (n,) number of observed years the cell was hot
    hot: np.ndarray


def recurrence_rank(data: SeasonCounts, area_cells: int, years: list[int]) -> Ranking:
    """Score and order the cells on the seasons `years` (columns of `data` named by year)."""
    columns = [data.years.index(year) for year in years if year in data.years]
    counts = data.counts[:, columns]
    hot = hot_cells(counts, area_cells)
    observed = max(len(columns), 1)
    years_hot = hot.sum(axis=1)
    score = years_hot / observed * counts.sum(axis=1) / observed
    order = np.lexsort((data.cells[:, 1], data.cells[:, 0], -counts.sum(axis=1), -score))
    return Ranking(order, score, years_hot, hot)


def usual_first_day(data: SeasonCounts, ranking: Ranking, years: list[int], index: int) -> int:
    """Median offset from the season's first day of the cell's first report, over its hot years."""
    columns = [data.years.index(year) for year in years if year in data.years]
    firsts = data.first_day[index, columns][ranking.hot[index]]
    return int(np.median(firsts))


def _iso_week(day: date) -> int:
    return day.isocalendar().week


def observed_years(data: SeasonCounts, season: str, today: date) -> list[int]:
    return [year for year in data.years if season_end(season, year) < today]


def recurrence_parameters(*, today: date, size_m: int = DEFAULT_CELL_SIZE_M) -> dict:
    """What a run records: the rules' constants and the day the seasons are judged on."""
    return {
        "cell_size_m": size_m,
        "alpha": ALPHA,
        "min_reports_hot": MIN_REPORTS_HOT,
        "min_years": MIN_YEARS,
        "action_weeks": ACTION_WEEKS,
        "today": today.isoformat(),
    }


def recurring_places_write(*, run: AnalysisRun) -> int:
    """Rewrite the territory's recurring places (every category and season) under `run`, from its
    parameters (`recurrence_parameters`), in the caller's transaction; the territory's earlier
    recurrence runs go with their places. Returns the places written."""
    territory = run.territory
    size_m = run.parameters["cell_size_m"]
    today = date.fromisoformat(run.parameters["today"])
    earlier = AnalysisRun.objects.filter(territory=territory, kind=AnalysisRun.Kind.RECURRENCE)
    earlier.exclude(pk=run.pk).delete()
    area_cells = territory_cell_count(territory, size_m)
    places = []
    for (category_id, season), data in season_counts(territory, size_m=size_m).items():
        years = observed_years(data, season, today)
        if len(years) < MIN_YEARS:
            continue
        ranking = recurrence_rank(data, area_cells, years)
        next_year = max(years) + 1
        columns = [data.years.index(year) for year in years]
        rank = 0
        for index in ranking.order:
            if ranking.years_hot[index] < MIN_YEARS:
                continue
            rank += 1
            first = season_start(season, next_year) + timedelta(
                days=usual_first_day(data, ranking, years, index)
            )
            hot_years = [year for year, is_hot in zip(years, ranking.hot[index], strict=True) if is_hot]
            places.append(
                (
                    category_id,
                    season,
                    int(data.cells[index, 0]),
                    int(data.cells[index, 1]),
                    rank,
                    float(ranking.score[index]),
                    "{" + ",".join(map(str, hot_years)) + "}",
                    len(years),
                    int(data.counts[index, columns].sum()),
                    _iso_week(first),
                    _iso_week(first - timedelta(weeks=ACTION_WEEKS)),
                    _iso_week(first - timedelta(weeks=1)),
                )
            )
    if places:
        with connection.cursor() as cursor:
            # One statement, outlines and districts in SQL: the ORM's bulk insert and GDAL's
            # transforms (one polygon at a time) cost more than the analysis.
            columns = list(zip(*places, strict=True))
            cursor.execute(
                INSERT_SQL.format(outline=cell_outline_sql("u.cx", "u.cy", size_m)),
                {
                    "run": run.pk,
                    "size": size_m,
                    "territory": territory.pk,
                    "layer": territory.locating_layer,
                    **dict(zip(INSERT_COLUMNS, map(list, columns), strict=True)),
                },
            )
    return len(places)


INSERT_COLUMNS = (
    "category",
    "season",
    "cx",
    "cy",
    "rank",
    "score",
    "years_hot",
    "years_observed",
    "reports",
    "first_week",
    "week_from",
    "week_to",
)
INSERT_SQL = """
INSERT INTO planning_recurringplace (
    run_id, category_id, season, district_id, cell_x, cell_y, cell_size_m, geom, rank, score, years_hot,
    years_observed, reports, usual_first_week, action_week_from, action_week_to)
SELECT %(run)s, v.category, v.season, d.id, v.cx, v.cy, %(size)s, v.geom, v.rank, v.score,
       v.years_hot::smallint[], v.years_observed, v.reports, v.first_week, v.week_from, v.week_to
  FROM (SELECT u.*, {outline} AS geom
          FROM unnest(%(category)s::int[], %(season)s::text[], %(cx)s::int[], %(cy)s::int[],
                      %(rank)s::int[], %(score)s::float8[], %(years_hot)s::text[],
                      %(years_observed)s::int[], %(reports)s::int[], %(first_week)s::int[],
                      %(week_from)s::int[], %(week_to)s::int[])
               AS u(category, season, cx, cy, rank, score, years_hot, years_observed, reports,
                    first_week, week_from, week_to)) v
  LEFT JOIN LATERAL (
        SELECT d.id FROM cartography_district d
         WHERE d.territory_id = %(territory)s AND d.layer = %(layer)s
           AND ST_Contains(d.geom, ST_Centroid(v.geom))
         ORDER BY d.id LIMIT 1) d ON true
"""


@dataclass
class Evaluation:
    category: str
    season: str
    held_out_year: int
    training_years: list[int]
    area_cells: int
    top_cells: int
    held_out_reports: int
    hit_rate: float
    pai: float
    naive_hit_rate: float | None
    naive_pai: float | None
    recurring_places: int

    @property
    def area_share(self) -> float:
        return self.top_cells / self.area_cells


def recurrence_evaluate(
    *,
    territory: Territory,
    category_id: int,
    season: str,
    held_out_year: int | None = None,
    size_m: int = DEFAULT_CELL_SIZE_M,
    top_share: float = TOP_AREA_SHARE,
    today: date | None = None,
    area_cells: int | None = None,
) -> Evaluation | None:
    """Hit rate and prediction accuracy index of the recurrence ranking and of the naive rival on the
    held-out season (by default the last observed one). None when the category has no such season."""
    from signalements.models import Category

    today = today or timezone.localdate()
    data = season_counts(territory, size_m=size_m, category_id=category_id).get((category_id, season))
    if data is None:
        return None
    years = observed_years(data, season, today)
    if held_out_year is None:
        if not years:
            return None
        held_out_year = years[-1]
    if held_out_year not in data.years:
        return None
    training = [year for year in years if year < held_out_year]
    if not training:
        return None
    area_cells = area_cells or territory_cell_count(territory, size_m)
    top = max(1, math.ceil(top_share * area_cells))
    truth = data.counts[:, data.years.index(held_out_year)]
    total = int(truth.sum())

    def judged(order: np.ndarray, known: np.ndarray) -> tuple[float, float]:
        """Catch of the top cells: the ranked cells with evidence (`known`) first; if they are fewer
        than the top, the rest is drawn at random from the other cells of the territory, and
        counts what such a draw catches on average."""
        ranked = order[known[order]][:top]
        caught = float(truth[ranked].sum())
        left = top - len(ranked)
        if left:
            others_reports = total - caught
            caught += others_reports * left / max(area_cells - len(ranked), 1)
        hit = caught / total if total else 0.0
        return hit, hit / (top / area_cells)

    columns = [data.years.index(year) for year in training]
    ranking = recurrence_rank(data, area_cells, training)
    hit, pai = judged(ranking.order, data.counts[:, columns].sum(axis=1) > 0)
    naive_hit = naive_pai = None
    if held_out_year - 1 in data.years:
        previous = data.counts[:, data.years.index(held_out_year - 1)]
        naive_hit, naive_pai = judged(
            np.lexsort((data.cells[:, 1], data.cells[:, 0], -previous)), previous > 0
        )
    return Evaluation(
        category=Category.objects.get(pk=category_id).slug,
        season=season,
        held_out_year=held_out_year,
        training_years=training,
        area_cells=area_cells,
        top_cells=top,
        held_out_reports=total,
        hit_rate=hit,
        pai=pai,
        naive_hit_rate=naive_hit,
        naive_pai=naive_pai,
        recurring_places=int((ranking.years_hot >= MIN_YEARS).sum()),
    )
