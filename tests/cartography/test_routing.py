"""Route order of a crew's stops: exact on small cases, good and repeatable on large ones."""

import itertools

import numpy as np
import pytest

from cartography import routing
from cartography.routing import order_stops, tour_length

# Local search alone stops 9.5 % above the optimum here (4162.4 m): no single 2-opt or Or-opt move
# shortens its tour, only the kicks get out.
STUCK_STOPS = np.array(
    [
        [1901, 1814],
        [1030, 278],
        [1858, 534],
        [1827, 1921],
        [1336, 876],
        [1447, 1119],
        [1629, 664],
        [1953, 491],
        [1371, 1186],
        [958, 73],
        [1432, 1511],
        [1525, 1966],
    ],
    dtype=float,
)
STUCK_DEPOT = np.array([1003.0, 815.0])


def brute_force_length(points: np.ndarray, depot: np.ndarray) -> float:
    return min(tour_length(list(p), points, depot) for p in itertools.permutations(range(len(points))))


def nearest_neighbour_length(points: np.ndarray, depot: np.ndarray) -> float:
    left, here, length = list(range(len(points))), depot, 0.0
    while left:
        gaps = np.linalg.norm(points[left] - here, axis=1)
        k = int(np.argmin(gaps))
        length += float(gaps[k])
        here = points[left.pop(k)]
    return length


def clustered(stops: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Stops in a few neighbourhoods of a 10 km wide city, as reports are."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 10_000, (8, 2))
    points = centres[rng.integers(0, len(centres), stops)] + rng.normal(0, 400, (stops, 2))
    return points, rng.uniform(0, 10_000, 2)


@pytest.mark.parametrize("seed", range(8))
def test_the_route_is_optimal_on_small_cases_checked_by_brute_force(seed):
    rng = np.random.default_rng(seed)
    points, depot = rng.uniform(0, 2000, (7, 2)), rng.uniform(0, 2000, 2)

    assert tour_length(order_stops(points, start=depot), points, depot) == pytest.approx(
        brute_force_length(points, depot)
    )


@pytest.mark.parametrize("seed", range(8))
def test_the_local_search_alone_finds_the_optimum_on_small_cases(monkeypatch, seed):
    monkeypatch.setattr(routing, "EXACT_UP_TO", 0)
    rng = np.random.default_rng(100 + seed)
    points, depot = rng.uniform(0, 2000, (7, 2)), rng.uniform(0, 2000, 2)

    assert tour_length(order_stops(points, start=depot), points, depot) == pytest.approx(
        brute_force_length(points, depot)
    )


def test_the_kicks_get_out_of_a_tour_no_single_move_shortens(monkeypatch):
    def length(**options) -> float:
        return tour_length(order_stops(STUCK_STOPS, start=STUCK_DEPOT, **options), STUCK_STOPS, STUCK_DEPOT)

    local_optimum, found = length(kicks=0), length()
    monkeypatch.setattr(routing, "EXACT_UP_TO", len(STUCK_STOPS))  # Held-Karp on all 12
    optimum = length()

    assert local_optimum > optimum * 1.05
    assert found == pytest.approx(optimum)


def test_forced_stops_come_first_in_their_own_best_order():
    points = np.array([[100, 0], [200, 0], [300, 0], [5000, 0], [5100, 0]], dtype=float)

    order = order_stops(points, start=np.zeros(2), first=[4, 3])

    assert order[:2] == [3, 4] and sorted(order[2:]) == [0, 1, 2]


def test_many_forced_stops_come_first_then_the_others_from_the_last_of_them():
    points, depot = clustered(60, seed=3)
    forced = list(range(0, 60, 3))  # 20: beyond the exact method, both parts searched

    order = order_stops(points, start=depot, first=forced)

    assert sorted(order[:20]) == forced and sorted(order) == list(range(60))
    alone = order_stops(points[forced], start=depot)
    assert tour_length(order[:20], points, depot) == pytest.approx(tour_length(alone, points[forced], depot))


def test_the_same_stops_give_the_same_order():
    points, depot = clustered(200, seed=5)

    first = order_stops(points, start=depot, first=[7, 3])
    other, elsewhere = clustered(120, seed=6)
    order_stops(other, start=elsewhere)  # nothing carried over from one call to the next
    again = order_stops(points.copy(), start=depot.copy(), first=[7, 3])

    assert first == again


@pytest.mark.parametrize("seed", range(3))
def test_200_clustered_stops_are_all_visited_once_on_a_tour_shorter_than_nearest_neighbour(seed):
    points, depot = clustered(200, seed)

    order = order_stops(points, start=depot)

    assert sorted(order) == list(range(200))
    assert tour_length(order, points, depot) < nearest_neighbour_length(points, depot)


def test_stops_on_the_same_spot_and_without_a_depot():
    points = np.repeat(np.array([[0.0, 0.0], [500.0, 0.0], [500.0, 500.0]]), 6, axis=0)

    order = order_stops(points)

    assert sorted(order) == list(range(18))
    assert tour_length(order, points) == pytest.approx(1000)
