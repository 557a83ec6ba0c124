from collections.abc import Iterable
from functools import reduce
from operator import or_

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from leaflet.admin import LeafletGeoAdmin

from .database import LOCATING_FIELDS
from .models import District, Team, Territory, WorkZone
from .services import relocation_request


def territories_over(geoms: Iterable) -> set[int]:
    """Territories whose area meets one of these geometries: a work zone routes every report that
    lies in it, whatever its team's territory."""
    conditions = [Q(geom__intersects=geom) for geom in geoms if geom is not None]
    if not conditions:
        return set()
    return set(Territory.objects.filter(reduce(or_, conditions)).values_list("pk", flat=True))


def request_relocation(modeladmin: admin.ModelAdmin, request, territory_ids: set[int]) -> None:
    """Mark the territories in the transaction of the change; the relocation is queued once it
    commits, or done by the periodic sweep if the broker is down."""
    if not territory_ids:
        return
    relocation_request(territory_ids=territory_ids)
    modeladmin.message_user(
        request, _("Les signalements concernés seront relocalisés en arrière-plan."), messages.INFO
    )


class RelocatingAdmin(LeafletGeoAdmin):
    """Boundaries and work zones decide where reports go: after a change that can move reports
    (added, deleted, or one of `locating_fields` changed), every report of the territories concerned
    is located again, set-based, by a Celery worker. A change of name alone moves nothing."""

    locating_fields: frozenset[str] = frozenset()

    def territories_of(self, objs: Iterable) -> set[int]:
        raise NotImplementedError

    def save_model(self, request, obj, form, change):
        if change and not self.locating_fields & set(form.changed_data):
            super().save_model(request, obj, form, change)
            return
        # As stored before the change too: reports may leave the territory a district left.
        before = [self.model.objects.get(pk=obj.pk)] if change else []
        super().save_model(request, obj, form, change)
        request_relocation(self, request, self.territories_of([*before, obj]))

    def delete_model(self, request, obj):
        territory_ids = self.territories_of([obj])
        super().delete_model(request, obj)
        request_relocation(self, request, territory_ids)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():  # the bulk action is not in a transaction of its own
            territory_ids = self.territories_of(queryset)
            super().delete_queryset(request, queryset)
            request_relocation(self, request, territory_ids)


@admin.register(Territory)
class TerritoryAdmin(LeafletGeoAdmin):
    list_display = ["name", "slug", "code", "locating_layer", "relocation_requested_at"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["relocation_requested_at"]

    def save_model(self, request, obj, form, change):
        if not change:
            super().save_model(request, obj, form, change)
            return
        # The relocation mark is the services' to write: saving the form must not put back the value
        # it was loaded with (a request made meanwhile would be lost).
        obj.save(
            update_fields=[
                field.name
                for field in obj._meta.concrete_fields
                if not field.primary_key and field.name != "relocation_requested_at"
            ]
        )
        if LOCATING_FIELDS["territory"] & set(form.changed_data):  # its outline or locating layer
            request_relocation(self, request, {obj.pk})


@admin.register(District)
class DistrictAdmin(RelocatingAdmin):
    list_display = ["name", "code", "layer", "territory"]
    list_filter = ["territory", "layer"]
    search_fields = ["name", "code"]
    locating_fields = LOCATING_FIELDS["district"]

    def territories_of(self, objs):
        """Only a district of its territory's locating layer places reports (another layer, such
        as statistical sectors, is for maps and search)."""
        districts = list(objs)
        layers = dict(
            Territory.objects.filter(pk__in={d.territory_id for d in districts}).values_list(
                "pk", "locating_layer"
            )
        )
        return {d.territory_id for d in districts if layers.get(d.territory_id) == d.layer}


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

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and LOCATING_FIELDS["team"] & set(form.changed_data):
            # Active or not, and where: its zones' territories route again, and every territory if
            # it is a category's default team.
            if obj.default_for_categories.exists():
                territory_ids = set(Territory.objects.values_list("pk", flat=True))
            else:
                territory_ids = territories_over(zone.geom for zone in obj.work_zones.all())
            request_relocation(self, request, territory_ids)

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        if formset.model is WorkZone:
            # Instances keep their geometry in memory, deleted ones too.
            zones = [
                *formset.new_objects,
                *formset.deleted_objects,
                *(zone for zone, fields in formset.changed_objects if "priority" in fields),
            ]
            request_relocation(self, request, territories_over(zone.geom for zone in zones))


@admin.register(WorkZone)
class WorkZoneAdmin(RelocatingAdmin):
    list_display = ["name", "team", "priority"]
    list_filter = ["team"]
    filter_horizontal = ["categories"]
    search_fields = ["name", "team__name"]
    # Categories are saved after the zone (save_related), but before the commit that queues the
    # relocation.
    locating_fields = LOCATING_FIELDS["workzone"]

    def territories_of(self, objs):
        return territories_over(zone.geom for zone in objs)
