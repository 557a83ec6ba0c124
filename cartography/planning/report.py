"""The standalone report: a folium map of one selection (district choropleth, hotspot classes,
recurring places, early-warning clusters), with its legend and a layer control, in one HTML file
that opens without a network: Leaflet is inlined from the project's own static files instead of
folium's CDN links. Only the background tiles need a connection; the layers show without them."""

import base64
import html
import json
import re

import folium
from branca.element import Element
from django.contrib.gis.db.models.functions import Centroid
from django.contrib.staticfiles import finders
from django.utils import timezone
from django.utils.translation import gettext as _

from cartography.models import Territory

from . import exports, selectors
from .forms import MEASURE_LABELS
from .legend import hotspot_legend
from .models import HotspotClass, Season
from .selectors import Selection


def _static_text(path: str) -> str:
    found = finders.find(path)
    if not found:
        raise FileNotFoundError(path)
    with open(found, encoding="utf-8") as handle:
        return handle.read()


def _leaflet_css() -> str:
    """leaflet.css with its images as data: URIs, so that nothing is fetched."""
    css = _static_text("leaflet/leaflet.css")

    def inline(match: re.Match) -> str:
        found = finders.find(f"leaflet/{match.group(1)}")
        if not found:
            return match.group(0)
        with open(found, "rb") as handle:
            data = base64.b64encode(handle.read()).decode()
        return f"url(data:image/png;base64,{data})"

    return re.sub(r"url\((images/[\w@.-]+\.png)\)", inline, css)


def _script(text: str) -> str:
    # A closing tag inside the inlined code would end the element early.
    return "<script>" + text.replace("</script", "<\\/script") + "</script>"


LEGEND_CSS = """<style>
#report-legend { position: fixed; z-index: 1000; bottom: 4rem; left: .75rem; max-height: 70vh;
  overflow: auto; background: #fff; border: 1px solid #767676; border-radius: 4px;
  padding: .5rem .75rem; font: 13px/1.35 sans-serif; max-width: 22rem; }
#report-legend h2 { font-size: 15px; margin: 0 0 .25rem; }
#report-legend h3 { font-size: 13px; margin: .5rem 0 .2rem; }
#report-legend ul { list-style: none; margin: 0; padding: 0; }
#report-legend .sw { display: inline-block; width: 12px; height: 12px; margin-right: 6px;
  border: 1px solid #555; vertical-align: middle; }
#report-legend .note { color: #444; margin: .5rem 0 0; }
</style>"""


class _OfflineMap(folium.Map):
    """A folium map without the CDN links: Leaflet comes inline, the rest is not needed."""

    default_js = []
    default_css = []


def report_map(selection: Selection) -> folium.Map:
    layers = {name: json.loads(exports.layer_geojson(selection, name)) for name in exports.LAYERS}
    m = _OfflineMap(location=None, zoom_start=12, tiles=None, control_scale=True)
    folium.TileLayer("OpenStreetMap", name=_("Fond de carte OpenStreetMap")).add_to(m)
    root = m.get_root()
    root.header.add_child(Element(f"<style>{_leaflet_css()}</style>"), name="leaflet_css_inline", index=0)
    root.header.add_child(
        Element(_script(_static_text("leaflet/leaflet.js"))), name="leaflet_js_inline", index=1
    )

    measure = str(MEASURE_LABELS[selection.measure])
    districts_name = _("Quartiers : %(measure)s") % {"measure": measure}
    districts = None
    if layers["districts"]["features"]:
        districts = folium.GeoJson(
            layers["districts"],
            name=districts_name,
            style_function=lambda f: {
                "color": "#444444",
                "weight": 1,
                "fillColor": f["properties"]["colour"],
                "fillOpacity": 0.6,
            },
            tooltip=folium.GeoJsonTooltip(
                fields=["name", "count", "value"], aliases=[_("Quartier"), _("Signalements"), measure]
            ),
        )
        districts.add_to(m)
    else:
        folium.FeatureGroup(name=districts_name).add_to(m)
    if layers["hotspots"]["features"]:
        folium.GeoJson(
            layers["hotspots"],
            name=_("Points chauds émergents"),
            style_function=lambda f: {
                "color": f["properties"]["colour"],
                "weight": 1,
                "fillColor": f["properties"]["colour"],
                "fillOpacity": 0.75,
            },
            tooltip=folium.GeoJsonTooltip(
                fields=["label", "category_name", "count"],
                aliases=[_("Classe"), _("Catégorie"), _("Signalements")],
            ),
        ).add_to(m)
    else:
        folium.FeatureGroup(name=_("Points chauds émergents")).add_to(m)
    if layers["recurring"]["features"]:
        folium.GeoJson(
            layers["recurring"],
            name=_("Lieux récurrents"),
            style_function=lambda f: {
                "color": "#00441b",
                "weight": 3,
                "fillColor": "#00441b",
                "fillOpacity": 0.15,
            },
            tooltip=folium.GeoJsonTooltip(
                fields=[
                    "rank",
                    "category_name",
                    "usual_first_week",
                    "action_week_from",
                    "action_week_to",
                    "reports",
                ],
                aliases=[
                    _("Rang"),
                    _("Catégorie"),
                    _("Première semaine habituelle"),
                    _("Agir dès la semaine"),
                    _("jusqu'à la semaine"),
                    _("Signalements"),
                ],
            ),
        ).add_to(m)
    else:
        folium.FeatureGroup(name=_("Lieux récurrents")).add_to(m)
    clusters = folium.FeatureGroup(name=_("Alertes précoces"))
    for feature in layers["clusters"]["features"]:
        lon, lat = feature["geometry"]["coordinates"]
        p = feature["properties"]
        folium.Circle(
            location=[lat, lon],
            radius=p["radius_m"],
            color="#6a00a8",
            weight=3,
            fill=True,
            fill_opacity=0.15,
            tooltip=html.escape(
                f"{p['category_name']} · {p['start_date']} – {p['end_date']} · "
                f"{p['observed']} / {round(p['expected'], 1)} · p = {p['p_value']}"
            ),
        ).add_to(clusters)
    clusters.add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)

    bounds = districts.get_bounds() if districts is not None else None
    if bounds and None not in bounds[0]:
        m.fit_bounds(bounds)
    else:
        centre = Territory.objects.filter(pk=selection.territory.pk).values_list(Centroid("geom"), flat=True)[
            0
        ]
        m.location = [centre.y, centre.x]

    root.html.add_child(Element(_legend_html(selection, layers)))
    root.header.add_child(Element(f"<title>{html.escape(_title(selection))}</title>"))
    return m


def _title(selection: Selection) -> str:
    what = (
        selection.category.name
        if selection.category
        else (selection.group.name if selection.group else _("Toutes les catégories"))
    )
    return f"{what} · {Season(selection.season).label} · {selection.territory.name}"


def _legend_html(selection: Selection, layers: dict) -> str:
    choropleth = selectors.district_rows(selection)
    rows = (
        "".join(
            f'<li><span class="sw" style="background:{e["colour"]}"></span>{e["lower"]} – {e["upper"]}</li>'
            for e in choropleth.legend()
        )
        or f"<li>{html.escape(_('aucune donnée'))}</li>"
    )
    present = {f["properties"]["hotspot_class"] for f in layers["hotspots"]["features"]}
    classes = "".join(
        f'<li title="{html.escape(e["rule"])}"><span class="sw" style="background:{e["colour"]}"></span>'
        f"{html.escape(e['label'])}{' ✓' if e['value'] in present else ''}</li>"
        for e in hotspot_legend()
        if e["value"] != HotspotClass.NO_PATTERN
    )
    generated = timezone.localtime().strftime("%Y-%m-%d %H:%M")
    note = _("Un signalement mesure ce que les habitants signalent : comparez des taux, pas des nombres.")
    return f"""
<div id="report-legend" role="region" aria-label="{html.escape(_("Légende"))}">
{LEGEND_CSS}
<h2>{html.escape(_title(selection))}</h2>
<h3>{html.escape(_("Quartiers : %(measure)s") % {"measure": MEASURE_LABELS[selection.measure]})}
 ({selection.reference_year or "—"})</h3>
<ul class="legend-choropleth">{rows}</ul>
<h3>{html.escape(_("Mailles : classes de points chauds émergents"))}</h3>
<ul class="legend-hotspots">{classes}</ul>
<h3>{html.escape(_("Autres couches"))}</h3>
<ul>
<li><span class="sw" style="border:3px solid #00441b"></span>{html.escape(_("Lieu qui revient chaque année"))}
 ({len(layers["recurring"]["features"])})</li>
<li><span class="sw" style="border:3px solid #6a00a8;border-radius:50%"></span>
{html.escape(_("Alerte précoce"))}
 ({len(layers["clusters"]["features"])})</li>
</ul>
<p class="note">{html.escape(note)} {html.escape(_("Généré le %(when)s.") % {"when": generated})}</p>
</div>"""


def report_html(selection: Selection) -> str:
    return report_map(selection).get_root().render()
