import json

from django import forms
from django.contrib import admin
from django.contrib.gis.db.models.functions import AsGeoJSON
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.http import JsonResponse
from django.urls import path
from leaflet.admin import LeafletGeoAdmin
from modeltranslation.admin import TranslationAdmin

from .desk.services import signalement_triage
from .intake.services import photo_add
from .models import (
    Category,
    CategoryGroup,
    Photo,
    PublicHoliday,
    ReporterContact,
    ResponseTemplate,
    Signalement,
    StatusChange,
)
from .photos import photo_clean
from .trust.moderation import Action, Target, moderation_apply
from .trust.policy import Capability, can, signalements_in_scope

ADMIN_MAP_LIMIT = 5000


@admin.register(CategoryGroup)
class CategoryGroupAdmin(TranslationAdmin):
    list_display = ["name", "slug", "position"]
    prepopulated_fields = {"slug": ["name_fr"]}


@admin.register(Category)
class CategoryAdmin(TranslationAdmin):
    list_display = [
        "name",
        "group",
        "default_team",
        "deadline_days",
        "duplicate_radius_m",
        "duplicate_window_days",
        "is_sensitive",
        "is_active",
    ]
    list_filter = ["group", "is_sensitive", "is_active"]
    search_fields = ["slug", "name_fr", "name_en", "name_nl"]
    prepopulated_fields = {"slug": ["name_fr"]}


class ReporterContactInline(admin.StackedInline):
    model = ReporterContact
    extra = 0
    can_delete = False

    def has_view_permission(self, request, obj=None):
        return can(request.user, Capability.VIEW_CONTACT) and super().has_view_permission(request, obj)


class StatusChangeInline(admin.TabularInline):
    model = StatusChange
    extra = 0
    can_delete = False
    fields = ["created_at", "from_status", "to_status", "author", "text", "is_public"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class PhotoForm(forms.ModelForm):
    """An uploaded photo goes through the same cleaning as the citizens' (decoded, bounded,
    re-encoded without EXIF or GPS), then through the photo service (thumbnail in Celery)."""

    class Meta:
        model = Photo
        fields = ["image", "is_public"]

    def clean_image(self):
        image = self.cleaned_data["image"]
        if isinstance(image, UploadedFile):
            try:
                self.clean_photo = photo_clean(image)
            except ValidationError as exc:
                raise forms.ValidationError(exc.messages) from exc
            return self.clean_photo.content
        return image


class PhotoInline(admin.TabularInline):
    model = Photo
    form = PhotoForm
    extra = 0
    can_delete = False  # a photo leaves the public pages by is_public; the record stays
    fields = ["image", "thumbnail", "is_public"]
    readonly_fields = ["thumbnail"]

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (
            obj is None or can(request.user, Capability.MODERATE, obj)
        )

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and (
            obj is None or can(request.user, Capability.TRIAGE, obj)
        )


@admin.register(Signalement)
class SignalementAdmin(LeafletGeoAdmin):
    change_list_template = "admin/signalements/signalement/change_list.html"
    list_display = [
        "reference",
        "category",
        "status",
        "priority",
        "district",
        "team",
        "channel",
        "created_at",
    ]
    list_filter = ["status", "priority", "channel", "category__group", "category", "team", "territory"]
    search_fields = ["reference", "address", "description"]
    date_hierarchy = "created_at"
    list_select_related = ["category", "district", "team"]
    # Only the triage is changed here, through the desk's service (policy, history, lock); the
    # status moves on the desk's page, through the workflow; the text is moderated there too.
    triage_fields = ["category", "priority", "team"]
    readonly_fields = [
        "reference",
        "location",
        "address",
        "description",
        "status",
        "channel",
        "territory",
        "district",
        "team_is_manual",
        "created_at",
        "updated_at",
        "processed_at",
        "support_count",
        "duplicate_of",
        "public_description",
        "description_moderation",
    ]
    fields = [
        "reference",
        "category",
        "location",
        "address",
        "description",
        "public_description",
        "description_moderation",
        "status",
        "priority",
        "channel",
        "territory",
        "district",
        "team",
        "team_is_manual",
        "duplicate_of",
        "support_count",
        "created_at",
        "updated_at",
        "processed_at",
    ]
    raw_id_fields = ["category"]
    inlines = [ReporterContactInline, PhotoInline, StatusChangeInline]

    def get_queryset(self, request):
        # The list shows a district's name: not its outline, once per row.
        queryset = super().get_queryset(request).select_related("district").defer("district__geom")
        return signalements_in_scope(request.user, queryset)

    def has_add_permission(self, request):
        # Reports enter through the intake service (public pages, API, desk), never raw.
        return False

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and can(request.user, Capability.TRIAGE, obj)

    def has_delete_permission(self, request, obj=None):
        # Their history is never erased (the database refuses it); retention anonymises the
        # contact data instead.
        return False

    def save_model(self, request, obj, form, change):
        changes = {name: form.cleaned_data[name] for name in self.triage_fields if name in form.changed_data}
        if changes:
            signalement_triage(signalement=obj, author=request.user, **changes)

    def save_formset(self, request, form, formset, change):
        if formset.model is not Photo:
            return super().save_formset(request, form, formset, change)
        # The admin's change message reads what the formset saved.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for photo_form in formset.forms:
            if not photo_form.has_changed() or not hasattr(photo_form, "cleaned_data"):
                continue
            if photo_form.instance.pk is None:
                formset.new_objects.append(
                    photo_add(
                        signalement=form.instance,
                        photo=photo_form.clean_photo,
                        is_public=photo_form.cleaned_data["is_public"],
                    )
                )
            elif "is_public" in photo_form.changed_data:
                # Shown or hidden through moderation: policy and history as on the desk page.
                moderation_apply(
                    signalement=form.instance,
                    target=Target.PHOTO,
                    action=Action.APPROVE if photo_form.cleaned_data["is_public"] else Action.HIDE,
                    object_id=photo_form.instance.pk,
                    author=request.user,
                )
                formset.changed_objects.append((photo_form.instance, photo_form.changed_data))

    def get_urls(self):
        return [
            path("map-data/", self.admin_site.admin_view(self.map_data), name="signalements_signalement_map"),
            *super().get_urls(),
        ]

    def map_data(self, request):
        """The change list's current selection (same filters and search) as GeoJSON for its map."""
        changelist = self.get_changelist_instance(request)
        rows = (
            changelist.get_queryset(request)
            .annotate(geojson=AsGeoJSON("location", precision=6))
            .values_list("reference", "status", "category__slug", "geojson", "pk")[:ADMIN_MAP_LIMIT]
        )
        features = [
            {
                "type": "Feature",
                "geometry": json.loads(geojson),
                "id": pk,
                "properties": {"reference": reference, "status": status_, "category": category},
            }
            for reference, status_, category, geojson, pk in rows
        ]
        return JsonResponse({"type": "FeatureCollection", "features": features, "limit": ADMIN_MAP_LIMIT})


@admin.register(PublicHoliday)
class PublicHolidayAdmin(admin.ModelAdmin):
    list_display = ["date", "name", "territory", "country", "subdivision"]
    list_filter = ["territory", "country"]
    date_hierarchy = "date"


@admin.register(ResponseTemplate)
class ResponseTemplateAdmin(admin.ModelAdmin):
    list_display = ["title", "category", "status"]
    list_filter = ["category", "status"]
