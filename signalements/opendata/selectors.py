"""What open data publishes, and of which reports: one list of fields for every format and for the
data dictionary page.

Points are the public reports only (selectors.signalements_public: never a sensitive category);
the summary per district and month counts every report, sensitive ones included, as counts only.
Texts are their public versions (trust.moderation); no field of the reporter's is read.
"""

from collections.abc import Iterator
from dataclasses import dataclass

import django_filters
from django.conf import settings
from django.contrib.gis.db.models.functions import AsGeoJSON, AsWKB
from django.db.models import CharField, Count, F, FloatField, Func, JSONField, Q, QuerySet, TextField, Value
from django.db.models.functions import Cast, Coalesce, TruncMonth
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from ..api.filters import SignalementFilter
from ..models import OPEN_STATUSES, CategoryGroup, Signalement, Status
from ..selectors import signalements_public

# Statuses Open311 and the exports call "closed": the workflow's end states (signalements.workflow).
CLOSED_STATUSES = (Status.RESOLVED, Status.CLOSED, Status.REJECTED, Status.DUPLICATE)
CHUNK_ROWS = 2_000  # rows per fetch of the server-side cursor: memory stays flat whatever the size


@dataclass(frozen=True)
class ExportField:
    name: str
    type: str  # as the data dictionary names it
    meaning: Promise
    example: str = ""


EXPORT_FIELDS: tuple[ExportField, ...] = (
    ExportField("reference", "string", _("Référence publique du signalement, unique et stable."), "S0001234"),
    ExportField("category", "string", _("Identifiant de la catégorie."), "nid-de-poule"),
    ExportField(
        "category_name", "string", _("Nom de la catégorie, dans la langue de la demande."), "Nid-de-poule"
    ),
    ExportField("category_group", "string", _("Identifiant du groupe de catégories."), "voirie"),
    ExportField(
        "status", "string", _("Statut dans le flux de traitement (voir la liste ci-dessous)."), "new"
    ),
    ExportField(
        "status_open",
        "boolean",
        _("Vrai tant que le signalement n'est ni résolu, ni clôturé, ni refusé, ni un doublon."),
        "true",
    ),
    ExportField("priority", "string", _("Priorité : low, normal, high ou urgent."), "normal"),
    ExportField(
        "created_at",
        "date-time",
        _("Date et heure du signalement, ISO 8601 avec fuseau horaire (UTC)."),
        "2026-03-14T08:15:00+00:00",
    ),
    ExportField(
        "updated_at", "date-time", _("Dernière modification, ISO 8601 avec fuseau horaire (UTC)."), ""
    ),
    ExportField("territory", "string", _("Identifiant du territoire (la commune)."), "liege"),
    ExportField("district_code", "string", _("Code officiel du quartier où se trouve le point."), "62063A"),
    ExportField("district_name", "string", _("Nom du quartier."), ""),
    ExportField("team_name", "string", _("Équipe de la ville chargée du signalement."), ""),
    ExportField("address", "string", _("Adresse du lieu, telle que donnée ou trouvée."), ""),
    ExportField(
        "description",
        "string",
        _(
            "Description publique : coordonnées personnelles masquées, vide tant qu'elle attend la "
            "modération ou si elle est masquée."
        ),
        "",
    ),
    ExportField(
        "support_count",
        "integer",
        _("Nombre de personnes qui ont soutenu le signalement (« moi aussi »)."),
        "3",
    ),
    ExportField(
        "longitude",
        "number",
        _("Longitude WGS84 (EPSG:4326) ; en GeoJSON et GeoPackage, la géométrie du point."),
        "5.5714",
    ),
    ExportField("latitude", "number", _("Latitude WGS84 (EPSG:4326)."), "50.6455"),
)
GEOMETRY_FIELDS = ("longitude", "latitude")  # the point's geometry in GeoJSON and GeoPackage

SUMMARY_FIELDS: tuple[ExportField, ...] = (
    ExportField("territory", "string", _("Identifiant du territoire.")),
    ExportField("district_code", "string", _("Code du quartier ; vide pour les signalements hors quartier.")),
    ExportField("district_name", "string", _("Nom du quartier.")),
    ExportField("month", "date", _("Mois de création (AAAA-MM), dans le fuseau horaire de la ville.")),
    ExportField("reports", "integer", _("Signalements créés ce mois-là, catégories sensibles comprises.")),
    ExportField("open", "integer", _("Parmi eux, ceux encore ouverts aujourd'hui.")),
    ExportField("resolved", "integer", _("Parmi eux, ceux résolus ou clôturés.")),
    ExportField("rejected", "integer", _("Parmi eux, ceux refusés.")),
    ExportField("duplicate", "integer", _("Parmi eux, ceux fusionnés dans un autre (doublons).")),
)


class OpenDataFilter(SignalementFilter):
    """The public list's filters (category, status, district, team, created_after/before), and the
    category group."""

    group = django_filters.ModelMultipleChoiceFilter(
        field_name="category__group__slug",
        to_field_name="slug",
        queryset=CategoryGroup.objects.all(),
        distinct=False,
        help_text=_("Identifiant de groupe de catégories ; répétable."),
    )

    class Meta(SignalementFilter.Meta):
        fields = [*SignalementFilter.Meta.fields, "group"]


class FilterInvalid(Exception):
    def __init__(self, errors: dict):
        super().__init__(errors)
        self.errors = errors


def _filtered(queryset: QuerySet[Signalement], params) -> QuerySet[Signalement]:
    filterset = OpenDataFilter(params, queryset=queryset)
    if not filterset.is_valid():
        raise FilterInvalid(
            {field: [str(m) for m in messages] for field, messages in filterset.errors.items()}
        )
    return filterset.qs


def _category_name() -> Coalesce:
    language = (translation.get_language() or settings.LANGUAGE_CODE).split("-")[0]
    codes = [code for code, _name in settings.LANGUAGES]
    if language not in codes:
        language = settings.LANGUAGE_CODE
    return Coalesce(
        F(f"category__name_{language}"),
        F(f"category__name_{settings.LANGUAGE_CODE}"),
        output_field=CharField(),
    )


def export_queryset(params=None) -> QuerySet[Signalement]:
    """The public reports the parameters select, oldest first by id (the primary key's index: no
    sort of a million rows before the first byte), with their public fields as values."""
    queryset = _filtered(signalements_public(), params or {})
    return queryset.order_by("pk").annotate(
        x_category=F("category__slug"),
        x_category_name=_category_name(),
        x_category_group=F("category__group__slug"),
        x_status_open=F("status_open"),
        x_territory=F("territory__slug"),
        x_district_code=F("district__code"),
        x_district_name=F("district__name"),
        x_team_name=F("team__name"),
        x_description=F("public_description"),
    )


COLUMNS = {
    "reference": "reference",
    "category": "x_category",
    "category_name": "x_category_name",
    "category_group": "x_category_group",
    "status": "status",
    "status_open": "x_status_open",
    "priority": "priority",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "territory": "x_territory",
    "district_code": "x_district_code",
    "district_name": "x_district_name",
    "team_name": "x_team_name",
    "address": "address",
    "description": "x_description",
    "support_count": "support_count",
}
PROPERTY_NAMES = tuple(COLUMNS)


def export_rows(params=None) -> Iterator[tuple]:
    """Each public report as a tuple of PROPERTY_NAMES then longitude and latitude, read through a
    server-side cursor CHUNK_ROWS at a time."""
    queryset = export_queryset(params).annotate(
        x_lon=Func("location", function="ST_X", output_field=FloatField()),
        x_lat=Func("location", function="ST_Y", output_field=FloatField()),
    )
    return queryset.values_list(*COLUMNS.values(), "x_lon", "x_lat").iterator(chunk_size=CHUNK_ROWS)


def export_rows_wkb(params=None) -> Iterator[tuple]:
    """As export_rows, with the point as WKB last instead of its coordinates (GeoPackage)."""
    queryset = export_queryset(params).annotate(x_wkb=AsWKB("location"))
    return queryset.values_list(*COLUMNS.values(), "x_wkb").iterator(chunk_size=CHUNK_ROWS)


def export_features(params=None) -> Iterator[str]:
    """Each public report as one GeoJSON Feature, built by PostgreSQL (json_build_object and
    ST_AsGeoJSON): Python only joins the texts."""
    properties = []
    for name, column in COLUMNS.items():
        properties += [Value(name), F(column)]
    feature = Cast(
        Func(
            Value("type"),
            Value("Feature"),
            Value("id"),
            F("reference"),
            Value("geometry"),
            Cast(AsGeoJSON("location", precision=7), output_field=JSONField()),
            Value("properties"),
            Func(*properties, function="json_build_object", output_field=JSONField()),
            function="json_build_object",
            output_field=JSONField(),
        ),
        output_field=TextField(),
    )
    queryset = export_queryset(params).annotate(x_feature=feature)
    return queryset.values_list("x_feature", flat=True).iterator(chunk_size=CHUNK_ROWS)


def district_monthly_summary(params=None) -> list[dict]:
    """Reports per district and month of creation, with how many are open, resolved, rejected or
    duplicates now. Every category is counted, sensitive ones too: counts per district only."""
    queryset = _filtered(Signalement.objects.all(), params or {})
    return list(
        queryset.order_by()
        .annotate(month=TruncMonth("created_at", tzinfo=timezone.get_default_timezone()))
        .values("territory__slug", "district__code", "district__name", "month")
        .annotate(
            reports=Count("pk"),
            open=Count("pk", filter=Q(status__in=OPEN_STATUSES)),
            resolved=Count("pk", filter=Q(status__in=(Status.RESOLVED, Status.CLOSED))),
            rejected=Count("pk", filter=Q(status=Status.REJECTED)),
            duplicate=Count("pk", filter=Q(status=Status.DUPLICATE)),
        )
        .order_by("territory__slug", "district__code", "month")
    )
