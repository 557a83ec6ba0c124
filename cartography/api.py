import django_filters
from rest_framework import generics, serializers
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from .models import District, Team, Territory


class TerritoryFeatureSerializer(GeoFeatureModelSerializer):
    class Meta:
        model = Territory
        geo_field = "geom"
        fields = ["id", "slug", "name", "code", "locating_layer"]


class DistrictFeatureSerializer(GeoFeatureModelSerializer):
    territory = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = District
        geo_field = "geom"
        fields = ["id", "territory", "layer", "code", "name"]


class TeamSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "slug", "name", "public_phone", "public_email"]


class DistrictFilter(django_filters.FilterSet):
    territory = django_filters.CharFilter(field_name="territory__slug")
    layer = django_filters.CharFilter()

    class Meta:
        model = District
        fields = ["territory", "layer"]


class TerritoryListView(generics.ListAPIView):
    serializer_class = TerritoryFeatureSerializer
    queryset = Territory.objects.all()
    pagination_class = None


class DistrictListView(generics.ListAPIView):
    """District boundaries as GeoJSON; `layer=sectors` gives the finer statistical layer."""

    serializer_class = DistrictFeatureSerializer
    # Each district's territory by its slug: not the territory's outline, once per district.
    queryset = District.objects.select_related("territory").defer("territory__geom")
    filterset_class = DistrictFilter
    pagination_class = None


class TeamListView(generics.ListAPIView):
    serializer_class = TeamSerializer
    queryset = Team.objects.filter(is_active=True)
    pagination_class = None
