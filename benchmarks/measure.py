"""What a benchmark reports, and the timing helpers they share."""

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any

import numpy as np
from django.db import connection, transaction


@dataclass(frozen=True)
class Target:
    """A bound on a figure's value (≥ for rates, ≤ for latencies) or on its speed-up over the baseline."""

    threshold: float
    on_ratio: bool = False


@dataclass
class Figure:
    measure: str
    value: float
    unit: str  # "rows/s" is better higher, "ms" better lower
    baseline: str = ""
    baseline_value: float | None = None
    target: Target | None = None

    @property
    def higher_is_better(self) -> bool:
        return self.unit.endswith("/s")

    @property
    def speedup(self) -> float | None:
        """How many times better than the baseline (below 1: worse)."""
        if self.baseline_value is None or not self.value or not self.baseline_value:
            return None
        return self.value / self.baseline_value if self.higher_is_better else self.baseline_value / self.value

    @property
    def met(self) -> bool | None:
        if self.target is None:
            return None
        if self.target.on_ratio:
            return self.speedup is not None and self.speedup >= self.target.threshold
        if self.higher_is_better:
            return self.value >= self.target.threshold
        return self.value <= self.target.threshold

    def as_json(self) -> dict[str, Any]:
        return {
            "measure": self.measure,
            "value": self.value,
            "unit": self.unit,
            "baseline": self.baseline or None,
            "baseline_value": self.baseline_value,
            "speedup": self.speedup,
            "target": None
            if self.target is None
            else {"threshold": self.target.threshold, "on": "speedup" if self.target.on_ratio else "value"},
            "met": self.met,
        }


@dataclass
class Report:
    """One benchmark's figures, with its side data (counts, step profiles, plans) and notes."""

    name: str
    figures: list[Figure] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "figures": [f.as_json() for f in self.figures],
            "details": self.details,
            "notes": self.notes,
        }


class Stopwatch:
    """`with Stopwatch() as watch: …` then `watch.seconds`."""

    seconds: float = 0.0

    def __enter__(self) -> "Stopwatch":
        self._start = perf_counter()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.seconds = perf_counter() - self._start


@contextmanager
def rolled_back() -> Iterator[None]:
    """A transaction that is always rolled back, so that a baseline leaves the tables as they were.

    Foreign keys are checked as rows are written: deferred, their checks would wait for a commit that
    never comes, and the measure would leave out work every real write pays.
    """
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        yield
        transaction.set_rollback(True)


def duration(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def percentiles(values: Sequence[float]) -> tuple[float, float]:
    """p50 and p95."""
    p50, p95 = np.percentile(np.asarray(values), [50, 95])
    return float(p50), float(p95)


def explain_ms(cursor: Any, query: str, params: dict[str, Any] | Sequence[Any]) -> tuple[float, float]:
    """Execution and planning time (ms) of one run of `query`, as the server measured them.

    TIMING OFF: the total is still measured, without a clock read around every plan node.
    """
    cursor.execute(f"EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) {query}", params)
    plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return plan[0]["Execution Time"], plan[0]["Planning Time"]


def queryset_explain_ms(queryset: Any) -> float:
    """Execution time (ms) of one run of a queryset's query, as the server measured it."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        return explain_ms(cursor, sql, params)[0]


def vacuum_analyze(*tables: str) -> float:
    """VACUUM (ANALYZE) the tables (the whole database if none), outside any transaction; seconds."""
    with Stopwatch() as watch, connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {', '.join(tables)}")
    return watch.seconds
