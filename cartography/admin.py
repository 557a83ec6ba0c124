from django.contrib import admin
from django.db import transaction
from leaflet.admin import LeafletGeoAdmin

from .models import District, Team, Territory, WorkZone
from .tasks import relocate_signalements


class RelocatingAdmin(LeafletGeoAdmin):
    """Boundaries and work zones decide where reports go: after a change, every report of the
    territory is located again, set-based, by a Celery worker."""

    def territory_id_of(self, obj) -> int | None:
        return None

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        territory_id = self.territory_id_of(obj)
        transaction.on_commit(lambda: relocate_signalements.delay(territory_id))


@admin.register(Territory)
class TerritoryAdmin(LeafletGeoAdmin):
    list_display = ["name", "slug", "code", "locating_layer"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(District)
class DistrictAdmin(RelocatingAdmin):
    list_display = ["name", "code", "layer", "territory"]
    list_filter = ["territory", "layer"]
    search_fields = ["name", "code"]

    def territory_id_of(self, obj):
        return obj.territory_id


class WorkZoneInline(admin.TabularInline):
    model = WorkZone
    fields = ["name", "priority"]
    extra = 0
    show_change_link = True


@admin.register(Team)
class TeamAdmin(LeafletGeoAdmin):
    list_display = ["name", "slug", "public_phone", "public_email", "is_active"]
    list_filter = ["is_active", "territory"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [WorkZoneInline]


@admin.register(WorkZone)
class WorkZoneAdmin(RelocatingAdmin):
    list_display = ["name", "team", "priority"]
    list_filter = ["team"]
    filter_horizontal = ["categories"]
    search_fields = ["name", "team__name"]

    def territory_id_of(self, obj):
        return obj.team.territory_id

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        territory_id = form.instance.team.territory_id
        transaction.on_commit(lambda: relocate_signalements.delay(territory_id))
