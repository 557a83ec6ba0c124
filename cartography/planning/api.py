"""The planners' analyses for other systems and notebooks: read-only, for the roles that may plan
(planners, agents, administrators; their tokens or sessions), filtered like the page."""

import json

import django_filters
from django.contrib.gis.db.models.functions import AsGeoJSON
from drf_spectacular.utils import extend_schema_field
from rest_framework import generics, permissions, serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework_gis.fields import GeometryField
from rest_framework_gis.pagination import GeoJsonPagination
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from signalements.trust.policy import Capability, can

from .models import (
    VOLUME_FIGURES,
    AnalysisRun,
    DistrictVolume,
    EarlyWarningCluster,
    HotspotClass,
    HotspotPlace,
    PlaceKind,
    RecurringPlace,
    Season,
)
from .selectors import PRECISION


class MayPlan(permissions.BasePermission):
    def has_permission(self, request, view):
        return request.method in permissions.SAFE_METHODS and can(request.user, Capability.PLAN)


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 1000


class FeaturePagination(GeoJsonPagination):
    page_size_query_param = "page_size"
    max_page_size = 1000


class PlanningView(generics.ListAPIView):
    permission_classes = [MayPlan]
    throttle_scope = "staff"


# --- serializers ------------------------------------------------------------------------------


# The feature's geometry schema comes from the model field (the GeoFeatureModelSerializer
# extension); this field's own source, an annotation, has none to give.
@extend_schema_field({"type": "object", "description": "Géométrie GeoJSON."})
class DatabaseGeometryField(GeometryField):
    """A geometry PostGIS wrote as GeoJSON (the `geojson` annotation, see `with_geojson`), parsed
    as it is: rebuilt through GEOS coordinate by coordinate, a hundred district boundaries took
    0.8 s of a page of hotspots."""

    def __init__(self, **kwargs):
        super().__init__(source="geojson", read_only=True, **kwargs)

    def to_representation(self, value):
        return None if value is None else json.loads(value)


def with_geojson(queryset, field: str):
    """The rows with their `field` as GeoJSON text, to PRECISION decimals, and not as a geometry."""
    return queryset.annotate(geojson=AsGeoJSON(field, precision=PRECISION)).defer(field)


class VolumeSerializer(serializers.ModelSerializer):
    district = serializers.SlugRelatedField(slug_field="code", read_only=True, help_text="Code du quartier.")
    district_name = serializers.CharField(source="district.name", read_only=True)
    category = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, allow_null=True, help_text="Null : toutes les catégories."
    )
    group = serializers.SlugRelatedField(
        slug_field="slug",
        read_only=True,
        allow_null=True,
        help_text="Seul, sans catégorie : total du groupe.",
    )

    class Meta:
        model = DistrictVolume
        fields = [
            "district",
            "district_name",
            "layer",
            "category",
            "group",
            "period",
            "period_start",
            "year",
            "season",
            "month",
            *VOLUME_FIGURES,
        ]


class HotspotFeatureSerializer(GeoFeatureModelSerializer):
    geom = DatabaseGeometryField()
    category = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    district = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    territory = serializers.SlugRelatedField(source="run.territory", slug_field="slug", read_only=True)

    class Meta:
        model = HotspotPlace
        geo_field = "geom"
        fields = [
            "id",
            "territory",
            "kind",
            "district",
            "layer",
            "cell_x",
            "cell_y",
            "cell_size_m",
            "category",
            "hotspot_class",
            "first_month",
            "series",
            "bins",
            "count",
            "trend_tau",
            "trend_p",
        ]


class RecurringPlaceFeatureSerializer(GeoFeatureModelSerializer):
    geom = DatabaseGeometryField()
    category = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    district = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    territory = serializers.SlugRelatedField(source="run.territory", slug_field="slug", read_only=True)

    class Meta:
        model = RecurringPlace
        geo_field = "geom"
        fields = [
            "id",
            "territory",
            "category",
            "season",
            "district",
            "rank",
            "score",
            "cell_x",
            "cell_y",
            "cell_size_m",
            "years_hot",
            "years_observed",
            "reports",
            "usual_first_week",
            "action_week_from",
            "action_week_to",
        ]


class ClusterFeatureSerializer(GeoFeatureModelSerializer):
    centre = DatabaseGeometryField()
    category = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    district = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    territory = serializers.SlugRelatedField(source="run.territory", slug_field="slug", read_only=True)

    class Meta:
        model = EarlyWarningCluster
        geo_field = "centre"
        fields = [
            "id",
            "territory",
            "category",
            "district",
            "radius_m",
            "start_date",
            "end_date",
            "observed",
            "expected",
            "log_likelihood_ratio",
            "p_value",
        ]


class RunSerializer(serializers.ModelSerializer):
    territory = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = AnalysisRun
        fields = ["id", "territory", "kind", "parameters", "started_at", "finished_at", "rows"]


# --- filters ----------------------------------------------------------------------------------

YEARS = {"min_value": 1900, "max_value": 2999}
# Only slugs and codes of the related rows: not a district's nor the territory's boundary per row.
LIGHT = ("district__geom", "run__territory__geom")


class CategoryScopeFilterSet(django_filters.FilterSet):
    """Territory, category and category group, by slug, for the per-category analyses."""

    territory = django_filters.CharFilter(field_name="run__territory__slug", help_text="Territoire (slug).")
    category = django_filters.CharFilter(field_name="category__slug", help_text="Catégorie (slug).")
    group = django_filters.CharFilter(
        field_name="category__group__slug", help_text="Groupe de catégories (slug)."
    )


class VolumeFilter(django_filters.FilterSet):
    territory = django_filters.CharFilter(
        field_name="district__territory__slug", help_text="Territoire (slug)."
    )
    layer = django_filters.CharFilter(help_text="Découpage en quartiers (couche).")
    district = django_filters.CharFilter(field_name="district__code", help_text="Code du quartier.")
    category = django_filters.CharFilter(field_name="category__slug", help_text="Catégorie (slug).")
    group = django_filters.CharFilter(field_name="group__slug", help_text="Groupe de catégories (slug).")
    scope = django_filters.ChoiceFilter(
        choices=[("category", "category"), ("group", "group"), ("all", "all")],
        method="filter_scope",
        help_text="`category` : les lignes d'une catégorie ; `group` : les totaux par groupe ; "
        "`all` : les totaux de toutes les catégories.",
    )
    period = django_filters.ChoiceFilter(choices=DistrictVolume.Period.choices)
    season = django_filters.ChoiceFilter(choices=Season.choices)
    year = django_filters.NumberFilter(**YEARS)
    year_min = django_filters.NumberFilter(field_name="year", lookup_expr="gte", **YEARS)
    year_max = django_filters.NumberFilter(field_name="year", lookup_expr="lte", **YEARS)

    class Meta:
        model = DistrictVolume
        fields = []

    def filter_scope(self, queryset, name, value):
        if value == "category":
            return queryset.filter(category__isnull=False)
        if value == "group":
            return queryset.filter(category__isnull=True, group__isnull=False)
        return queryset.filter(category__isnull=True, group__isnull=True)


class HotspotFilter(CategoryScopeFilterSet):
    kind = django_filters.ChoiceFilter(choices=PlaceKind.choices)
    layer = django_filters.CharFilter(help_text="Découpage des lieux de type quartier.")
    hotspot_class = django_filters.MultipleChoiceFilter(choices=HotspotClass.choices)
    district = django_filters.CharFilter(field_name="district__code", help_text="Code du quartier.")

    class Meta:
        model = HotspotPlace
        fields = []


class RecurringPlaceFilter(CategoryScopeFilterSet):
    season = django_filters.ChoiceFilter(choices=Season.choices)
    district = django_filters.CharFilter(field_name="district__code", help_text="Code du quartier.")
    year = django_filters.NumberFilter(method="filter_year", help_text="Chaud cette année-là.", **YEARS)

    class Meta:
        model = RecurringPlace
        fields = []

    def filter_year(self, queryset, name, value):
        return queryset.filter(years_hot__contains=[int(value)])


class ClusterFilter(CategoryScopeFilterSet):
    district = django_filters.CharFilter(field_name="district__code", help_text="Code du quartier.")
    since = django_filters.DateFilter(field_name="end_date", lookup_expr="gte", help_text="Fin le ou après.")
    p_max = django_filters.NumberFilter(field_name="p_value", lookup_expr="lte", min_value=0, max_value=1)

    class Meta:
        model = EarlyWarningCluster
        fields = []


class RunFilter(django_filters.FilterSet):
    territory = django_filters.CharFilter(field_name="territory__slug", help_text="Territoire (slug).")
    kind = django_filters.ChoiceFilter(choices=AnalysisRun.Kind.choices)

    class Meta:
        model = AnalysisRun
        fields = []


# --- views ------------------------------------------------------------------------------------


class VolumeListView(PlanningView):
    """Reports per district × category (or group, or all) × month or season: counts, rates, change
    against a year before, median days to resolve, shares resolved in time and of duplicates."""

    serializer_class = VolumeSerializer
    pagination_class = Pagination
    filterset_class = VolumeFilter
    queryset = (
        DistrictVolume.objects.select_related("district", "category", "group")
        .defer("district__geom")
        .order_by("period_start", "district__code", "category_id", "group_id", "pk")
    )


class HotspotListView(PlanningView):
    """Emerging hotspot class of each place (grid cell or district) × category, as GeoJSON."""

    serializer_class = HotspotFeatureSerializer
    pagination_class = FeaturePagination
    filterset_class = HotspotFilter
    queryset = with_geojson(
        HotspotPlace.objects.select_related("category", "district", "run__territory")
        .defer(*LIGHT)
        .order_by("category_id", "kind", "pk"),
        "geom",
    )


class RecurringPlaceListView(PlanningView):
    """Places hot in the same season two years or more, ranked, with their action window, as GeoJSON."""

    serializer_class = RecurringPlaceFeatureSerializer
    pagination_class = FeaturePagination
    filterset_class = RecurringPlaceFilter
    queryset = with_geojson(
        RecurringPlace.objects.select_related("category", "district", "run__territory")
        .defer(*LIGHT)
        .order_by("category_id", "season", "rank", "pk"),
        "geom",
    )


class ClusterListView(PlanningView):
    """Early-warning space-time clusters of the weekly scan, most significant first, as GeoJSON."""

    serializer_class = ClusterFeatureSerializer
    pagination_class = FeaturePagination
    filterset_class = ClusterFilter
    queryset = with_geojson(
        EarlyWarningCluster.objects.select_related("category", "district", "run__territory")
        .defer(*LIGHT)
        .order_by("p_value", "-log_likelihood_ratio", "pk"),
        "centre",
    )


class RunListView(PlanningView):
    """When each analysis last ran over each territory, with its parameters."""

    serializer_class = RunSerializer
    pagination_class = Pagination
    filterset_class = RunFilter
    queryset = (
        AnalysisRun.objects.select_related("territory").defer("territory__geom").order_by("-started_at", "pk")
    )
