"""The filters of the public map, its tiles and its list: one form, read from the query string, so
that a shared URL shows the same view."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django import forms
from django.db.models import F
from django.forms.models import ModelChoiceIterator
from django.forms.utils import flatatt
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from cartography.models import District
from signalements.models import OPEN_STATUSES, Category, CategoryGroup, Status

# What the public map calls a status: a few stages of the workflow. Rejected reports and duplicates
# are never drawn (the duplicate's original is).
STAGE_OPEN = "open"
STAGE_IN_PROGRESS = "in_progress"
STAGE_RESOLVED = "resolved"
STAGES = {
    STAGE_OPEN: tuple(s for s in OPEN_STATUSES if s != Status.IN_PROGRESS),
    STAGE_IN_PROGRESS: (Status.IN_PROGRESS,),
    STAGE_RESOLVED: (Status.RESOLVED, Status.CLOSED),
}
PERIODS = (7, 30, 90, 365)
DEFAULT_RESOLVED_DAYS = 30


def public_districts():
    """The districts a territory locates its reports in (its locating layer), as the map shows them."""
    return District.objects.filter(layer=F("territory__locating_layer"))


def _period_choices() -> list[tuple[str, str]]:
    return [("", _("Toujours")), *((str(days), _("%(days)d jours") % {"days": days}) for days in PERIODS)]


class _ChoicesInOneQuery(ModelChoiceIterator):
    """The choices read as one plain query: Django's iterator() opens a server-side cursor, four
    round trips for a dozen rows, three selects on every page of the map and of its list."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for choice in self.queryset.all():
            yield self.choice(choice)


class PlainSelect(forms.Select):
    """A select rendered in Python: through the form templates, each option is a template of its
    own (about fifty a page), which cost more than the list's rows."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (option["value"], flatatt(option["attrs"]), option["label"])
                for _group, group_options, _index in widget["optgroups"]
                for option in group_options
            ),
        )
        return format_html(
            '<select name="{}"{}>{}</select>', widget["name"], flatatt(widget["attrs"]), options
        )


class ChoiceField(forms.ModelChoiceField):
    iterator = _ChoicesInOneQuery
    widget = PlainSelect


class MapFilterForm(forms.Form):
    group = ChoiceField(
        label=_("Groupe de catégories"),
        queryset=CategoryGroup.objects.order_by("position", "name"),
        to_field_name="slug",
        required=False,
        empty_label=_("Tous les groupes"),
    )
    category = ChoiceField(
        label=_("Catégorie"),
        queryset=Category.objects.filter(is_active=True).select_related("group"),
        to_field_name="slug",
        required=False,
        empty_label=_("Toutes les catégories"),
    )
    status = forms.MultipleChoiceField(
        label=_("Statut"),
        choices=[
            (STAGE_OPEN, _("Ouvert")),
            (STAGE_IN_PROGRESS, _("En cours")),
            (STAGE_RESOLVED, _("Résolu récemment")),
        ],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        initial=[STAGE_OPEN, STAGE_IN_PROGRESS, STAGE_RESOLVED],
        help_text=_("Aucune case cochée : tous."),
    )
    resolved_days = forms.IntegerField(
        label=_("Résolus depuis (jours)"), min_value=1, max_value=3650, required=False
    )
    period = forms.TypedChoiceField(
        widget=PlainSelect,
        label=_("Signalés depuis"),
        choices=_period_choices,
        coerce=int,
        empty_value=None,
        required=False,
    )
    district = ChoiceField(
        label=_("Quartier"),
        queryset=public_districts().only("id", "name").order_by("name"),
        required=False,
        empty_label=_("Tous les quartiers"),
    )


@dataclass(frozen=True)
class MapFilters:
    """Filters resolved to what the SQL needs: category ids, statuses, instants."""

    category_ids: tuple[int, ...]
    public_category_ids: tuple[int, ...]  # without the sensitive categories: what points and cells show
    open_statuses: tuple[str, ...]  # shown whatever their age
    resolved_statuses: tuple[str, ...]  # shown if changed since resolved_since
    resolved_since: object
    created_since: object | None
    district_id: int | None
    key: str  # the filters as text, for cache keys and ETags
    every_category: bool = False  # no group nor category chosen: category_ids are all there are

    @property
    def shows_nothing(self) -> bool:
        return not self.category_ids or not (self.open_statuses or self.resolved_statuses)


def map_filters_from(data) -> tuple[MapFilters | None, dict]:
    """The filters of a query string, or None and the form's errors (field: messages)."""
    form = MapFilterForm(data)
    if not form.is_valid():
        return None, form.errors.get_json_data()
    return map_filters(**form.cleaned_data), {}


def map_filters(
    *,
    group: CategoryGroup | None = None,
    category: Category | None = None,
    status: list[str] | None = None,
    resolved_days: int | None = None,
    period: int | None = None,
    district: District | None = None,
) -> MapFilters:
    categories = Category.objects.all()
    if group is not None:
        categories = categories.filter(group=group)
    if category is not None:
        categories = categories.filter(pk=category.pk)
    rows = list(categories.values_list("id", "is_sensitive").order_by("id"))
    stages = status or [STAGE_OPEN, STAGE_IN_PROGRESS, STAGE_RESOLVED]
    open_statuses = tuple(s for stage in stages if stage != STAGE_RESOLVED for s in STAGES[stage])
    resolved_statuses = STAGES[STAGE_RESOLVED] if STAGE_RESOLVED in stages else ()
    resolved_days = resolved_days or DEFAULT_RESOLVED_DAYS
    # From midnight: the instants are part of the cache keys and ETags, which change once a day.
    now = timezone.make_aware(datetime.combine(timezone.localdate(), time.min))
    return MapFilters(
        category_ids=tuple(pk for pk, _sensitive in rows),
        public_category_ids=tuple(pk for pk, sensitive in rows if not sensitive),
        open_statuses=tuple(str(s) for s in open_statuses),
        resolved_statuses=tuple(str(s) for s in resolved_statuses),
        resolved_since=now - timedelta(days=resolved_days),
        created_since=now - timedelta(days=period) if period else None,
        district_id=district.pk if district is not None else None,
        every_category=group is None and category is None,
        key="|".join(
            [
                group.slug if group else "",
                category.slug if category else "",
                ",".join(sorted(stages)),
                str(resolved_days),
                str(period or ""),
                str(district.pk if district else ""),
                now.isoformat(),
            ]
        ),
    )
