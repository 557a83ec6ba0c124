"""Work lists and field updates for the crews' tablets, scoped to the user's teams."""

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from ..crew.exports import as_geojson
from ..crew.filters import work_list_filters
from ..crew.services import crew_update_record
from ..crew.worklists import work_list
from ..models import CrewUpdate
from ..photos import photo_clean
from ..trust.guards import GuardedJSONParser
from ..trust.policy import team_for_work_list

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="Une clé unique par mise à jour, faite par l'appareil : la renvoyer (file d'attente hors "
    "ligne, réponse perdue) renvoie la mise à jour déjà appliquée (200) sans l'appliquer deux fois.",
)


class WorkListView(APIView):
    permission_classes = [permissions.IsAuthenticated]
    throttle_scope = "staff"

    @extend_schema(
        responses={(200, "application/geo+json"): dict},
        summary="La liste de travail, dans l'ordre de tournée",
    )
    def get(self, request, slug: str):
        team = team_for_work_list(request.user, slug)
        stops = work_list(
            team=team,
            urgent_first=request.query_params.get("urgent_first", "1") == "1",
            **work_list_filters(request.query_params),
        )
        return HttpResponse(as_geojson(stops), content_type="application/geo+json")


class OutcomeSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=CrewUpdate.Outcome.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="")
    # Required for "cannot" (by the service, the one place of that rule), ignored otherwise.
    reason = serializers.ChoiceField(
        choices=CrewUpdate.CannotReason.choices, required=False, allow_blank=True, default=""
    )
    photo = serializers.FileField(required=False)


class CrewUpdateOutputSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(source="signalement.reference")

    class Meta:
        model = CrewUpdate
        fields = ["reference", "outcome", "note", "cannot_reason", "status", "idempotency_key", "created_at"]


class OutcomeView(APIView):
    permission_classes = [permissions.IsAuthenticated]
    throttle_scope = "staff"
    parser_classes = [GuardedJSONParser, MultiPartParser, FormParser]

    @extend_schema(
        request=OutcomeSerializer,
        parameters=[IDEMPOTENCY_HEADER],
        responses={201: CrewUpdateOutputSerializer, 200: CrewUpdateOutputSerializer},
        summary="En cours, fait ou impossible",
    )
    def post(self, request, slug: str, reference: str):
        team = team_for_work_list(request.user, slug)
        signalement = team.signalements.filter(reference=reference).first()
        if signalement is None:
            raise PermissionDenied
        serializer = OutcomeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        update, applied = crew_update_record(
            signalement=signalement,
            team=team,
            author=request.user,
            outcome=data["outcome"],
            note=data["note"],
            reason=data["reason"],
            photo=photo_clean(data["photo"]) if data.get("photo") else None,
            idempotency_key=request.headers.get("Idempotency-Key", "").strip() or None,
        )
        return Response(
            CrewUpdateOutputSerializer(update).data,
            status=status.HTTP_201_CREATED if applied else status.HTTP_200_OK,
        )
