"""The desk's operations for other systems (token authentication), scoped like the pages."""

from drf_spectacular.utils import extend_schema
from rest_framework import generics, permissions, serializers, status
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response
from rest_framework.views import APIView

from cartography.models import Team

from ..desk.forms import STAFF_CHANNELS, QueueFilter
from ..duplicates import signalement_unmerge, signalements_merge
from ..models import Category, Priority, ReporterContact, Status
from ..responses import response_template_render, response_templates_for
from ..roles import ADMINISTRATOR, AGENT, CREW, PLANNER
from ..selectors import is_role, signalements_for_staff, signalements_queue
from ..services import (
    ReporterData,
    comment_add,
    signalement_assign,
    signalement_recategorize,
    signalement_set_priority,
    signalement_submit,
    signalement_transition,
)
from .serializers import SignalementInputSerializer, SignalementOutputSerializer

WRITERS = (AGENT, ADMINISTRATOR)


class StaffOnly(permissions.BasePermission):
    """Staff roles only; planners read; writing needs an agent, an administrator, or a crew member
    for status changes and messages on its teams' reports."""

    def has_permission(self, request, view):
        if not is_role(request.user, AGENT, CREW, PLANNER, ADMINISTRATOR):
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        writers = getattr(view, "writers", WRITERS)
        return is_role(request.user, *writers)


class ReporterSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReporterContact
        fields = ["name", "email", "phone", "wants_updates"]


class DeskSignalementSerializer(SignalementOutputSerializer):
    """The staff view of a report: with the reporter's contact and internal fields."""

    reporter = ReporterSerializer(read_only=True)
    overdue = serializers.BooleanField(read_only=True, default=False)

    class Meta(SignalementOutputSerializer.Meta):
        fields = [
            *SignalementOutputSerializer.Meta.fields,
            "channel",
            "deadline_at",
            "team_is_manual",
            "reporter",
            "overdue",
        ]


class DeskListView(generics.ListCreateAPIView):
    serializer_class = DeskSignalementSerializer
    permission_classes = [StaffOnly]
    filterset_class = QueueFilter

    def get_queryset(self):
        return signalements_queue(self.request.user).select_related("reporter")

    @extend_schema(request=SignalementInputSerializer, responses={201: DeskSignalementSerializer})
    def post(self, request):
        """Register a report received by phone, e-mail or at the counter."""
        channel = request.data.get("channel")
        if not isinstance(channel, str) or channel not in dict(STAFF_CHANNELS):
            raise serializers.ValidationError(
                {"channel": [f"Choose one of {', '.join(dict(STAFF_CHANNELS))}."]}
            )
        # The public serializer validates everything but the channel, checked above for staff.
        data = request.data.copy()
        data["channel"] = "api"
        serializer = SignalementInputSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        valid = serializer.validated_data
        signalement, created = signalement_submit(
            category=valid["category"],
            location=valid["location"],
            description=valid["description"],
            address=valid["address"],
            channel=channel,
            author=request.user,
            reporter=ReporterData(
                name=valid["contact_name"], email=valid["contact_email"], phone=valid["contact_phone"]
            ),
            idempotency_key=request.headers.get("Idempotency-Key") or None,
        )
        return Response(
            DeskSignalementSerializer(signalement).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class TriageSerializer(serializers.Serializer):
    category = serializers.SlugRelatedField(
        slug_field="slug", queryset=Category.objects.filter(is_active=True), required=False
    )
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    team = serializers.SlugRelatedField(
        slug_field="slug", queryset=Team.objects.filter(is_active=True), required=False
    )


class DeskDetailView(APIView):
    permission_classes = [StaffOnly]

    def get_object(self, reference):
        return get_object_or_404(
            signalements_for_staff(self.request.user).select_related("reporter"), reference=reference
        )

    @extend_schema(responses=DeskSignalementSerializer)
    def get(self, request, reference: str):
        return Response(DeskSignalementSerializer(self.get_object(reference)).data)

    @extend_schema(request=TriageSerializer, responses=DeskSignalementSerializer)
    def patch(self, request, reference: str):
        signalement = self.get_object(reference)
        serializer = TriageSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if "category" in data and data["category"] != signalement.category:
            signalement_recategorize(signalement=signalement, category=data["category"], author=request.user)
        if "priority" in data:
            signalement_set_priority(signalement=signalement, priority=data["priority"], author=request.user)
        if "team" in data:
            signalement_assign(signalement=signalement, team=data["team"], author=request.user)
        return Response(DeskSignalementSerializer(self.get_object(reference)).data)


class TransitionSerializer(serializers.Serializer):
    to_status = serializers.ChoiceField(choices=Status.choices)
    text = serializers.CharField(required=False, allow_blank=True, default="")
    is_public = serializers.BooleanField(required=False, default=True)


class DeskTransitionView(DeskDetailView):
    writers = (*WRITERS, CREW)

    @extend_schema(request=TransitionSerializer, responses={201: None})
    def post(self, request, reference: str):
        serializer = TransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        signalement_transition(
            signalement=self.get_object(reference), author=request.user, **serializer.validated_data
        )
        return Response(status=status.HTTP_201_CREATED)


class MessageSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=5000)
    internal = serializers.BooleanField(required=False, default=False)


class DeskMessageView(DeskDetailView):
    writers = (*WRITERS, CREW)

    @extend_schema(request=MessageSerializer, responses={201: None})
    def post(self, request, reference: str):
        serializer = MessageSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        comment_add(
            signalement=self.get_object(reference),
            text=serializer.validated_data["text"],
            author=request.user,
            is_internal=serializer.validated_data["internal"],
        )
        return Response(status=status.HTTP_201_CREATED)


class MergeSerializer(serializers.Serializer):
    duplicates = serializers.ListField(child=serializers.CharField(), min_length=1)


class DeskMergeView(DeskDetailView):
    @extend_schema(
        request=MergeSerializer, responses={201: None}, summary="Fusionner des doublons dans ce signalement"
    )
    def post(self, request, reference: str):
        serializer = MergeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        duplicates = list(
            signalements_for_staff(request.user).filter(reference__in=serializer.validated_data["duplicates"])
        )
        if len(duplicates) != len(set(serializer.validated_data["duplicates"])):
            raise serializers.ValidationError({"duplicates": ["Unknown reference."]})
        signalements_merge(master=self.get_object(reference), duplicates=duplicates, author=request.user)
        return Response(status=status.HTTP_201_CREATED)


class DeskUnmergeView(DeskDetailView):
    @extend_schema(request=None, responses={204: None}, summary="Annuler la fusion de ce doublon")
    def post(self, request, reference: str):
        signalement_unmerge(duplicate=self.get_object(reference), author=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ResponseTemplateSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    category = serializers.CharField(allow_null=True, help_text="Category slug; null: every category.")
    status = serializers.CharField(help_text="Status it is meant for; empty: any.")
    text = serializers.CharField(help_text="The text with this report's details filled in.")


class DeskTemplatesView(DeskDetailView):
    @extend_schema(
        responses=ResponseTemplateSerializer(many=True),
        summary="Modèles de réponse applicables à ce signalement, avec leur texte rempli",
    )
    def get(self, request, reference: str):
        signalement = self.get_object(reference)
        return Response(
            [
                {
                    "id": template.pk,
                    "title": template.title,
                    "category": template.category.slug if template.category else None,
                    "status": template.status,
                    "text": response_template_render(template=template, signalement=signalement),
                }
                for template in response_templates_for(signalement=signalement).select_related("category")
            ]
        )
