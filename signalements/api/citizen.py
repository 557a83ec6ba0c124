"""The citizen operations of the web pages, for mobile apps: locate, geocode, nearby reports,
"me too", and the private tracking of one's report."""

from django.contrib.gis.geos import Point
from django.utils.translation import get_language, gettext, gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.generics import get_object_or_404
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_gis.fields import GeometryField

from cartography.geocoding import get_geocoder
from cartography.models import District, Place
from cartography.selectors import locate

from ..desk.services import comment_add
from ..intake.services import photo_add, reporter_updates_set, satisfaction_record, signalement_support
from ..models import Category, Status
from ..photos import photo_clean
from ..selectors import is_public, nearby_open_signalements, signalements_public, tracking_view
from ..trust.guards import GuardedJSONParser
from ..trust.supporters import supporter_key
from .serializers import DistrictBriefSerializer, SignalementOutputSerializer

POINT_PARAMETERS = [
    OpenApiParameter("lon", float, required=True, description="Longitude WGS84"),
    OpenApiParameter("lat", float, required=True, description="Latitude WGS84"),
]


class PointQuerySerializer(serializers.Serializer):
    lon = serializers.FloatField(min_value=-180, max_value=180)
    lat = serializers.FloatField(min_value=-90, max_value=90)


class NearbyQuerySerializer(PointQuerySerializer):
    category = serializers.SlugRelatedField(
        slug_field="slug", queryset=Category.objects.filter(is_active=True)
    )


class NearbySerializer(SignalementOutputSerializer):
    distance_m = serializers.SerializerMethodField()
    thumbnail = serializers.SerializerMethodField()

    class Meta(SignalementOutputSerializer.Meta):
        fields = [
            "reference",
            "status",
            "category",
            "category_name",
            "location",
            "support_count",
            "created_at",
            "distance_m",
            "thumbnail",
        ]

    def get_distance_m(self, obj) -> float:
        return round(obj.distance.m, 1)

    def get_thumbnail(self, obj) -> str | None:
        photo = next((p for p in obj.photos.all() if p.thumbnail), None)
        return self.context["request"].build_absolute_uri(photo.thumbnail.url) if photo else None


class LocateView(APIView):
    throttle_scope = "geocode"  # it asks the geocoder for the address

    @extend_schema(
        parameters=POINT_PARAMETERS,
        summary="Quartier et adresse d'un point du territoire",
        responses=inline_serializer(
            "Located",
            {
                "territory": serializers.CharField(),
                "district": serializers.CharField(allow_null=True),
                "address": serializers.CharField(),
            },
        ),
    )
    def get(self, request):
        query = PointQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        lon, lat = query.validated_data["lon"], query.validated_data["lat"]
        located = locate(lon=lon, lat=lat, category_id=None)
        if located is None:
            raise ValidationError(
                {"location": [gettext("Ce lieu est en dehors du territoire couvert par la ville.")]}
            )
        district = District.objects.filter(pk=located.district_id).values_list("name", flat=True).first()
        return Response(
            {
                "territory": located.territory_id,
                "district": district,
                "address": get_geocoder().reverse(lon=lon, lat=lat),
            }
        )


# Bare values, no labels: the schema's KindEnum (config.settings.base) is this list.
GEOCODE_KINDS = Place.Kind.values


class GeocodeResultSerializer(serializers.Serializer):
    label = serializers.CharField()
    lon = serializers.FloatField(help_text="Longitude WGS84")
    lat = serializers.FloatField(help_text="Latitude WGS84")
    kind = serializers.ChoiceField(choices=GEOCODE_KINDS)
    territory = serializers.CharField(help_text="Identifiant du territoire ; vide pour un géocodeur externe.")


class GeocodeView(APIView):
    throttle_scope = "geocode"

    @extend_schema(
        parameters=[OpenApiParameter("q", str, required=True), OpenApiParameter("territory", str)],
        responses=GeocodeResultSerializer(many=True),
        summary="Chercher une adresse, une rue, un quartier",
    )
    def get(self, request):
        text = request.query_params.get("q", "").strip()
        if not text:
            raise ValidationError({"q": [gettext("Ce champ est obligatoire.")]})
        results = get_geocoder().search(text, territory=request.query_params.get("territory") or None)
        return Response(GeocodeResultSerializer(results, many=True).data)


class NearbyView(APIView):
    throttle_scope = "nearby"

    @extend_schema(
        parameters=[*POINT_PARAMETERS, OpenApiParameter("category", str, required=True)],
        responses=NearbySerializer(many=True),
        summary="Signalements ouverts de la même catégorie tout près (doublons probables)",
    )
    def get(self, request):
        query = NearbyQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        candidates = nearby_open_signalements(
            category=data["category"], location=Point(data["lon"], data["lat"], srid=4326)
        )
        return Response(NearbySerializer(candidates, many=True, context={"request": request}).data)


class SupportInputSerializer(serializers.Serializer):
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    client_key = serializers.CharField(
        max_length=200,
        required=False,
        help_text="Ignoré : une personne est reconnue à son compte, ou à son adresse IP et son navigateur.",
    )


class SupportView(APIView):
    throttle_scope = "support"

    @extend_schema(
        request=SupportInputSerializer,
        summary="Moi aussi : soutenir un signalement ouvert",
        responses={201: inline_serializer("Supported", {"support_count": serializers.IntegerField()})},
    )
    def post(self, request, reference: str):
        signalement = get_object_or_404(signalements_public(), reference=reference)
        serializer = SupportInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        _support, created = signalement_support(
            signalement=signalement,
            supporter_key=supporter_key(request, reference),
            email=serializer.validated_data["email"],
            language=get_language() or "fr",
        )
        signalement.refresh_from_db(fields=["support_count"])
        return Response(
            {"support_count": signalement.support_count},
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class MergedIntoSerializer(SignalementOutputSerializer):
    """The report one's own was merged into: of a sensitive one, only its reference, status and team,
    as on the tracking page (its point, address and text are never public)."""

    location = GeometryField(read_only=True, allow_null=True)
    address = serializers.CharField(read_only=True, allow_null=True)
    description = serializers.CharField(read_only=True, allow_null=True)
    district = DistrictBriefSerializer(read_only=True, allow_null=True)

    HIDDEN_UNLESS_PUBLIC = ("location", "address", "description", "district")

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not is_public(instance):
            data.update(dict.fromkeys(self.HIDDEN_UNLESS_PUBLIC))
        return data


class TrackingSerializer(SignalementOutputSerializer):
    """The reporter's own view: their description as they wrote it, and as the public sees it."""

    description = serializers.CharField(read_only=True)
    public_description = serializers.CharField(read_only=True)
    history = serializers.SerializerMethodField()
    messages = serializers.SerializerMethodField()
    photos = serializers.SerializerMethodField()
    wants_updates = serializers.SerializerMethodField()
    satisfaction_asked = serializers.SerializerMethodField()
    merged_into = serializers.SerializerMethodField()

    class Meta(SignalementOutputSerializer.Meta):
        fields = [
            *SignalementOutputSerializer.Meta.fields,
            "public_description",
            "merged_into",
            "history",
            "messages",
            "photos",
            "wants_updates",
            "satisfaction_asked",
        ]

    def get_history(self, obj) -> list[dict]:
        return [
            {"status": c.to_status, "text": c.text, "at": c.created_at} for c in self.context["view_"].history
        ]

    def get_messages(self, obj) -> list[dict]:
        return [
            {"from_citizen": c.from_citizen, "text": c.shown_text, "at": c.created_at}
            for c in self.context["view_"].comments
        ]

    def get_photos(self, obj) -> list[str]:
        return [self.context["request"].build_absolute_uri(p.image.url) for p in self.context["view_"].photos]

    def get_wants_updates(self, obj) -> bool | None:
        reporter = getattr(obj, "reporter", None)
        return reporter.wants_updates if reporter else None

    @extend_schema_field(MergedIntoSerializer(allow_null=True))
    def get_merged_into(self, obj) -> dict | None:
        """The report this one was merged into, as the public sees it (never its private link)."""
        if obj.duplicate_of is None:
            return None
        return MergedIntoSerializer(obj.duplicate_of, context=self.context).data

    def get_satisfaction_asked(self, obj) -> bool:
        return obj.status in (Status.RESOLVED, Status.CLOSED) and not hasattr(obj, "satisfaction")


class TrackingMixin:
    def tracked(self, token: str):
        view = tracking_view(token=token)
        if view is None:
            raise NotFound()
        return view


class TrackingDetailView(TrackingMixin, APIView):
    throttle_scope = "tracking"  # each unknown token is a guess

    @extend_schema(responses=TrackingSerializer, summary="Suivi privé d'un signalement (jeton du déclarant)")
    def get(self, request, token: str):
        view = self.tracked(token)
        return Response(
            TrackingSerializer(view.signalement, context={"request": request, "view_": view}).data
        )


class CitizenCommentSerializer(serializers.Serializer):
    # Blank passes here: the service says what an empty message is worth.
    text = serializers.CharField(
        max_length=3000,
        required=False,
        allow_blank=True,
        default="",
        trim_whitespace=False,
        error_messages={"max_length": gettext_lazy("3000 caractères au plus.")},
    )


class TrackingCommentView(TrackingMixin, APIView):
    throttle_scope = "comment"

    @extend_schema(
        request=inline_serializer("CitizenComment", {"text": serializers.CharField(max_length=3000)}),
        responses={201: None},
        summary="Ajouter un message",
    )
    def post(self, request, token: str):
        serializer = CitizenCommentSerializer(data=request.data)  # a number or a list was a 500
        serializer.is_valid(raise_exception=True)
        text = serializer.validated_data["text"]
        comment_add(signalement=self.tracked(token).signalement, text=text, from_citizen=True)
        return Response(status=status.HTTP_201_CREATED)


class TrackingPhotoView(TrackingMixin, APIView):
    parser_classes = [MultiPartParser, FormParser]
    throttle_scope = "photo"

    @extend_schema(
        request=inline_serializer("CitizenPhoto", {"photo": serializers.FileField()}),
        responses={201: None},
        summary="Ajouter une photo",
    )
    def post(self, request, token: str):
        upload = request.FILES.get("photo")
        if upload is None:
            raise ValidationError({"photo": [gettext("Ce champ est obligatoire.")]})
        photo_add(signalement=self.tracked(token).signalement, photo=photo_clean(upload), from_citizen=True)
        return Response(status=status.HTTP_201_CREATED)


class TrackingSubscriptionView(TrackingMixin, APIView):
    parser_classes = [GuardedJSONParser, FormParser]
    throttle_scope = "tracking"

    @extend_schema(
        request=inline_serializer("Subscription", {"wants_updates": serializers.BooleanField()}),
        responses={204: None},
        summary="Recevoir ou non les e-mails",
    )
    def put(self, request, token: str):
        field = serializers.BooleanField()
        try:
            wants = field.to_internal_value(request.data.get("wants_updates"))
        except serializers.ValidationError as exc:
            raise ValidationError({"wants_updates": exc.detail}) from exc
        reporter_updates_set(signalement=self.tracked(token).signalement, wants_updates=wants)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SatisfactionInputSerializer(serializers.Serializer):
    solved = serializers.BooleanField()
    rating = serializers.IntegerField(min_value=1, max_value=5)
    text = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class TrackingSatisfactionView(TrackingMixin, APIView):
    throttle_scope = "tracking"

    @extend_schema(
        request=SatisfactionInputSerializer,
        responses={201: None},
        summary="Répondre à la question de satisfaction",
    )
    def post(self, request, token: str):
        serializer = SatisfactionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        satisfaction_record(signalement=self.tracked(token).signalement, **serializer.validated_data)
        return Response(status=status.HTTP_201_CREATED)
