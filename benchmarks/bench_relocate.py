"""Relocate every report after a boundary change: one set-based UPDATE against a per-row ORM loop."""

import numpy as np
from django.contrib.gis.db.models.functions import Area
from django.contrib.gis.geos import Point
from django.db import transaction
from django.db.models import Count

from cartography.models import District, Territory, WorkZone
from signalements.locating import signalements_relocate
from signalements.models import Category, Signalement

from .data import territory_get
from .measure import Figure, Report, Stopwatch, Target, duration, rolled_back, vacuum_analyze

TARGET_SPEEDUP = 100


@transaction.atomic
def districts_swap(first: int, second: int) -> None:
    """Swap two districts' boundaries; the subdivision triggers follow."""
    geoms = dict(District.objects.filter(pk__in=[first, second]).values_list("pk", "geom"))
    District.objects.filter(pk=first).update(geom=geoms[second])
    District.objects.filter(pk=second).update(geom=geoms[first])


def team_by_orm(location: Point, category: Category, territory: Territory) -> int | None:
    """The responsible team, one ORM query per rule. Planar area is enough to rank zones within a city."""
    zones = (
        WorkZone.objects.filter(geom__contains=location, team__is_active=True)
        .annotate(area=Area("geom"))
        .order_by("-priority", "area", "pk")
    )
    zone = zones.filter(categories=category).first() or zones.filter(categories__isnull=True).first()
    if zone is not None:
        return zone.team_id
    default = category.default_team
    if default is None or not default.is_active or default.territory_id not in (None, territory.pk):
        return None
    return default.pk


def relocate_row_by_row(ids: list[int]) -> int:
    """What a per-report relocation does (as Signalen does it): query district and team, and save()
    the reports whose district or team changes."""
    moved = 0
    reports = Signalement.objects.filter(pk__in=ids).select_related("territory", "category__default_team")
    for signalement in reports:
        territory = signalement.territory
        district = (
            District.objects.filter(
                territory=territory, layer=territory.locating_layer, geom__contains=signalement.location
            )
            .order_by("pk")
            .first()
        )
        team_id = (
            signalement.team_id
            if signalement.team_is_manual
            else team_by_orm(signalement.location, signalement.category, territory)
        )
        district_id = district.pk if district is not None else None
        if (district_id, team_id) == (signalement.district_id, signalement.team_id):
            continue  # the strongest reasonable loop writes only what moves, as the UPDATE does
        moved += 1
        signalement.district_id, signalement.team_id = district_id, team_id
        signalement.save(update_fields=["district_id", "team_id"])  # the last change kept, as the UPDATE does
    return moved


def run(*, sample_size: int, seed: int) -> Report:
    territory = territory_get()
    reports = Signalement.objects.filter(territory=territory)
    busiest = [
        row["district_id"]
        for row in reports.exclude(district=None)
        .values("district_id")
        .annotate(n=Count("id"))
        .order_by("-n")[:2]
    ]
    first, second = busiest
    in_swapped = reports.filter(district_id__in=busiest).count()
    ids = reports.values_list("pk", flat=True)
    sample = np.random.default_rng(seed).choice(np.fromiter(ids, dtype=np.int64), sample_size, replace=False)

    with Stopwatch() as unchanged:
        moved_unchanged = signalements_relocate(territory_id=territory.pk)
    with rolled_back(), Stopwatch() as orm_unchanged:
        moved_sample_unchanged = relocate_row_by_row(sample.tolist())
    districts_swap(first, second)
    with Stopwatch() as swapped:
        moved = signalements_relocate(territory_id=territory.pk)
    with rolled_back():
        districts_swap(first, second)  # back, so that the sample's reports move back as the others will
        with Stopwatch() as orm:
            moved_sample = relocate_row_by_row(sample.tolist())
    districts_swap(first, second)
    with Stopwatch() as restored:
        moved_back = signalements_relocate(territory_id=territory.pk)
    vacuum_s = vacuum_analyze("signalements_signalement")

    evaluated = reports.count()
    names = dict(District.objects.filter(pk__in=busiest).values_list("pk", "name"))
    report = Report("relocate")
    baseline = f"per-row ORM, save() of what moves, {sample_size:,}-row sample"
    report.figures = [
        Figure(
            f"relocate {evaluated:,} rows after a swap ({moved:,} move)",
            evaluated / swapped.seconds,
            "rows/s",
            baseline=baseline,
            baseline_value=sample_size / orm.seconds,
            target=Target(TARGET_SPEEDUP, on_ratio=True),
        ),
        Figure(
            f"relocate {evaluated:,} rows, no boundary change ({moved_unchanged:,} move)",
            evaluated / unchanged.seconds,
            "rows/s",
            baseline=f"{baseline}, no boundary change",
            baseline_value=sample_size / orm_unchanged.seconds,
            target=Target(TARGET_SPEEDUP, on_ratio=True),
        ),
    ]
    report.details = {
        "rows": evaluated,
        "swapped_districts": [names[first], names[second]],
        "rows_in_swapped_districts": in_swapped,
        "set_based_s": {
            "swap": swapped.seconds,
            "swap_back": restored.seconds,
            "no_change": unchanged.seconds,
        },
        "moved": {
            "swap": moved,
            "swap_back": moved_back,
            "no_change": moved_unchanged,
            "orm_sample": moved_sample,
            "orm_sample_no_change": moved_sample_unchanged,
        },
        "orm_sample_s": orm.seconds,
        "orm_sample_no_change_s": orm_unchanged.seconds,
        "orm_extrapolated_s": orm.seconds * evaluated / sample_size,
        "vacuum_analyze_s": vacuum_s,
    }
    report.notes = [
        f"{names[first]} and {names[second]} swapped boundaries: the UPDATE moved {moved:,} of "
        f"{evaluated:,} reports ({in_swapped:,} were in them) in {swapped.seconds:.1f} s; swapping back "
        f"moved {moved_back:,} in {restored.seconds:.1f} s. With no boundary change it checks every report "
        f"and moves {moved_unchanged:,} in {unchanged.seconds:.1f} s: about the cost of a small border edit.",
        f"Per-row ORM loop: {moved_sample:,} of {sample_size:,} sampled reports moved in {orm.seconds:.1f} s "
        f"(rolled back), i.e. about {duration(orm.seconds * evaluated / sample_size)} for all.",
    ]
    return report
