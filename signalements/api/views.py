from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, parsers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from ..intake.services import ReporterData, signalement_submit
from ..models import Category
from ..selectors import signalements_visible_to
from ..trust.guards import GuardedJSONParser
from .filters import BBoxFilter, SignalementFilter
from .pagination import SignalementPagination
from .serializers import (
    FEATURE_COLUMNS,
    CategoryOutputSerializer,
    SignalementCreatedSerializer,
    SignalementFeatureSerializer,
    SignalementInputSerializer,
    SignalementOutputSerializer,
)

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "Une clé unique par soumission, propre au client : la répéter avec le même contenu renvoie "
        "le signalement déjà créé (200) ; la réutiliser pour un autre contenu est refusé (422)."
    ),
)


class SignalementListCreateView(generics.ListAPIView):
    serializer_class = SignalementFeatureSerializer
    pagination_class = SignalementPagination
    filterset_class = SignalementFilter
    filter_backends = [*generics.ListAPIView.filter_backends, BBoxFilter]
    bbox_filter_field = "location_metric"  # the box is transformed, the metric GiST index answers
    bbox_filter_include_overlapping = True
    parser_classes = [GuardedJSONParser, parsers.MultiPartParser, parsers.FormParser]
    throttle_scope = "submit"
    throttle_methods = ("POST",)

    def get_queryset(self):
        return signalements_visible_to(self.request.user).only(*FEATURE_COLUMNS)

    @extend_schema(
        request=SignalementInputSerializer,
        parameters=[IDEMPOTENCY_HEADER],
        responses={
            201: SignalementCreatedSerializer,
            200: SignalementCreatedSerializer,
            422: OpenApiTypes.OBJECT,
        },
        summary="Signaler un problème",
    )
    def post(self, request, *args, **kwargs):
        content_length = request.META.get("CONTENT_LENGTH") or "0"
        if content_length.isdigit() and int(content_length) > settings.SIGNALEMENT_MAX_REQUEST_BYTES:
            raise ValidationError(
                {
                    "non_field_errors": [
                        _("La demande est trop volumineuse (maximum %(max)d Mo).")
                        % {"max": settings.SIGNALEMENT_MAX_REQUEST_BYTES // (1024 * 1024)}
                    ]
                }
            )
        key = request.headers.get("Idempotency-Key", "").strip() or None
        if key is not None and len(key) > 128:
            raise ValidationError({"Idempotency-Key": [_("La clé d'idempotence dépasse 128 caractères.")]})
        serializer = SignalementInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        signalement, created = signalement_submit(
            category=data["category"],
            location=data["location"],
            description=data["description"],
            address=data["address"],
            channel=data["channel"],
            reporter=ReporterData(
                name=data["contact_name"],
                email=data["contact_email"],
                phone=data["contact_phone"],
                show_name=data["show_name"],
                wants_updates=data["wants_updates"],
            ),
            photos=data["photos"],
            idempotency_key=key,
            author=request.user if request.user.is_authenticated else None,
        )
        return Response(
            SignalementCreatedSerializer(signalement).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class SignalementDetailView(generics.RetrieveAPIView):
    serializer_class = SignalementOutputSerializer
    lookup_field = "reference"

    def get_queryset(self):
        return signalements_visible_to(self.request.user)


class CategoryListView(generics.ListAPIView):
    serializer_class = CategoryOutputSerializer
    queryset = Category.objects.filter(is_active=True).select_related("group")
    pagination_class = None


# The API's entry points that need no reference or token, by the name each has in the links below.
API_ROOT_LINKS = {
    "signalements": "signalement-list",
    "nearby": "signalement-nearby",
    "categories": "category-list",
    "territories": "territory-list",
    "districts": "district-list",
    "teams": "team-list",
    "locate": "locate",
    "geocode": "geocode",
    "schema": "schema",
    "docs": "swagger-ui",
}


class ApiRootView(APIView):
    """Where a client starts: the address of each collection, of the schema and of its documentation."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT}, summary="Points d'entrée de l'API")
    def get(self, request):
        return Response({key: reverse(name, request=request) for key, name in API_ROOT_LINKS.items()})
