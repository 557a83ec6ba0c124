"""Ordering a crew's stops: an open tour from the depot on projected coordinates in metres.

Up to EXACT_UP_TO stops the order is exact (Held-Karp). Beyond, a nearest-neighbour tour is improved
by 2-opt and Or-opt moves, then by iterated local search: a fixed number of small double-bridge kicks,
each repaired by the same moves, the kicked tour kept only when shorter; two such searches share the
kicks, and the shorter path wins. The moves only look at each
stop's nearest neighbours and only at stops whose edges changed, so a repair costs a few dozen moves
instead of full passes. The kicks come from a seeded generator: the same stops give the same order.
"""

import random
from collections.abc import Sequence

import numpy as np

WALKING_M_PER_S = 4.5 / 3.6
DRIVING_M_PER_S = 20 / 3.6  # urban average, stops included

EXACT_UP_TO = 10
NEIGHBOURS = 8
# Tours close to those found with far more kicks, in tens of milliseconds (FINDINGS.md: routing).
KICKS = 400
# Independent searches sharing the kicks: one search caught in a poor basin no longer decides; two
# searches of half the kicks are better at worst in the same time (they start from the same improved
# path; benchmarks/results/FINDINGS.md: routing).
SEARCHES = 2
KICKS_FULL_UP_TO = 200  # stops; beyond, fewer kicks so that a long list costs about as much
KICK_SPAN = 30  # longest segment a kick swaps, in stops: repairs stay local
SEED = 5
_EPSILON = 1e-7  # metres: gains below are rounding noise and would let the search cycle


def tour_length(order: list[int], points: np.ndarray, start: np.ndarray | None = None) -> float:
    path = points[order]
    length = float(np.linalg.norm(np.diff(path, axis=0), axis=1).sum())
    if start is not None and len(order):
        length += float(np.linalg.norm(path[0] - start))
    return length


def _held_karp(dist: np.ndarray, origin: int, todo: list[int]) -> list[int]:
    """The shortest open path from `origin` through every node of `todo` (dynamic programming,
    exact; 2^n × n² steps, so for small n only)."""
    n = len(todo)
    best: dict[tuple[int, int], tuple[float, int]] = {}
    for k, node in enumerate(todo):
        best[(1 << k, k)] = (dist[origin, node], -1)
    for mask in range(1, 1 << n):
        for last in range(n):
            if not mask & (1 << last) or (mask, last) not in best:
                continue
            length = best[(mask, last)][0]
            for k in range(n):
                if mask & (1 << k):
                    continue
                key = (mask | (1 << k), k)
                candidate = length + dist[todo[last], todo[k]]
                if key not in best or candidate < best[key][0]:
                    best[key] = (candidate, last)
    full = (1 << n) - 1
    last = min(range(n), key=lambda k: best[(full, k)][0])
    path, mask = [], full
    while last != -1:
        path.append(todo[last])
        mask, last = mask & ~(1 << last), best[(mask, last)][1]
    return path[::-1]


def _nearest_neighbour(dist: np.ndarray) -> list[int]:
    """Open path from node 0 always to the closest node not yet visited."""
    free = np.ones(len(dist), dtype=bool)
    path = [0]
    free[0] = False
    for _ in range(len(dist) - 1):
        candidates = np.where(free, dist[path[-1]], np.inf)
        node = int(np.argmin(candidates))
        path.append(node)
        free[node] = False
    return path


class _OpenPath:
    """An open path over nodes 0..m-1 starting at node 0, which never moves, with each node's
    position, improved in place by 2-opt and Or-opt moves found through neighbour lists."""

    def __init__(self, path: list[int], dist: np.ndarray, neighbours: int):
        self.t = list(path)
        self.pos = [0] * len(path)
        for k, node in enumerate(self.t):
            self.pos[node] = k
        self.d = dist.tolist()
        k = min(neighbours, len(path) - 1)
        near = np.argpartition(dist, k, axis=1)[:, : k + 1]
        order = np.take_along_axis(dist, near, axis=1).argsort(axis=1, kind="stable")
        self.near = [
            [c for c in row if c != a]
            for a, row in enumerate(np.take_along_axis(near, order, axis=1).tolist())
        ]
        self.length = sum(self.d[a][b] for a, b in zip(self.t, self.t[1:], strict=False))

    def _reverse(self, i: int, j: int) -> None:
        t, pos = self.t, self.pos
        t[i : j + 1] = t[i : j + 1][::-1]
        for k in range(i, j + 1):
            pos[t[k]] = k

    def _two_opt(self, a: int) -> tuple[int, ...] | None:
        """The first shortening 2-opt move making an edge from `a` to a neighbour, applied."""
        t, pos, d = self.t, self.pos, self.d
        last = len(t) - 1
        i = pos[a]
        if i < last:
            sa = t[i + 1]
            d_a_sa = d[a][sa]
            row = d[a]
            for c in self.near[a]:
                g1 = d_a_sa - row[c]
                if g1 <= _EPSILON:
                    break
                j = pos[c]
                if j == last:
                    self._reverse(i + 1, last)
                    self.length -= g1
                    return a, sa, c
                if j == i - 1:
                    continue
                sc = t[j + 1]
                gain = g1 + d[c][sc] - d[sa][sc]
                if gain > _EPSILON:
                    if i < j:
                        self._reverse(i + 1, j)
                    else:
                        self._reverse(j + 1, i)
                    self.length -= gain
                    return a, sa, c, sc
        else:
            row = d[a]
            for c in self.near[a]:
                j = pos[c]
                if j == last - 1:
                    continue
                sc = t[j + 1]
                gain = d[c][sc] - row[c]
                if gain > _EPSILON:
                    self._reverse(j + 1, last)
                    self.length -= gain
                    return a, c, sc
        if i >= 1:
            pa = t[i - 1]
            d_pa_a = d[pa][a]
            row = d[a]
            for c in self.near[a]:
                g1 = d_pa_a - row[c]
                if g1 <= _EPSILON:
                    break
                j = pos[c]
                if j == 0 or j == i + 1:
                    continue
                pc = t[j - 1]
                gain = g1 + d[pc][c] - d[pa][pc]
                if gain > _EPSILON:
                    if j < i:
                        self._reverse(j, i - 1)
                    else:
                        self._reverse(i, j - 1)
                    self.length -= gain
                    return a, pa, c, pc
        return None

    def _or_opt(self, a: int) -> tuple[int, ...] | None:
        """The first shortening move of a run of 1 to 3 nodes that starts or ends at `a` to a
        place next to a neighbour of `a` (reversed or not), applied."""
        t, pos, d = self.t, self.pos, self.d
        last = len(t) - 1
        i = pos[a]
        if i == 0:
            return None
        row = d[a]
        for size in (1, 2, 3):
            for lo in (i,) if size == 1 else (i, i - size + 1):
                hi = lo + size - 1
                if lo < 1 or hi > last:
                    continue
                b = t[hi] if lo == i else t[lo]  # the run's other end
                s1, s_end = t[lo], t[hi]
                p = t[lo - 1]
                q = t[hi + 1] if hi < last else -1
                removed = d[p][s1] + (d[s_end][q] - d[p][q] if q >= 0 else 0.0)
                if removed <= _EPSILON:
                    continue
                for c in self.near[a]:
                    g1 = removed - row[c]
                    if g1 <= _EPSILON:
                        break
                    j = pos[c]
                    if lo <= j <= hi:
                        continue
                    # After the run is taken out, c's neighbours are:
                    cn = q if j == lo - 1 else (t[j + 1] if j < last else -1)
                    cp = p if j == hi + 1 else t[j - 1]
                    # a next to c, then b next to c's successor (or the path's end)...
                    gain = g1 - (d[b][cn] - d[c][cn] if cn >= 0 else 0.0)
                    after = True
                    if gain <= _EPSILON and j > 0:
                        # ...or b next to c's predecessor.
                        gain = g1 - (d[b][cp] - d[cp][c])
                        after = False
                    if gain <= _EPSILON:
                        continue
                    run = t[lo : hi + 1] if lo == i else t[lo : hi + 1][::-1]  # from a to b
                    if not after:
                        run.reverse()
                    rest = t[:lo] + t[hi + 1 :]
                    k = (j if j < lo else j - size) + (1 if after else 0)
                    t[:] = rest[:k] + run + rest[k:]
                    for m in range(min(lo, k), max(hi, k + size - 1) + 1):
                        pos[t[m]] = m
                    self.length -= gain
                    return p, q, a, b, c, cn if after else cp
        return None

    def improve(self, queue: list[int]) -> None:
        """Apply moves until no node in `queue`, or touched by a move, has a shortening one."""
        queued = [False] * len(self.t)
        for a in queue:
            queued[a] = True
        while queue:
            a = queue.pop()
            queued[a] = False
            touched = self._two_opt(a) or self._or_opt(a)
            if touched:
                for node in touched:
                    if node >= 0 and not queued[node]:
                        queued[node] = True
                        queue.append(node)

    def kick(self, rng: random.Random) -> list[int]:
        """Swap two short adjacent segments, each maybe reversed (a double bridge, or a random
        3-opt move); returns the nodes whose edges changed."""
        t, pos, d = self.t, self.pos, self.d
        m = len(t)
        span = max(1, min(KICK_SPAN, (m - 1) // 3))
        p1 = rng.randint(1, m - 2)
        p2 = min(p1 + rng.randint(1, span), m - 1)
        p3 = min(p2 + rng.randint(1, span), m)
        first, second = t[p1:p2], t[p2:p3]
        flips = rng.randrange(4)
        if flips & 1:
            first.reverse()
        if flips & 2:
            second.reverse()
        ends = [t[p1 - 1], t[p1], t[p2 - 1], t[p2], t[p3 - 1]]
        before = d[t[p1 - 1]][t[p1]] + d[t[p2 - 1]][t[p2]]
        after = d[t[p1 - 1]][second[0]] + d[second[-1]][first[0]]
        if p3 < m:
            ends.append(t[p3])
            before += d[t[p3 - 1]][t[p3]]
            after += d[first[-1]][t[p3]]
        t[p1:p3] = second + first
        for k in range(p1, p3):
            pos[t[k]] = k
        self.length += after - before
        return ends


def _local_search_path(dist: np.ndarray, kicks: int, seed: int) -> list[int]:
    """A short open path from node 0 through every node of `dist`: the shortest of SEARCHES
    iterated local searches from the same improved nearest-neighbour path, sharing the kicks."""
    tour = _OpenPath(_nearest_neighbour(dist), dist, NEIGHBOURS)
    tour.improve(list(range(len(dist)))[::-1])
    if len(dist) < 4:  # nothing a kick could change that the moves do not try
        return tour.t
    start = list(tour.t), list(tour.pos), tour.length
    shortest, shortest_length = start[0], start[2]
    for search in range(SEARCHES):
        rng = random.Random(seed + search)
        best, best_pos, best_length = list(start[0]), list(start[1]), start[2]
        tour.t[:], tour.pos[:], tour.length = best, best_pos, best_length
        for _ in range(kicks // SEARCHES):
            tour.improve(tour.kick(rng))
            if tour.length < best_length - _EPSILON:
                best, best_pos, best_length = list(tour.t), list(tour.pos), tour.length
            else:
                tour.t[:], tour.pos[:], tour.length = best, best_pos, best_length
        if best_length < shortest_length - _EPSILON:
            shortest, shortest_length = best, best_length
    return shortest


def _open_path(dist: np.ndarray, origin: int, todo: list[int], *, kicks: int | None, seed: int) -> list[int]:
    if len(todo) <= EXACT_UP_TO:
        return _held_karp(dist, origin, todo)
    if kicks is None:
        kicks = KICKS * min(1, KICKS_FULL_UP_TO / len(todo))
    nodes = np.array([origin, *todo])
    path = _local_search_path(dist[np.ix_(nodes, nodes)], round(kicks), seed)
    return nodes[path[1:]].tolist()


def order_stops(
    points: np.ndarray,
    *,
    start: np.ndarray | None = None,
    first: Sequence[int] = (),
    kicks: int | None = None,
    seed: int = SEED,
) -> list[int]:
    """Visiting order of `points` (n×2, metres) from `start`; the indexes in `first` (urgent,
    overdue) are visited before the others, in their own best order. `kicks` overrides the
    search's budget (KICKS, fewer beyond KICKS_FULL_UP_TO stops)."""
    n = len(points)
    if n == 0:
        return []
    anchor = start if start is not None else points[0]
    nodes = np.vstack([anchor, points])  # node 0 is the depot
    dist = np.linalg.norm(nodes[:, None, :] - nodes[None, :, :], axis=2)
    forced = [i + 1 for i in dict.fromkeys(first) if 0 <= i < n]
    others = sorted(set(range(1, n + 1)) - set(forced))
    path = _open_path(dist, 0, forced, kicks=kicks, seed=seed) if forced else []
    if others:
        path += _open_path(dist, path[-1] if path else 0, others, kicks=kicks, seed=seed)
    return [node - 1 for node in path]
