"""Work lists and field updates for the crews' tablets, scoped to the user's teams."""

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from ..crew.exports import as_geojson
from ..crew.views import _filters, _team_for
from ..photos import photo_clean
from ..services import comment_add, photo_add, signalement_transition
from ..workflow import allowed_next
from ..worklists import work_list

OUTCOMES = {"start": "in_progress", "done": "resolved", "cannot": "acknowledged"}


class WorkListView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        responses={(200, "application/geo+json"): dict},
        summary="La liste de travail, dans l'ordre de tournée",
    )
    def get(self, request, slug: str):
        team = _team_for(request, slug)
        stops = work_list(
            team=team, urgent_first=request.query_params.get("urgent_first", "1") == "1", **_filters(request)
        )
        return HttpResponse(as_geojson(stops), content_type="application/geo+json")


class OutcomeSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=list(OUTCOMES))
    note = serializers.CharField(required=False, allow_blank=True, default="")
    photo = serializers.FileField(required=False)


class OutcomeView(APIView):
    permission_classes = [permissions.IsAuthenticated]
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(request=OutcomeSerializer, responses={201: None}, summary="En cours, fait ou impossible")
    def post(self, request, slug: str, reference: str):
        team = _team_for(request, slug)
        signalement = team.signalements.filter(reference=reference).first()
        if signalement is None:
            raise PermissionDenied
        serializer = OutcomeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data.get("photo"):
            photo_add(signalement=signalement, photo=photo_clean(data["photo"]))
        to_status = OUTCOMES[data["outcome"]]
        if to_status in allowed_next(signalement.status):
            signalement_transition(
                signalement=signalement,
                to_status=to_status,
                author=request.user,
                text=data["note"] if data["outcome"] == "done" else "",
            )
        if data["note"] and data["outcome"] != "done":
            comment_add(signalement=signalement, text=data["note"], author=request.user, is_internal=True)
        return Response(status=status.HTTP_201_CREATED)
