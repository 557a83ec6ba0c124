from datetime import UTC

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from django_filters.fields import IsoDateTimeField, IsoDateTimeRangeField, RangeField
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError
from rest_framework_gis.filters import InBBoxFilter

from cartography.models import District, Team

from ..models import Category, Signalement, Status
from ..trust.guards import bbox_parse


class BBoxFilter(InBBoxFilter):
    """`bbox=minlon,minlat,maxlon,maxlat` in WGS84, whatever the SRID of the filtered column."""

    bbox_param = "bbox"

    def get_filter_bbox(self, request):
        text = request.query_params.get(self.bbox_param)
        if not text:
            return None
        try:
            return bbox_parse(text)
        except DjangoValidationError as exc:
            raise ValidationError({self.bbox_param: exc.messages}) from exc


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 instant, in UTC. Python accepts offsets up to ±23:59 and PostgreSQL only up to
    ±15:59, and an instant near year 1 or 9999 may leave the calendar once in UTC: both were
    server errors; now a message."""

    def to_python(self, value):
        instant = super().to_python(value)
        if instant is None or instant.tzinfo is None:
            return instant
        try:
            return instant.astimezone(UTC)
        except OverflowError as exc:
            raise DjangoValidationError(self.error_messages["invalid"], code="invalid") from exc


class UtcIsoDateTimeRangeField(IsoDateTimeRangeField):
    def __init__(self, *args, **kwargs):
        RangeField.__init__(self, (UtcIsoDateTimeField(), UtcIsoDateTimeField()), *args, **kwargs)


class UtcIsoDateTimeFromToRangeFilter(django_filters.IsoDateTimeFromToRangeFilter):
    field_class = UtcIsoDateTimeRangeField


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
    created = UtcIsoDateTimeFromToRangeFilter(
        field_name="created_at",
        help_text=_("Période : created_after et/ou created_before, en ISO 8601."),
    )

    class Meta:
        model = Signalement
        fields = ["category", "status", "district", "team", "created"]
