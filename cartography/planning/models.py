"""Precomputed analyses. Each table is rewritten whole by its job (one transaction per analysis and
territory), so a reader sees either the previous run or the new one, never a mix."""

from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _


class Season(models.TextChoices):
    # Meteorological seasons: winter is December to February, and belongs to the year of its January.
    WINTER = "winter", _("hiver")
    SPRING = "spring", _("printemps")
    SUMMER = "summer", _("été")
    AUTUMN = "autumn", _("automne")


class HotspotClass(models.TextChoices):
    """The 17 classes of ArcGIS Pro's Emerging Hot Spot Analysis; their rules are in `hotspots`."""

    NEW_HOT = "new_hot", _("nouveau point chaud")
    CONSECUTIVE_HOT = "consecutive_hot", _("point chaud consécutif")
    INTENSIFYING_HOT = "intensifying_hot", _("point chaud qui s'intensifie")
    PERSISTENT_HOT = "persistent_hot", _("point chaud persistant")
    DIMINISHING_HOT = "diminishing_hot", _("point chaud qui s'atténue")
    SPORADIC_HOT = "sporadic_hot", _("point chaud sporadique")
    OSCILLATING_HOT = "oscillating_hot", _("point chaud oscillant")
    HISTORICAL_HOT = "historical_hot", _("ancien point chaud")
    NEW_COLD = "new_cold", _("nouveau point froid")
    CONSECUTIVE_COLD = "consecutive_cold", _("point froid consécutif")
    INTENSIFYING_COLD = "intensifying_cold", _("point froid qui s'intensifie")
    PERSISTENT_COLD = "persistent_cold", _("point froid persistant")
    DIMINISHING_COLD = "diminishing_cold", _("point froid qui s'atténue")
    SPORADIC_COLD = "sporadic_cold", _("point froid sporadique")
    OSCILLATING_COLD = "oscillating_cold", _("point froid oscillant")
    HISTORICAL_COLD = "historical_cold", _("ancien point froid")
    NO_PATTERN = "no_pattern", _("aucune tendance")


class PlaceKind(models.TextChoices):
    DISTRICT = "district", _("quartier")
    CELL = "cell", _("maille")


class AnalysisRun(models.Model):
    """One run of one analysis over one territory: when the tables were last written, and with what."""

    class Kind(models.TextChoices):
        VOLUMES = "volumes", _("volumes")
        HOTSPOTS = "hotspots", _("points chauds émergents")
        RECURRENCE = "recurrence", _("lieux récurrents")
        EARLY_WARNING = "early_warning", _("alerte précoce")

    territory = models.ForeignKey("cartography.Territory", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    parameters = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(db_default=Now())
    finished_at = models.DateTimeField(null=True, blank=True)
    rows = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["territory", "kind", "-started_at"], name="planning_run_latest")]


class DistrictVolume(models.Model):
    """Reports per district × category × period (a month, or a season of a year).

    `category` null is every category; `group` set and `category` null is one category group."""

    class Period(models.TextChoices):
        MONTH = "month", _("mois")
        SEASON = "season", _("saison")

    # Rewritten whole by each run, from the districts and categories of that moment: no database
    # foreign keys nor single-column indexes (checking three keys and updating three more indexes
    # for each of hundreds of thousands of rows was most of the write). Deletions still cascade
    # through the ORM; a row left by a raw deletion goes at the next run.
    district = models.ForeignKey(
        "cartography.District",
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    layer = models.SlugField()
    category = models.ForeignKey(
        "signalements.Category",
        null=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    group = models.ForeignKey(
        "signalements.CategoryGroup",
        null=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    period = models.CharField(max_length=10, choices=Period.choices)
    # The first day of the month, or of the season (1 December for a winter).
    period_start = models.DateField()
    year = models.PositiveSmallIntegerField()
    season = models.CharField(max_length=10, choices=Season.choices)
    month = models.PositiveSmallIntegerField(null=True)
    count = models.PositiveIntegerField()
    per_km2 = models.FloatField()
    per_1000_residents = models.FloatField(null=True)
    # Against the same month or season a year before; null when there is nothing to compare with.
    change_vs_previous_year = models.FloatField(null=True)
    previous_year_count = models.PositiveIntegerField(null=True)
    median_days_to_resolve = models.FloatField(null=True)
    share_resolved_in_time = models.FloatField(null=True)
    share_duplicates = models.FloatField(null=True)

    class Meta:
        indexes = [
            # Every read names a layer, a period and a scope (one category, a group's totals or every
            # category's): the page's table, its monthly chart and the API read one scope's rows only.
            models.Index(
                fields=["layer", "period", "category", "group", "period_start"], name="planning_volume_scope"
            ),
            models.Index(fields=["district", "period", "period_start"], name="planning_volume_district"),
        ]


# The figures of a volume row, in the order the API and the CSV export give them.
VOLUME_FIGURES = (
    "count",
    "per_km2",
    "per_1000_residents",
    "previous_year_count",
    "change_vs_previous_year",
    "median_days_to_resolve",
    "share_resolved_in_time",
    "share_duplicates",
)


class HotspotPlace(models.Model):
    """A place (a district, or a grid cell of `cell_size_m`) × category with its emerging hotspot class
    over the months analysed. `series` holds one Gi* z-score per month, `bins` one of hot (1), cold
    (-1) or neither (0) after the false-discovery-rate correction."""

    run = models.ForeignKey(AnalysisRun, on_delete=models.CASCADE, related_name="hotspots")
    kind = models.CharField(max_length=10, choices=PlaceKind.choices)
    district = models.ForeignKey(
        "cartography.District", null=True, on_delete=models.CASCADE, related_name="+"
    )
    layer = models.SlugField(blank=True)
    # Grid cells: column and row in the metric SRID, `cell_size_m` apart.
    cell_x = models.IntegerField(null=True)
    cell_y = models.IntegerField(null=True)
    cell_size_m = models.PositiveIntegerField(null=True)
    geom = models.PolygonField(srid=4326)
    category = models.ForeignKey("signalements.Category", on_delete=models.CASCADE, related_name="+")
    hotspot_class = models.CharField(max_length=20, choices=HotspotClass.choices)
    first_month = models.DateField()
    series = ArrayField(models.FloatField())
    bins = ArrayField(models.SmallIntegerField())
    count = models.PositiveIntegerField()
    trend_tau = models.FloatField(null=True)
    trend_p = models.FloatField(null=True)

    class Meta:
        indexes = [
            models.Index(fields=["run", "category", "hotspot_class"], name="planning_hotspot_class"),
            models.Index(fields=["kind", "category"], name="planning_hotspot_kind"),
        ]


class RecurringPlace(models.Model):
    """A place hot in the same season in two years or more: the planner's list for leaf collection
    or gritting. `usual_first_week` is the ISO week in which its season's reports usually start; the
    action window is the weeks before it."""

    run = models.ForeignKey(AnalysisRun, on_delete=models.CASCADE, related_name="recurring")
    category = models.ForeignKey("signalements.Category", on_delete=models.CASCADE, related_name="+")
    season = models.CharField(max_length=10, choices=Season.choices)
    district = models.ForeignKey(
        "cartography.District", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    cell_x = models.IntegerField()
    cell_y = models.IntegerField()
    cell_size_m = models.PositiveIntegerField()
    geom = models.PolygonField(srid=4326)
    rank = models.PositiveIntegerField()
    score = models.FloatField()
    years_hot = ArrayField(models.PositiveSmallIntegerField())
    years_observed = models.PositiveSmallIntegerField()
    reports = models.PositiveIntegerField()
    usual_first_week = models.PositiveSmallIntegerField()
    action_week_from = models.PositiveSmallIntegerField()
    action_week_to = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["category", "season", "rank"]
        indexes = [models.Index(fields=["run", "category", "season", "rank"], name="planning_recurring_rank")]


class EarlyWarningCluster(models.Model):
    """A space-time cluster found by the weekly prospective space-time permutation scan: a cylinder
    (a circle over the last `days` days, ending at `end_date`) with more reports than expected."""

    run = models.ForeignKey(AnalysisRun, on_delete=models.CASCADE, related_name="clusters")
    category = models.ForeignKey("signalements.Category", on_delete=models.CASCADE, related_name="+")
    district = models.ForeignKey(
        "cartography.District", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    centre = models.PointField(srid=4326)
    radius_m = models.FloatField()
    start_date = models.DateField()
    end_date = models.DateField()
    observed = models.PositiveIntegerField()
    expected = models.FloatField()
    log_likelihood_ratio = models.FloatField()
    p_value = models.FloatField()
    # Set when the planners' weekly digest named it, so it is announced once.
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["p_value", "-log_likelihood_ratio"]
