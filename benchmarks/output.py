"""The results table on the terminal and the JSON file under benchmarks/results/."""

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from .measure import Figure, Report

RESULTS_DIR = Path(__file__).resolve().parent / "results"
COLUMNS = ("benchmark", "measure", "value", "baseline", "baseline value", "vs baseline", "target", "met")


def quantity(value: float | None, unit: str) -> str:
    if value is None:
        return ""
    if unit.endswith("/s"):
        return f"{value:,.0f} {unit}"
    if unit == "×":
        return f"{value:.3f}×"
    if unit == "ms" and value < 10:
        return f"{value:.3f} ms"
    return f"{value:,.1f} {unit}"


def speedup_text(speedup: float | None) -> str:
    if speedup is None:
        return ""
    return f"{speedup:,.1f}× faster" if speedup >= 1 else f"{1 / speedup:,.1f}× slower"


def target_text(figure: Figure) -> str:
    if figure.target is None:
        return ""
    if figure.target.on_ratio:
        return f"≥ {figure.target.threshold:g}× faster"
    sign = "≥" if figure.higher_is_better else "≤"
    return f"{sign} {quantity(figure.target.threshold, figure.unit)}"


def table_lines(reports: list[Report]) -> list[str]:
    rows = [COLUMNS]
    for report in reports:
        for figure in report.figures:
            met = {None: "", True: "yes", False: "NO"}[figure.met]
            rows.append(
                (
                    report.name,
                    figure.measure,
                    quantity(figure.value, figure.unit),
                    figure.baseline,
                    quantity(figure.baseline_value, figure.unit),
                    speedup_text(figure.speedup),
                    target_text(figure),
                    met,
                )
            )
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return lines


def details_lines(report: Report) -> list[str]:
    lines = [f"[{report.name}]", *(f"  {note}" for note in report.notes)]
    steps = report.details.get("steps_s")
    if steps:
        total = sum(steps.values())
        rows = report.details["rows_inserted"]
        lines.append("  bulk load, time by step:")
        width = max(len(name) for name in steps)
        lines += [
            f"    {name.ljust(width)}  {seconds:8.2f} s  {seconds / total:6.1%}  "
            f"{seconds / rows * 1e6:6.1f} µs/row"
            for name, seconds in steps.items()
        ]
    if any(figure.met is False for figure in report.figures):
        for name, plan in report.details.get("sample_plans", {}).items():
            lines.append(f"  EXPLAIN ANALYZE on the sample, {name}:")
            lines += [f"    {line}" for line in plan.splitlines()]
    return lines


def report_print(reports: list[Report], meta: dict[str, Any]) -> None:
    load = ", ".join(f"{value:.1f}" for value in meta["load_average_1_5_15min"])
    print(
        f"\n{meta['rows']:,} reports, {meta['database']['postgres']}, {meta['cpus']} CPUs, "
        f"load average at the end {load} (other work on the machine skews the figures)\n"
    )
    print("\n".join(table_lines(reports)))
    for report in reports:
        print()
        print("\n".join(details_lines(report)))


def results_write(reports: list[Report], meta: dict[str, Any], started: datetime) -> Path:
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"{started:%Y%m%dT%H%M%S}.json"
    document = {"meta": meta, "benchmarks": {report.name: report.as_json() for report in reports}}
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    return path
