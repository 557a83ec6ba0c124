import math

from django.conf import settings
from django.contrib.gis.gdal import GDALException
from django.contrib.gis.geos import GEOSException, Point
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework_gis.fields import GeometryField
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from cartography.models import District, Team

from ..models import Category, Channel, Signalement
from ..photos import photo_clean

PUBLIC_CHANNELS = (Channel.WEB, Channel.APP, Channel.API)


class CategoryOutputSerializer(serializers.ModelSerializer):
    group = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    group_name = serializers.CharField(source="group.name", read_only=True)

    class Meta:
        model = Category
        fields = [
            "slug",
            "name",
            "group",
            "group_name",
            "hint",
            "duplicate_radius_m",
            "duplicate_window_days",
            "deadline_days",
        ]


class DistrictBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = District
        fields = ["id", "code", "name"]


class TeamPublicSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "name", "public_phone", "public_email"]


@extend_schema_field(
    {
        "type": "object",
        "properties": {
            "type": {"type": "string", "enum": ["Point"]},
            "coordinates": {
                "type": "array",
                "items": {"type": "number", "format": "double"},
                "minItems": 2,
                "maxItems": 2,
            },
        },
        "required": ["type", "coordinates"],
    }
)
class PointInputField(GeometryField):
    """A GeoJSON point given by a client. Documented here: in a plain serializer, drf-spectacular has
    no model field to read the geometry type from."""

    # RFC 7946 dropped `crs`: GeoJSON is WGS84. GDAL ignores the member, so a point given in another
    # system would be read as longitude and latitude: one naming another system is refused.
    WGS84_NAMES = {"EPSG:4326", "urn:ogc:def:crs:EPSG::4326", "urn:ogc:def:crs:OGC:1.3:CRS84", "CRS84"}

    def to_internal_value(self, value):
        if isinstance(value, dict) and "crs" in value:
            crs = value["crs"]
            properties = crs.get("properties") if isinstance(crs, dict) else None
            name = properties.get("name") if isinstance(properties, dict) else None
            if not isinstance(name, str) or name not in self.WGS84_NAMES:
                raise serializers.ValidationError(
                    _("Système de coordonnées inconnu (%(crs)s) : donnez le point en WGS84.")
                    % {"crs": str(name)[:50]}
                )
            value = {key: item for key, item in value.items() if key != "crs"}
        return super().to_internal_value(value)


class SignalementInputSerializer(serializers.Serializer):
    category = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Category.objects.all(),
        error_messages={
            "does_not_exist": _("Catégorie inconnue : « {value} »."),
            "required": _("Choisissez une catégorie."),
            "null": _("Choisissez une catégorie."),
        },
    )
    location = PointInputField(
        help_text=_('Point GeoJSON en WGS84 : {"type": "Point", "coordinates": [lon, lat]}.')
    )
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    address = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    channel = serializers.ChoiceField(
        choices=[(c.value, c.label) for c in PUBLIC_CHANNELS], default=Channel.API
    )
    photos = serializers.ListField(
        child=serializers.FileField(allow_empty_file=False),
        required=False,
        default=list,
        max_length=settings.SIGNALEMENT_MAX_PHOTOS,
        help_text=_("Jusqu'à trois photos (JPEG, PNG ou WebP)."),
    )
    contact_name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    contact_email = serializers.EmailField(required=False, allow_blank=True, default="")
    contact_phone = serializers.RegexField(
        r"^\+?[0-9 ./()-]{6,25}$",
        required=False,
        allow_blank=True,
        default="",
        error_messages={"invalid": _("Numéro de téléphone invalide.")},
    )
    show_name = serializers.BooleanField(required=False, default=False)
    wants_updates = serializers.BooleanField(required=False, default=True)

    def validate_location(self, value):
        if not isinstance(value, Point) or value.empty:
            raise serializers.ValidationError(_("Le lieu doit être un point (longitude, latitude)."))
        if value.srid not in (None, 4326):
            try:
                value.transform(4326)
            except (GDALException, GEOSException) as exc:
                raise serializers.ValidationError(
                    _("Système de coordonnées inconnu (SRID %(srid)s) : donnez le point en WGS84.")
                    % {"srid": value.srid}
                ) from exc
        lon, lat = value.x, value.y
        if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
            raise serializers.ValidationError(
                _("Coordonnées invalides : longitude entre -180 et 180, latitude entre -90 et 90.")
            )
        return Point(lon, lat, srid=4326)

    def validate_photos(self, value):
        cleaned, errors = [], {}
        for index, upload in enumerate(value):
            try:
                cleaned.append(photo_clean(upload))
            except DjangoValidationError as exc:
                errors[index] = exc.messages
        if errors:
            raise serializers.ValidationError(errors)
        return cleaned


class SignalementOutputSerializer(serializers.ModelSerializer):
    """What the API tells of a report. Public: no personal field here."""

    category = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    category_name = serializers.CharField(source="category.name", read_only=True)
    district = DistrictBriefSerializer(read_only=True)
    team = TeamPublicSerializer(read_only=True)
    location = GeometryField(read_only=True)
    description = serializers.CharField(
        source="public_description",
        read_only=True,
        help_text=_(
            "Version publique : adresses e-mail et numéros de téléphone masqués, vide tant qu'elle "
            "est masquée ou attend la modération."
        ),
    )

    class Meta:
        model = Signalement
        fields = [
            "reference",
            "status",
            "priority",
            "category",
            "category_name",
            "location",
            "address",
            "description",
            "district",
            "team",
            "support_count",
            "created_at",
            "updated_at",
        ]


class SignalementCreatedSerializer(SignalementOutputSerializer):
    """Returned to the submitter only: the private tracking token is theirs."""

    tracking_token = serializers.CharField(read_only=True)

    class Meta(SignalementOutputSerializer.Meta):
        fields = [*SignalementOutputSerializer.Meta.fields, "tracking_token"]


class PointGeoJsonField(GeometryField):
    """A point as GeoJSON from its two coordinates. GeometryField asks GEOS for `geojson`, which goes
    through a GDAL geometry, twice: half of the time a page of 100 features took to serialize."""

    def to_representation(self, value):
        if isinstance(value, Point) and not value.empty:
            return {"type": "Point", "coordinates": [value.x, value.y]}
        return super().to_representation(value)


# What a feature reads, for the list's `only()`: not the metric copy of the point, the description,
# the tracking secret or anything else that a feature does not show.
FEATURE_COLUMNS = (
    "reference",
    "location",
    "status",
    "priority",
    "support_count",
    "created_at",
    "category__slug",
    *(f"category__name_{code}" for code, _name in settings.LANGUAGES),
    "district__name",
    "team__name",
)


class SignalementFeatureSerializer(GeoFeatureModelSerializer):
    """A public GeoJSON feature. No personal field, no description."""

    location = PointGeoJsonField(read_only=True)
    category = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    category_name = serializers.CharField(source="category.name", read_only=True)
    district_name = serializers.SerializerMethodField()
    team_name = serializers.SerializerMethodField()

    class Meta:
        model = Signalement
        geo_field = "location"
        id_field = "reference"
        fields = [
            "reference",
            "status",
            "priority",
            "category",
            "category_name",
            "district",
            "district_name",
            "team",
            "team_name",
            "support_count",
            "created_at",
        ]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_district_name(self, obj: Signalement) -> str | None:
        return obj.district.name if obj.district_id else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_team_name(self, obj: Signalement) -> str | None:
        return obj.team.name if obj.team_id else None
