"""Ordering a crew's stops: an open tour from the depot (nearest neighbour, then 2-opt and
Or-opt until no move shortens it), on projected coordinates in metres."""

import numpy as np

WALKING_M_PER_S = 4.5 / 3.6
DRIVING_M_PER_S = 20 / 3.6  # urban average, stops included


def tour_length(order: list[int], points: np.ndarray, start: np.ndarray | None = None) -> float:
    path = points[order]
    length = float(np.linalg.norm(np.diff(path, axis=0), axis=1).sum())
    if start is not None and len(order):
        length += float(np.linalg.norm(path[0] - start))
    return length


def _nearest_neighbour(dist: np.ndarray, first: int, todo: list[int]) -> list[int]:
    path, left, current = [], set(todo), first
    while left:
        candidates = np.fromiter(left, dtype=int)
        current = int(candidates[np.argmin(dist[current, candidates])])
        path.append(current)
        left.remove(current)
    return path


def _two_opt(path: list[int], dist: np.ndarray, fixed: int) -> list[int]:
    """Reverse segments while it shortens the open path; positions < fixed do not move."""
    p = np.array(path)
    improved = True
    while improved:
        improved = False
        for i in range(max(fixed, 1), len(p) - 1):
            a, b = p[i - 1], p[i]
            js = np.arange(i + 1, len(p))
            c = p[js]
            d_next = np.append(p[js[:-1] + 1], -1)
            old = dist[a, b] + np.where(d_next >= 0, dist[c, np.maximum(d_next, 0)], 0)
            new = dist[a, c] + np.where(d_next >= 0, dist[b, np.maximum(d_next, 0)], 0)
            gain = old - new
            best = int(np.argmax(gain))
            if gain[best] > 1e-9:
                j = js[best]
                p[i : j + 1] = p[i : j + 1][::-1]
                improved = True
    return p.tolist()


def _or_opt(path: list[int], dist: np.ndarray, fixed: int) -> list[int]:
    """Move runs of 1 to 3 stops, reversed or not, to the best place in the path while it
    shortens it; the gains of every insertion place are computed at once."""
    p = list(path)
    improved = True
    while improved:
        improved = False
        for size in (1, 2, 3):
            i = max(fixed, 1)
            while i + size <= len(p):
                run = p[i : i + size]
                before, after = p[i - 1], (p[i + size] if i + size < len(p) else None)
                removed = dist[before, run[0]] + (
                    dist[run[-1], after] - dist[before, after] if after is not None else 0
                )
                rest = np.array(p[:i] + p[i + size :])
                u = rest[max(fixed, 1) - 1 :]  # insert after u (the first fixed place stays)
                v = np.append(rest[max(fixed, 1) :], -1)
                has_v = v >= 0
                vv = np.maximum(v, 0)
                best_gain, best_at, best_run = 1e-9, None, None
                for candidate in (run, run[::-1]):
                    added = dist[u, candidate[0]] + np.where(has_v, dist[candidate[-1], vv] - dist[u, vv], 0)
                    gains = removed - added
                    k = int(np.argmax(gains))
                    if gains[k] > best_gain:
                        best_gain, best_at, best_run = gains[k], k + max(fixed, 1), candidate
                if best_at is not None:
                    rest_list = rest.tolist()
                    p = rest_list[:best_at] + list(best_run) + rest_list[best_at:]
                    improved = True
                else:
                    i += 1
    return p


EXACT_UP_TO = 10


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


def order_stops(
    points: np.ndarray, *, start: np.ndarray | None = None, first: list[int] = (), polish: bool = True
) -> list[int]:
    """Visiting order of `points` (n×2, metres) from `start`; the indexes in `first` (urgent,
    overdue) are visited before the others, in their own best order."""
    n = len(points)
    if n == 0:
        return []
    anchor = start if start is not None else points[0]
    nodes = np.vstack([anchor, points])  # node 0 is the depot
    dist = np.linalg.norm(nodes[:, None, :] - nodes[None, :, :], axis=2)
    forced = [i + 1 for i in dict.fromkeys(first) if 0 <= i < n]
    others = [i + 1 for i in range(n) if i + 1 not in set(forced)]
    path = [0]
    if forced:
        path += (
            _held_karp(dist, 0, forced)
            if len(forced) <= EXACT_UP_TO
            else _two_opt([0, *_nearest_neighbour(dist, 0, forced)], dist, fixed=1)[1:]
        )
    fixed = len(path)
    if len(others) <= EXACT_UP_TO:
        return (
            [node - 1 for node in path[1:] + _held_karp(dist, path[-1], others)]
            if others
            else [node - 1 for node in path[1:]]
        )
    path += _nearest_neighbour(dist, path[-1], others)
    path = _two_opt(path, dist, fixed=fixed)
    if polish and n <= 400:
        path = _or_opt(path, dist, fixed=fixed)
        path = _two_opt(path, dist, fixed=fixed)
    return [node - 1 for node in path[1:]]
