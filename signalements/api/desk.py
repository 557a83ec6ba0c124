"""The desk's operations for other systems (token authentication), scoped like the pages."""

from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, permissions, serializers, status
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response
from rest_framework.views import APIView

from cartography.models import Team

from ..desk.duplicates import signalement_unmerge, signalements_merge
from ..desk.forms import QueueFilter
from ..desk.responses import response_template_render, response_templates_for
from ..desk.services import MergeOnly, comment_add, signalement_transition, signalement_triage
from ..intake.services import ReporterData, signalement_submit
from ..models import STAFF_CHANNELS, Category, Priority, ReporterContact, Status
from ..selectors import signalements_for_staff, signalements_queue
from ..trust.moderation import Action, Target, moderation_apply
from ..trust.policy import Capability, can
from .serializers import SignalementInputSerializer, SignalementOutputSerializer


class StaffOnly(permissions.BasePermission):
    """Staff roles only, reading as the policy says; a write needs the view's capability (the
    service checks it again against the report's scope)."""

    def has_permission(self, request, view):
        if not can(request.user, Capability.READ):
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        capability = getattr(view, "capabilities", {}).get(request.method)
        return capability is not None and can(request.user, capability)


class ReporterSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReporterContact
        fields = ["name", "email", "phone", "wants_updates"]


class DeskSignalementSerializer(SignalementOutputSerializer):
    """The staff view of a report: internal fields, and the reporter's contact for the roles that
    may see contacts (null for the others, whose `description` is the public version: contact
    details the reporter typed in it are masked)."""

    reporter = ReporterSerializer(read_only=True, allow_null=True)
    overdue = serializers.BooleanField(read_only=True, default=False)
    description = serializers.CharField(
        read_only=True,
        help_text="Le texte tel que le déclarant l'a écrit (sa version publique pour les rôles "
        "qui ne voient pas les coordonnées).",
    )

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not self.context.get("may_view_contact", False):
            if "reporter" in data:
                data["reporter"] = None
            if "description" in data:
                data["description"] = data.get("public_description", "")
        return data

    class Meta(SignalementOutputSerializer.Meta):
        fields = [
            *SignalementOutputSerializer.Meta.fields,
            "public_description",
            "description_moderation",
            "channel",
            "deadline_at",
            "team_is_manual",
            "reporter",
            "overdue",
        ]


def desk_context(request) -> dict:
    return {"request": request, "may_view_contact": can(request.user, Capability.VIEW_CONTACT)}


class DeskQueueFilter(QueueFilter):
    related = ("reporter",)


class DeskListView(generics.ListCreateAPIView):
    serializer_class = DeskSignalementSerializer
    permission_classes = [StaffOnly]
    filterset_class = DeskQueueFilter
    throttle_scope = "staff"
    capabilities = {"POST": Capability.REGISTER}

    def get_serializer_context(self):
        return {**super().get_serializer_context(), **desk_context(self.request)}

    def get_queryset(self):
        return signalements_queue(self.request.user).select_related("reporter")

    @extend_schema(request=SignalementInputSerializer, responses={201: DeskSignalementSerializer})
    def post(self, request):
        """Register a report received by phone, e-mail or at the counter."""
        channel = request.data.get("channel")
        if not isinstance(channel, str) or channel not in STAFF_CHANNELS:
            raise serializers.ValidationError({"channel": [f"Choose one of {', '.join(STAFF_CHANNELS)}."]})
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
            DeskSignalementSerializer(signalement, context=desk_context(request)).data,
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


class DeskReportView(APIView):
    """One report in the user's staff scope (404 outside it)."""

    permission_classes = [StaffOnly]
    throttle_scope = "staff"

    def get_object(self, reference):
        return get_object_or_404(
            signalements_for_staff(self.request.user).select_related("reporter"), reference=reference
        )


class DeskDetailView(DeskReportView):
    capabilities = {"PATCH": Capability.TRIAGE}

    @extend_schema(responses=DeskSignalementSerializer)
    def get(self, request, reference: str):
        return Response(
            DeskSignalementSerializer(self.get_object(reference), context=desk_context(request)).data
        )

    @extend_schema(request=TriageSerializer, responses=DeskSignalementSerializer)
    def patch(self, request, reference: str):
        signalement = self.get_object(reference)
        serializer = TriageSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        signalement_triage(signalement=signalement, author=request.user, **serializer.validated_data)
        return Response(
            DeskSignalementSerializer(self.get_object(reference), context=desk_context(request)).data
        )


class TransitionSerializer(serializers.Serializer):
    to_status = serializers.ChoiceField(
        choices=Status.choices,
        help_text="« duplicate » est refusé (400) : un doublon se déclare par la fusion, "
        "POST …/merge/ sur le signalement principal.",
    )
    text = serializers.CharField(required=False, allow_blank=True, default="")
    is_public = serializers.BooleanField(required=False, default=True)
    from_status = serializers.ChoiceField(
        choices=Status.choices,
        required=False,
        help_text="Le statut lu avant de décider : s'il a changé depuis, 409 et rien n'est écrit.",
    )


class DeskTransitionView(DeskReportView):
    capabilities = {"POST": Capability.MOVE}

    @extend_schema(request=TransitionSerializer, responses={201: None, 409: None})
    def post(self, request, reference: str):
        serializer = TransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        signalement = self.get_object(reference)
        try:
            signalement_transition(signalement=signalement, author=request.user, **serializer.validated_data)
        except MergeOnly as exc:
            raise serializers.ValidationError(
                {
                    "to_status": [
                        *exc.messages,
                        _(
                            'Fusionnez-le : POST %(url)s avec {"duplicates": ["%(ref)s"]}, '
                            "où %(master)s est la référence du signalement principal."
                        )
                        % {
                            "url": reverse("desk-api-merge", args=["MASTER"]),
                            "ref": signalement.reference,
                            "master": "MASTER",
                        },
                    ]
                }
            ) from exc
        return Response(status=status.HTTP_201_CREATED)


class MessageSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=5000)
    internal = serializers.BooleanField(required=False, default=False)


class DeskMessageView(DeskReportView):
    capabilities = {"POST": Capability.MESSAGE}

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


class ModerationSerializer(serializers.Serializer):
    target = serializers.ChoiceField(choices=Target.CHOICES)
    id = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The message's or photo's id (target comment or photo).",
    )
    action = serializers.ChoiceField(
        choices=Action.CHOICES,
        help_text="approve: the original is public, its contact details masked; redact: `text` is the public "
        "version; hide: nothing is public. A photo is approved or hidden.",
    )
    text = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class DeskModerationView(DeskReportView):
    """Agents and administrators only: crews and planners get 403."""

    capabilities = {"POST": Capability.MODERATE}

    @extend_schema(
        request=ModerationSerializer,
        responses={200: DeskSignalementSerializer},
        summary="Modérer la description, un message public ou une photo",
    )
    def post(self, request, reference: str):
        serializer = ModerationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        moderation_apply(
            signalement=self.get_object(reference),
            target=data["target"],
            action=data["action"],
            object_id=data["id"],
            text=data["text"],
            author=request.user,
        )
        return Response(
            DeskSignalementSerializer(self.get_object(reference), context=desk_context(request)).data
        )


class MergeSerializer(serializers.Serializer):
    duplicates = serializers.ListField(child=serializers.CharField(), min_length=1)


class DeskMergeView(DeskReportView):
    capabilities = {"POST": Capability.MERGE}

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


class DeskUnmergeView(DeskReportView):
    capabilities = {"POST": Capability.MERGE}

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


class DeskTemplatesView(DeskReportView):
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
