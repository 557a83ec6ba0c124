"""Realistic synthetic reports for demos and benchmarks.

Reports are not uniform noise: they fall along synthetic streets (short polylines, denser towards
the centre, with a few busy streets drawing most reports), follow the seasons (leaves in autumn,
ice on a few frost days each winter, potholes after the thaw, more lighting faults in the long
nights), the week (fewer on Sundays) and the day (office hours and evening peaks).

On top of that background, `generate` seeds places whose truth is known (`seeded_places`), so that
the planners' analyses can be checked against it: dead leaves every autumn along a few streets, ice
every winter on a few slopes and bridges, one hotspot emerging over the last months and one fading
away. Their randomness comes from a generator of its own: the background is the same with or
without them, only the seeded reports move.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import shapely
from pyproj import Transformer

# Relative monthly intensity per category (January first). Categories not listed are flat.
SEASONALITY = {
    "feuilles-mortes": [0.2, 0.05, 0, 0, 0, 0, 0, 0.05, 0.6, 4, 5, 1.5],
    "trottoir-verglace": [3, 2.5, 0.5, 0, 0, 0, 0, 0, 0, 0, 0.6, 2.5],
    "nid-de-poule": [1.6, 2.2, 2.4, 1.6, 1, 0.7, 0.6, 0.6, 0.7, 0.8, 0.9, 1.2],
    "lampadaire-eteint": [1.5, 1.3, 1, 0.8, 0.6, 0.5, 0.5, 0.6, 0.9, 1.3, 1.6, 1.7],
    "vegetation": [0.2, 0.2, 0.6, 1.4, 2.2, 2.4, 2, 1.6, 1, 0.5, 0.2, 0.2],
    "dechets": [0.8, 0.8, 0.9, 1, 1.2, 1.4, 1.5, 1.4, 1.1, 0.9, 0.8, 0.9],
    "poubelle-pleine": [0.7, 0.7, 0.8, 1, 1.2, 1.5, 1.7, 1.6, 1.1, 0.9, 0.7, 0.9],
    "avaloir-bouche": [1.2, 1, 0.9, 0.8, 0.8, 0.9, 0.9, 1, 1.1, 1.4, 1.6, 1.3],
    "arbre-dangereux": [1.4, 1.3, 1, 0.8, 0.8, 0.8, 0.9, 0.9, 0.9, 1.2, 1.3, 1.4],
}
# Share of each category in a year (before seasonality).
BASE_WEIGHTS = {
    "depot-sauvage": 20,
    "dechets": 12,
    "tags-graffitis": 10,
    "nid-de-poule": 9,
    "lampadaire-eteint": 7,
    "feuilles-mortes": 6,
    "poubelle-pleine": 5,
    "trottoir-abime": 5,
    "stationnement-genant": 5,
    "trottoir-verglace": 3,
    "vegetation": 3,
    "mobilier-abime": 3,
    "avaloir-bouche": 2,
    "panneau-abime": 2,
    "vehicule-abandonne": 2,
    "arbre-dangereux": 1,
    "marquage-efface": 1,
    "occupation-commerciale": 1,
    "feu-tricolore": 0.5,
    "fuite-eau": 0.5,
    "tag-injurieux": 0.3,
}
# Categories that only happen on some streets (tree-lined, steep or shaded ones).
STREET_TRAITS = {"feuilles-mortes": 0.3, "trottoir-verglace": 0.25, "arbre-dangereux": 0.3}
HOUR_WEIGHTS = np.array([1, 0.5, 0.3, 0.3, 0.3, 0.6, 2, 4, 6, 7, 6, 5, 5, 5, 5, 5, 6, 7, 7, 6, 4, 3, 2, 1.5])
WEEKDAY_WEIGHTS = np.array([1.15, 1.1, 1.05, 1.05, 1.0, 0.8, 0.6])  # Monday first
CHANNELS = (["web", "app", "phone", "email", "counter"], [0.42, 0.36, 0.13, 0.06, 0.03])
FROST_DAYS_PER_WINTER = 12

# Seeded patterns: how many places, how long, and which share of their category's reports they draw.
LEAF_STREETS, LEAF_STREET_M, LEAF_SHARE = 3, 300.0, 0.4
ICE_PLACES, ICE_PLACE_M, ICE_SHARE = 4, 120.0, 0.4
EMERGING_CATEGORY, FADING_CATEGORY = "depot-sauvage", "tags-graffitis"
# The emerging hotspot starts `EMERGING_DAYS` before the end and grows linearly to `TREND_PEAK` of its
# category's reports on its last day; the fading one starts at that share and is gone `FADING_DAYS`
# after the start.
EMERGING_DAYS, FADING_DAYS, TREND_PEAK, TREND_RADIUS_M = 180, 540, 0.12, 35.0


@dataclass(frozen=True)
class Synthetic:
    lon: np.ndarray
    lat: np.ndarray
    category: np.ndarray  # category slugs
    created_at: np.ndarray  # datetime64[s], UTC
    status: np.ndarray
    priority: np.ndarray
    channel: np.ndarray
    truth: "SeededPlaces | None" = field(default=None, compare=False)

    def __len__(self) -> int:
        return len(self.lon)


@dataclass(frozen=True)
class SeededPlaces:
    """The places `generate` seeded, in lon/lat (shapely geometries), with when they are active.

    `leaf_streets` get dead leaves every autumn, `ice_places` (slopes and bridges) ice every winter;
    `emerging` gets more and more reports of `emerging_category` from `emerging_from` on, `fading`
    fewer and fewer of `fading_category` until `fading_until`."""

    leaf_streets: list
    ice_places: list
    emerging: object
    emerging_category: str
    emerging_from: datetime
    fading: object
    fading_category: str
    fading_until: datetime
    # The same places in the metric SRID, which the generator draws on.
    metric: dict = field(repr=False, compare=False)


def _streets(area, centre, rng, count: int):
    """Random short polylines inside the area, denser towards the centre."""
    minx, miny, maxx, maxy = area.bounds
    scale = max(maxx - minx, maxy - miny) / 5
    starts = []
    while len(starts) < count:
        n = count * 2
        central = rng.random(n) < 0.6
        xs = np.where(central, rng.normal(centre.x, scale, n), rng.uniform(minx, maxx, n))
        ys = np.where(central, rng.normal(centre.y, scale, n), rng.uniform(miny, maxy, n))
        inside = shapely.contains_xy(area, xs, ys)
        starts.extend(zip(xs[inside], ys[inside], strict=True))
    starts = np.array(starts[:count])
    segments = rng.integers(1, 4, count)
    vertices = [starts]
    heading = rng.uniform(0, 2 * np.pi, count)
    for step in range(3):
        heading = heading + rng.normal(0, 0.5, count)
        length = rng.uniform(80, 350, count) * (step < segments)
        previous = vertices[-1]
        vertices.append(previous + np.column_stack([np.cos(heading), np.sin(heading)]) * length[:, None])
    return np.stack(vertices, axis=1)  # (count, 4, 2); zero-length tail segments when fewer bends


def _points_on(streets, chosen, rng):
    """A point along each chosen street, a few metres off its axis."""
    seg = streets[chosen]
    lengths = np.linalg.norm(np.diff(seg, axis=1), axis=2)  # (n, 3)
    total = lengths.sum(axis=1)
    target = rng.random(len(chosen)) * total
    cumulative = np.cumsum(lengths, axis=1)
    index = np.minimum((cumulative < target[:, None]).sum(axis=1), 2)
    before = np.where(index > 0, cumulative[np.arange(len(chosen)), index - 1], 0)
    seg_len = np.maximum(lengths[np.arange(len(chosen)), index], 1e-9)
    t = np.clip((target - before) / seg_len, 0, 1)
    a = seg[np.arange(len(chosen)), index]
    b = seg[np.arange(len(chosen)), index + 1]
    points = a + (b - a) * t[:, None]
    direction = (b - a) / seg_len[:, None]
    normal = np.column_stack([-direction[:, 1], direction[:, 0]])
    return points + normal * rng.normal(0, 6, len(chosen))[:, None] + rng.normal(0, 1.5, (len(chosen), 2))


def _to_metric(area_wgs84, metric_srid: int):
    to_metric = Transformer.from_crs(4326, metric_srid, always_xy=True)
    return shapely.transform(area_wgs84, lambda xy: np.column_stack(to_metric.transform(xy[:, 0], xy[:, 1])))


def _inside_segment(area, centre, rng, length: float, spread: float) -> np.ndarray:
    """A straight segment of `length` metres wholly inside `area`, within about `spread` of `centre`."""
    for _ in range(10_000):
        middle = np.array([centre.x, centre.y]) + rng.normal(0, spread, 2)
        heading = rng.uniform(0, np.pi)
        half = np.array([np.cos(heading), np.sin(heading)]) * length / 2
        segment = np.array([middle - half, middle + half])
        if area.contains(shapely.LineString(segment).buffer(30)):
            return segment
    raise ValueError("the area is too small for the seeded places")


def seeded_places(
    *,
    area_wgs84,
    metric_srid: int,
    start: datetime,
    end: datetime,
    seed: int = 1,
    centre_wgs84: tuple[float, float] | None = None,
) -> SeededPlaces:
    """The places `generate` seeds with the same arguments: apart from each other (at least 600 m),
    inside the area, around its centre (within about a fifth of the area's width)."""
    rng = np.random.default_rng([seed, 20])
    area = _to_metric(area_wgs84, metric_srid)
    shapely.prepare(area)
    if centre_wgs84 is not None:
        to_metric = Transformer.from_crs(4326, metric_srid, always_xy=True)
        centre = shapely.Point(to_metric.transform(*centre_wgs84))
    else:
        centre = area.centroid if area.contains(area.centroid) else area.representative_point()
    spread = max(600.0, np.sqrt(area.area) / 5)
    chosen: list[np.ndarray] = []

    def apart(length: float) -> np.ndarray:
        for attempt in range(2_000):
            segment = _inside_segment(area, centre, rng, length, spread)
            line = shapely.LineString(segment)
            # In a small area, settle for less room between the places.
            room = 600 * 0.5 ** (attempt // 200)
            if all(line.distance(shapely.LineString(other)) > room for other in chosen):
                chosen.append(segment)
                return segment
        raise ValueError("the area is too small for the seeded places")

    leaves = [apart(LEAF_STREET_M) for _ in range(LEAF_STREETS)]
    ice = [apart(ICE_PLACE_M) for _ in range(ICE_PLACES)]
    emerging = apart(0.1)[0]
    fading = apart(0.1)[0]
    to_wgs84 = Transformer.from_crs(metric_srid, 4326, always_xy=True)

    def line(segment):
        return shapely.LineString(np.column_stack(to_wgs84.transform(segment[:, 0], segment[:, 1])))

    return SeededPlaces(
        leaf_streets=[line(segment) for segment in leaves],
        ice_places=[line(segment) for segment in ice],
        emerging=shapely.Point(to_wgs84.transform(*emerging)),
        emerging_category=EMERGING_CATEGORY,
        emerging_from=end - timedelta(days=EMERGING_DAYS),
        fading=shapely.Point(to_wgs84.transform(*fading)),
        fading_category=FADING_CATEGORY,
        fading_until=start + timedelta(days=FADING_DAYS),
        metric={"leaves": leaves, "ice": ice, "emerging": emerging, "fading": fading},
    )


def _seed_patterns(
    xy: np.ndarray, category: np.ndarray, created: np.ndarray, truth: SeededPlaces, start, end, seed: int
) -> None:
    """Move a share of some categories' reports onto the seeded places (in place, on `xy`)."""
    rng = np.random.default_rng([seed, 21])
    months = created.astype("datetime64[M]").astype(int) % 12 + 1

    def onto_segments(mask: np.ndarray, segments: list[np.ndarray]) -> None:
        index = np.flatnonzero(mask)
        which = rng.integers(0, len(segments), len(index))
        ends = np.array(segments)[which]  # (n, 2, 2)
        t = rng.random(len(index))[:, None]
        xy[index] = ends[:, 0] + (ends[:, 1] - ends[:, 0]) * t + rng.normal(0, 4, (len(index), 2))

    leaves = (category == "feuilles-mortes") & np.isin(months, [9, 10, 11])
    onto_segments(leaves & (rng.random(len(xy)) < LEAF_SHARE), truth.metric["leaves"])
    ice = (category == "trottoir-verglace") & np.isin(months, [12, 1, 2])
    onto_segments(ice & (rng.random(len(xy)) < ICE_SHARE), truth.metric["ice"])

    end64 = np.datetime64(end.replace(tzinfo=None), "s")
    start64 = np.datetime64(start.replace(tzinfo=None), "s")
    days_left = (end64 - created).astype("timedelta64[s]").astype(np.int64) / 86400
    days_in = (created - start64).astype("timedelta64[s]").astype(np.int64) / 86400
    emerging_share = np.clip(1 - days_left / EMERGING_DAYS, 0, 1) * TREND_PEAK
    fading_share = np.clip(1 - days_in / FADING_DAYS, 0, 1) * TREND_PEAK
    for slug, share, key in (
        (EMERGING_CATEGORY, emerging_share, "emerging"),
        (FADING_CATEGORY, fading_share, "fading"),
    ):
        index = np.flatnonzero((category == slug) & (rng.random(len(xy)) < share))
        angle = rng.uniform(0, 2 * np.pi, len(index))
        radius = TREND_RADIUS_M * np.sqrt(rng.random(len(index)))
        xy[index] = truth.metric[key] + np.column_stack([np.cos(angle), np.sin(angle)]) * radius[:, None]


def generate(
    *,
    area_wgs84,
    metric_srid: int,
    count: int,
    start: datetime,
    end: datetime,
    categories: list[str],
    now: datetime | None = None,
    seed: int = 1,
    centre_wgs84: tuple[float, float] | None = None,
    patterns: bool = True,
) -> Synthetic:
    """`count` reports inside `area_wgs84` (a shapely geometry in lon/lat) between start and end,
    denser around `centre_wgs84` (lon, lat; default: the middle of the area), with the seeded
    places of `seeded_places` unless `patterns` is false (the batch's `truth` says where)."""
    rng = np.random.default_rng(seed)
    to_metric = Transformer.from_crs(4326, metric_srid, always_xy=True)
    to_wgs84 = Transformer.from_crs(metric_srid, 4326, always_xy=True)
    area = _to_metric(area_wgs84, metric_srid)
    shapely.prepare(area)
    if centre_wgs84 is not None:
        centre = shapely.Point(to_metric.transform(*centre_wgs84))
    else:
        centre = area.centroid if area.contains(area.centroid) else area.representative_point()
    streets = _streets(area, centre, rng, count=int(np.clip(count / 10, 300, 30000)))
    popularity = rng.pareto(1.3, len(streets)) + 0.2
    traits = {slug: rng.random(len(streets)) < share for slug, share in STREET_TRAITS.items()}

    # Days: 3 am local-ish noon offsets are added below; frost days are drawn per winter.
    first_day = np.datetime64(start.date(), "D")
    days = np.arange(first_day, np.datetime64(end.date(), "D"))
    months = days.astype("datetime64[M]").astype(int) % 12
    weekdays = (days.astype(int) + 3) % 7  # 1970-01-01 was a Thursday
    growth = np.linspace(0.85, 1.15, len(days))  # more people use the service every year
    winter = np.isin(months, [10, 11, 0, 1, 2])
    frost = np.zeros(len(days), bool)
    frost_candidates = np.flatnonzero(winter)
    if len(frost_candidates):
        winters = max(1, len(days) // 365)
        frost[
            rng.choice(
                frost_candidates, min(len(frost_candidates), FROST_DAYS_PER_WINTER * winters), replace=False
            )
        ] = True

    slugs = [slug for slug in categories if slug in BASE_WEIGHTS] or list(categories)
    day_weights = np.empty((len(slugs), len(days)))
    for i, slug in enumerate(slugs):
        season = np.asarray(SEASONALITY.get(slug, [1] * 12))[months]
        if slug == "trottoir-verglace":
            season = np.where(frost, 40.0, 0.02 * season)
        day_weights[i] = BASE_WEIGHTS.get(slug, 1) * season * WEEKDAY_WEIGHTS[weekdays] * growth
    flat = day_weights.ravel() / day_weights.sum()
    drawn = rng.choice(flat.size, size=count, p=flat)
    category_index, day_index = np.divmod(drawn, len(days))

    chosen = np.empty(count, dtype=np.int64)
    for i, slug in enumerate(slugs):
        mask = category_index == i
        if not mask.any():
            continue
        weights = popularity * traits[slug] if slug in traits else popularity
        chosen[mask] = rng.choice(len(streets), size=int(mask.sum()), p=weights / weights.sum())
    xy = _points_on(streets, chosen, rng)
    outside = ~shapely.contains_xy(area, xy[:, 0], xy[:, 1])
    while outside.any():  # a street end may leave the area: move those onto a street start
        xy[outside] = streets[rng.choice(len(streets), int(outside.sum())), 0] + rng.normal(
            0, 5, (outside.sum(), 2)
        )
        outside = ~shapely.contains_xy(area, xy[:, 0], xy[:, 1])

    hours = rng.choice(24, size=count, p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
    seconds = hours * 3600 + rng.integers(0, 3600, count)
    created = days[day_index].astype("datetime64[s]") + seconds.astype("timedelta64[s]")
    category = np.asarray(slugs)[category_index]
    truth = None
    if patterns:
        truth = seeded_places(
            area_wgs84=area_wgs84,
            metric_srid=metric_srid,
            start=start,
            end=end,
            seed=seed,
            centre_wgs84=centre_wgs84,
        )
        _seed_patterns(xy, category, created, truth, start, end, seed)
    lon, lat = to_wgs84.transform(xy[:, 0], xy[:, 1])

    now64 = np.datetime64((now or datetime.now(UTC)).replace(tzinfo=None), "s")
    age_days = (now64 - created).astype("timedelta64[s]").astype(np.int64) / 86400
    open_until = rng.exponential(20, count)  # how long each report stays open
    is_open = age_days < open_until
    open_status = rng.choice(
        ["new", "acknowledged", "planned", "in_progress"], size=count, p=[0.35, 0.3, 0.15, 0.2]
    )
    done_status = rng.choice(["closed", "resolved", "rejected"], size=count, p=[0.8, 0.12, 0.08])
    status = np.where(is_open, open_status, done_status)
    status = np.where(age_days < 0.2, "new", status)

    priority = np.where(
        np.isin(category, ["trottoir-verglace", "feu-tricolore", "fuite-eau", "arbre-dangereux"]),
        "high",
        "normal",
    )
    priority = np.where(rng.random(count) < 0.03, "urgent", priority)
    channel = rng.choice(CHANNELS[0], size=count, p=CHANNELS[1])
    return Synthetic(
        lon=np.asarray(lon),
        lat=np.asarray(lat),
        category=category,
        created_at=created,
        status=status,
        priority=priority,
        channel=channel,
        truth=truth,
    )
