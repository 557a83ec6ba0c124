"""The locate cells built again at the commit of a boundary edit: for the territory it touches
(cartography.database) against every territory (as the first version of the cells did), with a
second city loaded."""

import io

import numpy as np
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Count, F

from cartography.models import LocateCell, Territory, WorkZone

from .measure import Figure, Report, Stopwatch

SECOND_CITY = "paris"
ROUNDS = 5


def edit_commit(zone_id: int, step: int, *, everywhere: bool) -> float:
    """Seconds for one transaction that moves a work zone's priority by `step` and commits, the
    cells built at its commit for the zone's territory, or for every territory (`everywhere`)."""
    with Stopwatch() as watch, transaction.atomic(), connection.cursor() as cursor:
        WorkZone.objects.filter(pk=zone_id).update(priority=F("priority") + step)
        if everywhere:
            cursor.execute("SELECT cartography_locatecells_mark('{}', true)")
    return watch.seconds


def run() -> Report:
    if not Territory.objects.filter(slug=SECOND_CITY).exists():
        call_command("load_demo", city=SECOND_CITY, no_reports=True, stdout=io.StringIO())
    cells = dict(
        LocateCell.objects.values("territory_id").annotate(n=Count("id")).values_list("territory_id", "n")
    )
    names = dict(Territory.objects.values_list("pk", "name"))
    report = Report("cells")
    times: dict[str, dict[str, list[float]]] = {}
    for territory_id, name in sorted(names.items()):
        zone_id = (
            WorkZone.objects.filter(team__territory_id=territory_id)
            .order_by("pk")
            .values_list("pk", flat=True)[0]
        )
        scoped, everywhere = [], []
        for round_no in range(ROUNDS):  # side by side, each round's two edits cancel out
            step = 1 if round_no % 2 == 0 else -1
            scoped.append(edit_commit(zone_id, step, everywhere=False))
            everywhere.append(edit_commit(zone_id, -step, everywhere=True))
        times[name] = {"territory": scoped, "everywhere": everywhere}
        report.figures.append(
            Figure(
                f"a work zone of {name} edited: its {cells.get(territory_id, 0):,} cells built at commit",
                float(np.median(scoped)) * 1000,
                "ms",
                baseline=f"every territory built ({sum(cells.values()):,} cells)",
                baseline_value=float(np.median(everywhere)) * 1000,
            )
        )
    report.details = {"cells_by_territory": {names[pk]: n for pk, n in cells.items()}, "seconds": times}
    report.notes.append(
        f"median of {ROUNDS} commits each, alternating; the zone's priority moves by one and back"
    )
    return report
