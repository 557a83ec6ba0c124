"""Early warning: a weekly prospective space-time permutation scan per category (Kulldorff et al.
2005, "A space-time permutation scan statistic for disease outbreak detection", PLoS Medicine 2(3)).

No maintained Python port exists (SaTScan is closed source), so it is written here with numpy:
- Places are the grid cells (grid.py, 100 m) holding at least one report of the category in the
  baseline (the last `baseline_days` days up to `end_date`); cases are counted per place and day.
- The baseline is 91 days (13 weeks), not a year. The permutation model takes each place's share of
  the baseline as its normal share of this week's reports, so it assumes where reports fall does
  not change within the baseline: over a year, leaves in autumn and ice in winter move that share
  with the seasons, and a season's usual places would raise an alarm every year (that is the
  recurrence analysis's job). A shorter baseline limits such shifts (an evaluation of sliding
  baselines for space-time scans on CDC's BioSense data found 28 days the most robust among those
  tried: Xing et al. 2009, Int J Health Geogr 8:45); 13 weeks still estimates each place's share
  on 13 times the week scanned.
- Cylinders are centred on the places that hold a case of the last `max_days` days (a cylinder
  around a centre without one is an emerging cluster nobody would be sent to; the rule is the same
  for the data and for every replica, so the Monte Carlo p-values stay exact). The circle grows by
  adding the nearest places one by one, up to `max_radius_m` and `max_places`, and up to half of
  all cases; the height is the last d days, d = 1 … `max_days`, all ending on `end_date`
  (prospective: only clusters still alive).
- Expected cases in a cylinder: cases in the circle over the whole baseline × cases on those days
  everywhere / all cases (independence of space and time, so no population is needed and a place
  that always has many reports is no alarm). Statistic: the Poisson generalised likelihood ratio
  c log(c/μ) + (C−c) log((C−c)/(C−μ)) when c > μ, 0 otherwise.
- Significance by Monte Carlo: the dates are shuffled among the cases (place totals and day totals
  stay as they are, so the expected counts too), `replicas` times; a cylinder's p-value is the share
  of replicas (plus the data) whose largest statistic reaches its own. A category stops early, with
  no cluster, when its p-value can no longer be under `alpha` or when a Besag-Clifford sequential
  p-value already is not (see the loop).
- Clusters reported: the most likely cylinder, then the next ones sharing no place with those before
  (secondary clusters, judged against the same distribution of maxima), while p < `alpha`.
"""

import zlib
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from django.conf import settings
from django.contrib.gis.geos import Point
from django.db import connection
from django.utils import timezone
from scipy.spatial import cKDTree

from .grid import DEFAULT_CELL_SIZE_M, cell_columns_sql
from .models import AnalysisRun, EarlyWarningCluster

BASELINE_DAYS = 91
MAX_DAYS = 7
MAX_RADIUS_M = 750.0
MAX_PLACES = 100
MAX_CASE_SHARE = 0.5
REPLICAS = 999
ALPHA = 0.05
# The sequential Monte Carlo's early stop (see space_time_permutation_scan).
EARLY_EXCEEDANCES = 10
MIN_OBSERVED = 3
MAX_CLUSTERS = 10


@dataclass
class Cluster:
    centre: int  # place index
    places: np.ndarray  # place indices in the circle
    radius_m: float  # from the centre place to the farthest place in the circle
    days: int
    observed: int
    expected: float
    llr: float
    p_value: float


def _llr(c: np.ndarray, mu: np.ndarray, total: int) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        value = c * np.log(c / mu) + (total - c) * np.log((total - c) / (total - mu))
    return np.where(c > mu, np.nan_to_num(value, nan=0.0, posinf=0.0), 0.0)


def _llr_above(c: np.ndarray, mu: np.ndarray, total: int) -> np.ndarray:
    """`_llr` where c > mu is known (so mu < c <= total): no test, no NaN to clean. When c is all
    the cases, the second term is 0 × log(…) = 0; the log is taken of 1 instead of 0."""
    rest = total - c
    return c * np.log(c / mu) + rest * np.log(np.maximum(rest, 1) / (total - mu))


def space_time_permutation_scan(
    place_xy: np.ndarray,
    case_place: np.ndarray,
    case_day: np.ndarray,
    *,
    days: int,
    max_days: int = MAX_DAYS,
    max_radius_m: float = MAX_RADIUS_M,
    max_places: int = MAX_PLACES,
    max_case_share: float = MAX_CASE_SHARE,
    replicas: int = REPLICAS,
    alpha: float = ALPHA,
    min_observed: int = MIN_OBSERVED,
    seed: int = 0,
    sparse: bool = True,
) -> list[Cluster]:
    """Clusters of cases ending on the last day (`days - 1`). `place_xy` in metres (n, 2); each case
    has a place index and a day index in 0 … days - 1. `sparse=False` computes every cylinder of
    every replica (the same result, slower: the benchmarks' baseline)."""
    n_places, total = len(place_xy), len(case_place)
    if total == 0 or n_places == 0:
        return []
    k = min(max_places, n_places)
    distance, neighbour = cKDTree(place_xy).query(place_xy, k=k, distance_upper_bound=max_radius_m)
    distance, neighbour = distance.reshape(n_places, k), neighbour.reshape(n_places, k)
    exists = neighbour < n_places  # the tree names a missing neighbour n_places: a padding place
    place_totals = np.append(np.bincount(case_place, minlength=n_places), 0)
    circle_totals = np.cumsum(place_totals[neighbour], axis=1)
    valid = exists & (circle_totals <= max(max_case_share * total, place_totals.max()))
    day_totals = np.bincount(case_day, minlength=days)
    recent_totals = np.cumsum(day_totals[::-1][:max_days])  # cases in the last 1 … max_days days
    expected = circle_totals[:, :, None] * recent_totals[None, None, :] / total  # (n, k, d)

    # Only the cases of the last max_days days count in a cylinder. Shuffling the dates among all
    # cases hands those recent dates to a random subset of the cases, in random order: a replica
    # draws that subset (as many cases as there are recent dates) and gives it the recent ages,
    # without permuting every case of the baseline.
    age = days - 1 - case_day
    is_recent = age < max_days
    recent_ages = age[is_recent]

    def per_place_counts(places: np.ndarray, ages: np.ndarray) -> np.ndarray:
        """[p, d-1]: cases at place p in the last d days."""
        flat = np.bincount(places * max_days + ages, minlength=(n_places + 1) * max_days)
        return np.cumsum(flat.reshape(n_places + 1, max_days), axis=1)

    def statistic(per_place: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Counts and statistic of every cylinder (n, k, d); 0 where the circle is too large or its
        centre has no recent case."""
        counts = np.cumsum(per_place[neighbour], axis=1)
        above = (counts > expected) & (valid & (per_place[:n_places, -1:] > 0))[:, :, None]
        llr = np.zeros(counts.shape)
        llr[above] = _llr_above(counts[above].astype(float), expected[above], total)
        return counts, llr

    observed, llr = statistic(per_place_counts(case_place[is_recent], recent_ages))
    if llr.max() <= 0:
        return []
    # The replicas' maxima, sparsely: a cylinder's count only changes where its circle takes in a place
    # holding recent cases, and at a given count the statistic is largest for the smallest circle, so
    # only those (centre, size) entries of the centres holding recent cases are evaluated: some
    # thousands instead of n × k × d. np.nonzero gives them centre by centre, sizes in order.
    neighbour_index = np.where(valid, neighbour, n_places)  # too large a circle: the padding place

    def replica_maximum(places: np.ndarray) -> float:
        per_place = per_place_counts(places, recent_ages)
        if not sparse:
            return float(statistic(per_place)[1].max())
        has_recent = per_place[:, -1] > 0
        centres = np.flatnonzero(has_recent[:n_places])
        circle = neighbour_index[centres]  # (m, k)
        row, size = np.nonzero(has_recent[circle])  # row by row, each row's sizes in order
        counts = np.cumsum(per_place[circle[row, size]], axis=0)
        # Cumulative sums restart at each centre: subtract the running total before its first entry.
        first = np.r_[True, row[1:] != row[:-1]]
        before = np.r_[np.zeros((1, max_days), counts.dtype), counts[np.flatnonzero(first)[1:] - 1]]
        counts -= before[np.cumsum(first) - 1]
        mu = circle_totals[centres[row], size][:, None] * recent_totals[None, :] / total  # as `expected`
        above = counts > mu
        if not above.any():
            return 0.0
        return float(_llr_above(counts[above].astype(float), mu[above], total).max())

    # Sequential Monte Carlo (Besag and Clifford 1991), two stops that both mean "no cluster":
    # - once `enough` replicas reach the data's largest statistic, no cylinder can have p < alpha
    #   whatever the other replicas give: the rest would be computed for nothing;
    # - once EARLY_EXCEEDANCES replicas reach it among the first EARLY_EXCEEDANCES / alpha, the
    #   Besag-Clifford p-value (exceedances / replicas drawn, valid as it is) is at least alpha.
    # A cluster is only reported after every replica, with the usual p-value (1 + replicas at or
    # above it) / (replicas + 1): the early stop only ever turns a rejection into a non-rejection,
    # so the false-alarm rate stays under alpha. A category without a cluster usually stops after a
    # few dozen replicas instead of a few hundred; one with a cluster gets all of them.
    enough = alpha * (replicas + 1) - 1
    early_window = EARLY_EXCEEDANCES / alpha
    top, reached = llr.max(), 0
    rng = np.random.default_rng(seed)
    maxima = np.empty(replicas)
    drawn = len(recent_ages)
    for replica in range(replicas):
        maxima[replica] = replica_maximum(case_place[rng.choice(total, drawn, replace=False)])
        reached += maxima[replica] >= top
        if reached >= enough or (reached >= EARLY_EXCEEDANCES and replica + 1 <= early_window):
            return []
    maxima.sort()

    clusters: list[Cluster] = []
    taken = np.zeros(n_places + 1, bool)
    positive = np.flatnonzero(llr > 0)
    for flat in positive[np.argsort(llr.flat[positive])[::-1]]:
        value = llr.flat[flat]
        if value <= 0 or len(clusters) >= MAX_CLUSTERS:
            break
        p_value = (1 + replicas - np.searchsorted(maxima, value, side="left")) / (replicas + 1)
        if p_value >= alpha:
            break
        centre, size, duration = np.unravel_index(flat, llr.shape)
        places = neighbour[centre, : size + 1]
        if taken[places].any() or observed[centre, size, duration] < min_observed:
            continue
        taken[places] = True
        clusters.append(
            Cluster(
                centre=int(centre),
                places=places,
                radius_m=float(distance[centre, size]),
                days=int(duration) + 1,
                observed=int(observed[centre, size, duration]),
                expected=float(expected[centre, size, duration]),
                llr=float(value),
                p_value=float(p_value),
            )
        )
    return clusters


CASES_SQL = """
SELECT category_id, {column}, {row}, (created_at AT TIME ZONE %(tz)s)::date
  FROM signalements_signalement
 WHERE territory_id = %(territory)s AND duplicate_of_id IS NULL AND status <> 'rejected'
   AND created_at >= %(since)s AND created_at < %(until)s
"""


def _day_start(day: date):
    return timezone.make_aware(timezone.datetime(day.year, day.month, day.day))


def early_warning_parameters(
    *,
    end_date: date,
    baseline_days: int = BASELINE_DAYS,
    max_days: int = MAX_DAYS,
    replicas: int = REPLICAS,
    size_m: int = DEFAULT_CELL_SIZE_M,
    category_ids: list[int] | None = None,
) -> dict:
    """What a run records: the day the scan ends on and the scan's settings."""
    parameters = {
        "end_date": end_date.isoformat(),
        "baseline_days": baseline_days,
        "max_days": max_days,
        "max_radius_m": MAX_RADIUS_M,
        "max_places": MAX_PLACES,
        "max_case_share": MAX_CASE_SHARE,
        "replicas": replicas,
        "alpha": ALPHA,
        "cell_size_m": size_m,
    }
    if category_ids is not None:
        parameters["category_ids"] = sorted(category_ids)
    return parameters


def early_warning_write(*, run: AnalysisRun) -> int:
    """Scan every category of the run's territory (or its `category_ids`) over the baseline ending on
    its `end_date`, and store the significant clusters under `run`, in the caller's transaction.
    The territory's earlier scans of the same end date go, their clusters' announcements kept: a
    scan run again for the same week never announces a cluster twice. Returns the clusters written."""
    territory, parameters = run.territory, run.parameters
    end_date = date.fromisoformat(parameters["end_date"])
    baseline_days, max_days = parameters["baseline_days"], parameters["max_days"]
    replicas, size_m = parameters["replicas"], parameters["cell_size_m"]
    category_ids = parameters.get("category_ids")
    first_day = end_date - timedelta(days=baseline_days - 1)
    previous = AnalysisRun.objects.filter(
        territory=territory, kind=AnalysisRun.Kind.EARLY_WARNING, parameters__end_date=end_date.isoformat()
    ).exclude(pk=run.pk)
    announced = {
        (c.category_id, c.centre.wkt, c.start_date, c.end_date): c.notified_at
        for c in EarlyWarningCluster.objects.filter(run__in=previous, notified_at__isnull=False)
    }
    previous.delete()
    column, row = cell_columns_sql("location_metric", size_m)
    sql = CASES_SQL.format(column=column, row=row)
    if category_ids is not None:
        sql += " AND category_id = ANY(%(categories)s)"
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            {
                "tz": settings.TIME_ZONE,
                "territory": territory.pk,
                "since": _day_start(first_day),
                "until": _day_start(end_date + timedelta(days=1)),
                "categories": category_ids,
            },
        )
        rows = cursor.fetchall()
    if not rows:
        return 0
    category = np.array([r[0] for r in rows])
    cells = np.array([(r[1], r[2]) for r in rows], dtype=np.int64)
    day = np.array([(r[3] - first_day).days for r in rows], dtype=np.int64)
    found = []
    for category_id in np.unique(category):
        mine = category == category_id
        place_cells, case_place = np.unique(cells[mine], axis=0, return_inverse=True)
        place_xy = (place_cells + 0.5) * size_m
        seed = zlib.crc32(f"{territory.pk}:{category_id}:{end_date.isoformat()}".encode())
        for cluster in space_time_permutation_scan(
            place_xy,
            case_place.ravel(),
            day[mine],
            days=baseline_days,
            max_days=max_days,
            replicas=replicas,
            seed=seed,
        ):
            centre = Point(*place_xy[cluster.centre], srid=settings.METRIC_SRID)
            centre.transform(4326)
            start_date = end_date - timedelta(days=cluster.days - 1)
            found.append(
                EarlyWarningCluster(
                    run=run,
                    category_id=int(category_id),
                    centre=centre,
                    # The circle covers its cells: to the farthest cell's centre, plus half a cell.
                    radius_m=cluster.radius_m + size_m / 2,
                    start_date=start_date,
                    end_date=end_date,
                    observed=cluster.observed,
                    expected=cluster.expected,
                    log_likelihood_ratio=cluster.llr,
                    p_value=cluster.p_value,
                    notified_at=announced.get((int(category_id), centre.wkt, start_date, end_date)),
                )
            )
    EarlyWarningCluster.objects.bulk_create(found)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE planning_earlywarningcluster c SET district_id = d.id
              FROM cartography_district d
             WHERE c.run_id = %s AND d.territory_id = %s AND d.layer = %s AND ST_Contains(d.geom, c.centre)
            """,
            [run.pk, territory.pk, territory.locating_layer],
        )
    return len(found)
