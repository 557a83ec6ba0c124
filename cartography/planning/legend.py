"""How the planners' maps draw the analyses: one palette and one short rule per hotspot class, and
the choropleth's colours, shared by the page, its exports and the folium report."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from .models import HotspotClass

# ColorBrewer YlOrRd, 5 classes: readable in grey and by the common colour-vision deficiencies.
CHOROPLETH_COLOURS = ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"]
NO_DATA_COLOUR = "#d9d9d9"


@dataclass(frozen=True)
class ClassStyle:
    colour: str
    rule: str


# The colours follow ArcGIS Pro's Emerging Hot Spot Analysis (reds for hot, blues for cold, darker
# for the more lasting patterns). The rules are those of its documentation, as ANALYTICS.md
# summarises them; "steps" are the months analysed.
HOTSPOT_STYLES: dict[str, ClassStyle] = {
    HotspotClass.NEW_HOT: ClassStyle(
        "#fcbba1", _("Point chaud significatif au dernier mois seulement, jamais auparavant.")
    ),
    HotspotClass.CONSECUTIVE_HOT: ClassStyle(
        "#fc9272",
        _(
            "Chaud sans interruption sur au moins les deux derniers mois, jamais avant cette série, "
            "moins de 90 % des mois."
        ),
    ),
    HotspotClass.INTENSIFYING_HOT: ClassStyle(
        "#a50f15", _("Chaud au moins 90 % des mois, dont le dernier, avec une hausse significative.")
    ),
    HotspotClass.PERSISTENT_HOT: ClassStyle(
        "#de2d26", _("Chaud au moins 90 % des mois, sans tendance significative.")
    ),
    HotspotClass.DIMINISHING_HOT: ClassStyle(
        "#fb6a4a", _("Chaud au moins 90 % des mois, dont le dernier, avec une baisse significative.")
    ),
    HotspotClass.SPORADIC_HOT: ClassStyle(
        "#fdae6b", _("Chaud par intermittence, moins de 90 % des mois, jamais froid.")
    ),
    HotspotClass.OSCILLATING_HOT: ClassStyle(
        "#e6550d", _("Chaud au dernier mois, froid lors d'un mois antérieur, moins de 90 % des mois chauds.")
    ),
    HotspotClass.HISTORICAL_HOT: ClassStyle(
        "#8c6d31", _("Chaud au moins 90 % des mois, mais pas au dernier.")
    ),
    HotspotClass.NEW_COLD: ClassStyle(
        "#c6dbef", _("Point froid significatif au dernier mois seulement, jamais auparavant.")
    ),
    HotspotClass.CONSECUTIVE_COLD: ClassStyle(
        "#9ecae1",
        _(
            "Froid sans interruption sur au moins les deux derniers mois, jamais avant cette série, "
            "moins de 90 % des mois."
        ),
    ),
    HotspotClass.INTENSIFYING_COLD: ClassStyle(
        "#08306b", _("Froid au moins 90 % des mois, dont le dernier, de plus en plus marqué.")
    ),
    HotspotClass.PERSISTENT_COLD: ClassStyle(
        "#2171b5", _("Froid au moins 90 % des mois, sans tendance significative.")
    ),
    HotspotClass.DIMINISHING_COLD: ClassStyle(
        "#6baed6", _("Froid au moins 90 % des mois, dont le dernier, de moins en moins marqué.")
    ),
    HotspotClass.SPORADIC_COLD: ClassStyle(
        "#bcbddc", _("Froid par intermittence, moins de 90 % des mois, jamais chaud.")
    ),
    HotspotClass.OSCILLATING_COLD: ClassStyle(
        "#3f007d", _("Froid au dernier mois, chaud lors d'un mois antérieur, moins de 90 % des mois froids.")
    ),
    HotspotClass.HISTORICAL_COLD: ClassStyle(
        "#54278f", _("Froid au moins 90 % des mois, mais pas au dernier.")
    ),
    HotspotClass.NO_PATTERN: ClassStyle(
        "#bdbdbd", _("Aucune des règles ci-dessus : ni point chaud ni point froid durable.")
    ),
}


def hotspot_legend() -> list[dict]:
    """The 17 classes in their order, with label, colour and rule, for templates and JSON."""
    return [
        {
            "value": value,
            "label": str(label),
            "colour": HOTSPOT_STYLES[value].colour,
            "rule": str(HOTSPOT_STYLES[value].rule),
        }
        for value, label in HotspotClass.choices
    ]
