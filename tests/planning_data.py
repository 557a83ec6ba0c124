"""Rows of the planners' analysis tables, written directly as their jobs would, with known values:
the read side (page, API, exports, report, notebooks) is tested on them."""

from dataclasses import dataclass
from datetime import date

from django.contrib.gis.geos import Point
from django.utils import timezone

from cartography.models import District, Territory
from cartography.planning.grid import cell_outline
from cartography.planning.models import (
    AnalysisRun,
    DistrictVolume,
    EarlyWarningCluster,
    HotspotClass,
    HotspotPlace,
    PlaceKind,
    RecurringPlace,
)
from signalements.models import Category

CELL = 100


@dataclass
class PlanningData:
    territory: Territory
    leaves: Category
    districts: list[District]
    runs: dict[str, AnalysisRun]


def _cell_of(point: Point) -> tuple[int, int]:
    from django.conf import settings

    metric = point.transform(settings.METRIC_SRID, clone=True)
    return int(metric.x // CELL), int(metric.y // CELL)


def planning_data_create(territory: Territory, *, layer: str = "districts") -> PlanningData:
    """Autumn volumes of dead leaves in 2023 and 2024 for every district of the layer (district i
    has 10 × (i + 1) reports in 2024 and half that in 2023), monthly counts, and hotspot cells,
    recurring places and one early-warning cluster around the first district's centre."""
    leaves = Category.objects.get(slug="feuilles-mortes")
    districts = list(District.objects.filter(territory=territory, layer=layer).order_by("name", "code"))
    now = timezone.now()
    runs = {
        kind: AnalysisRun.objects.create(territory=territory, kind=kind, finished_at=now, rows=1)
        for kind in AnalysisRun.Kind.values
    }
    volumes = []
    for i, district in enumerate(districts):
        for year, count in ((2023, 5 * (i + 1)), (2024, 10 * (i + 1))):
            for scope in ({"category": leaves, "group": leaves.group}, {"category": None, "group": None}):
                volumes.append(
                    DistrictVolume(
                        district=district,
                        layer=layer,
                        period=DistrictVolume.Period.SEASON,
                        period_start=date(year, 9, 1),
                        year=year,
                        season="autumn",
                        count=count,
                        per_km2=count / 2.0,
                        per_1000_residents=None,
                        change_vs_previous_year=1.0 if year == 2024 else None,
                        previous_year_count=count // 2 if year == 2024 else None,
                        median_days_to_resolve=3.5,
                        share_resolved_in_time=0.75,
                        share_duplicates=0.1,
                        **scope,
                    )
                )
                for month, share in ((9, 0.2), (10, 0.5), (11, 0.3)):
                    volumes.append(
                        DistrictVolume(
                            district=district,
                            layer=layer,
                            period=DistrictVolume.Period.MONTH,
                            period_start=date(year, month, 1),
                            year=year,
                            season="autumn",
                            month=month,
                            count=round(count * share),
                            per_km2=count * share / 2.0,
                            **scope,
                        )
                    )
    DistrictVolume.objects.bulk_create(volumes)

    centre = districts[0].geom.point_on_surface
    x0, y0 = _cell_of(centre)
    classes = [
        HotspotClass.PERSISTENT_HOT,
        HotspotClass.NEW_HOT,
        HotspotClass.INTENSIFYING_HOT,
        HotspotClass.NO_PATTERN,
    ]
    for k, hotspot_class in enumerate(classes):
        HotspotPlace.objects.create(
            run=runs["hotspots"],
            kind=PlaceKind.CELL,
            district=districts[0],
            cell_x=x0 + k,
            cell_y=y0,
            cell_size_m=CELL,
            geom=cell_outline(x0 + k, y0, CELL),
            category=leaves,
            hotspot_class=hotspot_class,
            first_month=date(2022, 1, 1),
            series=[1.0] * 36,
            bins=[1] * 36,
            count=40 - k,
            trend_tau=0.1,
            trend_p=0.2,
        )
    HotspotPlace.objects.create(
        run=runs["hotspots"],
        kind=PlaceKind.DISTRICT,
        district=districts[0],
        layer=layer,
        geom=districts[0].geom.convex_hull
        if districts[0].geom.convex_hull.geom_type == "Polygon"
        else cell_outline(0, 0, 1),
        category=leaves,
        hotspot_class=HotspotClass.SPORADIC_HOT,
        first_month=date(2022, 1, 1),
        series=[0.0] * 36,
        bins=[0] * 36,
        count=60,
    )
    for rank in (1, 2):
        RecurringPlace.objects.create(
            run=runs["recurrence"],
            category=leaves,
            season="autumn",
            district=districts[0],
            cell_x=x0 + rank,
            cell_y=y0 + 1,
            cell_size_m=CELL,
            geom=cell_outline(x0 + rank, y0 + 1, CELL),
            rank=rank,
            score=1.0 / rank,
            years_hot=[2022, 2023, 2024] if rank == 1 else [2023, 2024],
            years_observed=3,
            reports=30 // rank,
            usual_first_week=42 + rank,
            action_week_from=39 + rank,
            action_week_to=41 + rank,
        )
    EarlyWarningCluster.objects.create(
        run=runs["early_warning"],
        category=leaves,
        district=districts[0],
        centre=centre,
        radius_m=250,
        start_date=date(2024, 10, 14),
        end_date=date(2024, 10, 20),
        observed=12,
        expected=2.5,
        log_likelihood_ratio=9.1,
        p_value=0.004,
    )
    return PlanningData(territory=territory, leaves=leaves, districts=districts, runs=runs)
