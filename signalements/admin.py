import json

from django.contrib import admin
from django.contrib.gis.db.models.functions import AsGeoJSON
from django.http import JsonResponse
from django.urls import path
from leaflet.admin import LeafletGeoAdmin
from modeltranslation.admin import TranslationAdmin

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


class StatusChangeInline(admin.TabularInline):
    model = StatusChange
    extra = 0
    can_delete = False
    fields = ["created_at", "from_status", "to_status", "author", "text", "is_public"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class PhotoInline(admin.TabularInline):
    model = Photo
    extra = 0
    fields = ["image", "thumbnail", "is_public"]
    readonly_fields = ["thumbnail"]


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
    readonly_fields = [
        "reference",
        "territory",
        "district",
        "created_at",
        "updated_at",
        "processed_at",
        "support_count",
        "duplicate_of",
    ]
    fields = [
        "reference",
        "category",
        "location",
        "address",
        "description",
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
        return super().get_queryset(request).select_related("district").defer("district__geom")

    def has_add_permission(self, request):
        # Reports enter through the intake service (public pages, API, desk), never raw.
        return False

    def has_delete_permission(self, request, obj=None):
        # Their history is never erased (the database refuses it, migration 0022); retention
        # anonymises the contact data instead.
        return False

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
