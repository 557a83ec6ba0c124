import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework_gis.filters import InBBoxFilter

from cartography.models import District, Team

from ..models import Category, Signalement, Status


class BBoxFilter(InBBoxFilter):
    """`bbox=minlon,minlat,maxlon,maxlat` in WGS84, whatever the SRID of the filtered column."""

    bbox_param = "bbox"

    def get_filter_bbox(self, request):
        bbox = super().get_filter_bbox(request)
        if bbox is not None:
            bbox.srid = 4326
        return bbox


@extend_schema_field(OpenApiTypes.STR)
class CategorySlugFilter(django_filters.ModelMultipleChoiceFilter):
    """Categories by slug; for the schema a string, which drf-spectacular cannot guess through the
    relation."""


class SignalementFilter(django_filters.FilterSet):
    category = CategorySlugFilter(
        field_name="category__slug",
        to_field_name="slug",
        queryset=Category.objects.all(),
        distinct=False,  # a report has one category: DISTINCT would only sort every match before the page
        help_text=_("Identifiant de catégorie ; répétez le paramètre pour en choisir plusieurs."),
    )
    status = django_filters.MultipleChoiceFilter(choices=Status.choices, distinct=False)
    district = django_filters.ModelChoiceFilter(queryset=District.objects.all())
    team = django_filters.ModelChoiceFilter(queryset=Team.objects.all())
    created = django_filters.IsoDateTimeFromToRangeFilter(
        field_name="created_at",
        help_text=_("Période : created_after et/ou created_before, en ISO 8601."),
    )

    class Meta:
        model = Signalement
        fields = ["category", "status", "district", "team", "created"]
