"""The planners' filters, read from the query string by the page, its exports and the report."""

from urllib.parse import urlencode

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from cartography.models import Territory
from signalements.models import Category, CategoryGroup

from .models import Season
from .selectors import MEASURES, Selection, available_years, default_season, district_layers

MEASURE_LABELS = {
    "per_km2": _("signalements par km²"),
    "per_1000": _("signalements pour 1 000 habitants"),
    "count": _("nombre de signalements"),
}


class PlanningFilterForm(forms.Form):
    territory = forms.ModelChoiceField(
        label=_("Territoire"),
        queryset=Territory.objects.defer("geom").order_by("name"),
        to_field_name="slug",
        required=False,
    )
    layer = forms.ChoiceField(label=_("Découpage"), required=False)
    group = forms.ModelChoiceField(
        label=_("Groupe de catégories"),
        queryset=CategoryGroup.objects.all(),
        to_field_name="slug",
        required=False,
        empty_label=_("Tous les groupes"),
    )
    # The categories listed under their groups (a choice by slug, made a Category by clean_category).
    category = forms.ChoiceField(label=_("Catégorie"), required=False)
    season = forms.ChoiceField(label=_("Saison"), choices=Season.choices, required=False)
    years = forms.TypedMultipleChoiceField(
        label=_("Années"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    measure = forms.ChoiceField(
        label=_("Carte des quartiers"), choices=[(m, MEASURE_LABELS[m]) for m in MEASURES], required=False
    )

    def __init__(self, data=None, *args, **kwargs):
        super().__init__(data, *args, **kwargs)
        slug = (data or {}).get("territory") or ""
        # Not the territory's outline: the reads need its key, slug, name and locating layer.
        territories = Territory.objects.defer("geom")
        self.territory = (territories.filter(slug=slug).first() if slug else None) or territories.order_by(
            "name"
        ).first()
        layers = district_layers(self.territory) if self.territory else []
        self.fields["layer"].choices = [(layer, self.territory.layer_name(layer)) for layer in layers]
        grouped: dict[str, list] = {}
        for category in Category.objects.select_related("group"):
            grouped.setdefault(category.group.name, []).append((category.slug, category.name))
        self.fields["category"].choices = [("", _("Toutes les catégories")), *grouped.items()]
        if self.territory is not None:
            self.initial_layer = (
                self.territory.locating_layer
                if self.territory.locating_layer in layers
                else (layers[0] if layers else self.territory.locating_layer)
            )
        else:
            self.initial_layer = ""
        layer = (data or {}).get("layer") or self.initial_layer
        self.years_available = (
            available_years(self.territory, layer if layer in layers else self.initial_layer)
            if self.territory
            else []
        )
        self.fields["years"].choices = [(year, str(year)) for year in self.years_available]

    def clean_category(self) -> Category | None:
        slug = self.cleaned_data.get("category")
        return Category.objects.select_related("group").get(slug=slug) if slug else None

    def selection(self) -> Selection | None:
        """The selection the filters describe, defaults filled in; None without a territory."""
        if self.territory is None:
            return None
        data = self.cleaned_data if self.is_bound else {}
        category = data.get("category")
        layer = data.get("layer") or self.initial_layer
        return Selection(
            territory=self.territory,
            layer=layer,
            season=data.get("season") or default_season(self.territory, layer),
            years=tuple(sorted(data.get("years") or self.years_available)),
            # A category brings its group: the group list may still show the previous category's.
            group=category.group if category else data.get("group"),
            category=category,
            measure=data.get("measure") or "per_km2",
        )

    def bound_to(self, selection: Selection) -> "PlanningFilterForm":
        """The form as the page shows it: the defaults the selection took, selected."""
        self.data, self.is_bound, self._errors = QueryDict(selection_query(selection)), True, None
        return self


def selection_query(selection: Selection) -> str:
    """The query string of a selection, for the export and report links."""
    pairs = [
        ("territory", selection.territory.slug),
        ("layer", selection.layer),
        ("season", selection.season),
    ]
    if selection.group is not None:
        pairs.append(("group", selection.group.slug))
    if selection.category is not None:
        pairs.append(("category", selection.category.slug))
    pairs += [("years", str(year)) for year in selection.years]
    pairs.append(("measure", selection.measure))
    return urlencode(pairs)
