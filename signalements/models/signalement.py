from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.gis.db.models.functions import Transform
from django.contrib.postgres.indexes import GinIndex, GistIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db.models import Q
from django.db.models.functions import Cast, Concat, Now, Replace
from django.utils.translation import gettext_lazy as _

from .category import Category
from .choices import NEEDS_REVIEW, OPEN_STATUSES, Channel, Moderation, Priority, Status

# The desk's search (selectors.signalements_search) reads words, not stems: one city speaks
# several languages, and an agent types a street name or a word of the citizen's, often its start.
SEARCH_CONFIG = "simple"
# What any staff role may search; the citizen's own wording (with the contact details typed in it)
# only by the roles that may see contacts.
PUBLIC_TEXT_VECTOR = SearchVector("address", "public_description", config=SEARCH_CONFIG)
PRIVATE_TEXT_VECTOR = SearchVector("description", config=SEARCH_CONFIG)


# Between the reference and the secret of a tracking token: in neither of them.
TRACKING_SEPARATOR = "-"


def random_token() -> Replace:
    """122 random bits from PostgreSQL's strong generator, as 32 hex digits: made by the database,
    so that bulk loads get tokens too."""
    return Replace(
        Cast(models.Func(function="gen_random_uuid", output_field=models.UUIDField()), models.TextField()),
        models.Value("-"),
        models.Value(""),
    )


def _check_in(field: str, choices: type[models.TextChoices]) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(**{f"{field}__in": choices.values}), name=f"signalement_{field}_valid"
    )


class Signalement(models.Model):
    reference = models.CharField(
        _("référence"),
        max_length=20,
        editable=False,
        # At least 7 digits, more once there are: lpad() would cut the 10,000,000th to S1000000.
        db_default=Concat(
            models.Value("S"),
            models.Func(
                models.Func(
                    models.Value("signalements_reference_seq"),
                    function="nextval",
                    output_field=models.BigIntegerField(),
                ),
                models.Value("FM999999999990000000"),
                function="to_char",
                output_field=models.TextField(),
            ),
        ),
    )
    # Foreign keys that lead a composite index below get no index of their own.
    category = models.ForeignKey(
        Category,
        on_delete=models.PROTECT,
        related_name="signalements",
        verbose_name=_("catégorie"),
        db_index=False,
    )
    # WGS84 for exchange; every spatial query uses the metric copy below and its GiST indexes
    # (a spatial index on this column would cost each insert and relocation for nothing).
    location = models.PointField(_("lieu"), srid=4326, spatial_index=False)
    location_metric = models.GeneratedField(
        verbose_name=_("lieu (coordonnées métriques)"),
        expression=Transform("location", settings.METRIC_SRID),
        output_field=models.PointField(srid=settings.METRIC_SRID, spatial_index=False),
        db_persist=True,
    )
    # The status is one of OPEN_STATUSES. Stored so that the spatial index of open reports can be
    # partial on it: a condition on `status` itself would let the planner pick the (category, status,
    # date) btree, whose estimate ignores that open reports are recent, and scan a category's rows.
    status_open = models.GeneratedField(
        verbose_name=_("ouvert"),
        expression=Q(status__in=OPEN_STATUSES),
        output_field=models.BooleanField(),
        db_persist=True,
    )
    address = models.CharField(_("adresse"), max_length=300, blank=True, default="", db_default="")
    place_description = models.CharField(
        _("description du lieu"),
        max_length=300,
        blank=True,
        default="",
        db_default="",
        help_text=_("Donnée par le citoyen quand il n'a pas placé le point lui-même."),
    )
    location_is_approximate = models.BooleanField(_("lieu approximatif"), default=False, db_default=False)
    # Few territories: an index on it would cost every insert and help no query.
    territory = models.ForeignKey(
        "cartography.Territory",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        verbose_name=_("territoire"),
    )
    district = models.ForeignKey(
        "cartography.District",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("quartier"),
        db_index=False,
    )
    team = models.ForeignKey(
        "cartography.Team",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="signalements",
        verbose_name=_("équipe"),
        db_index=False,
    )
    team_is_manual = models.BooleanField(
        _("équipe choisie à la main"),
        default=False,
        help_text=_("Une équipe choisie par un agent n'est pas recalculée quand les zones changent."),
    )
    # The crew's "cannot be done" the desk has not answered yet (by a status change or an
    # assignment): the stop leaves the crew's list and the desk's queue shows the reason.
    crew_return = models.ForeignKey(
        "CrewUpdate",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("renvoyé par l'équipe"),
        db_index=False,
        editable=False,
    )
    status = models.CharField(
        _("statut"), max_length=20, choices=Status.choices, default=Status.NEW, db_default=Status.NEW
    )
    priority = models.CharField(
        _("priorité"),
        max_length=10,
        choices=Priority.choices,
        default=Priority.NORMAL,
        db_default=Priority.NORMAL,
    )
    channel = models.CharField(_("canal"), max_length=20, choices=Channel.choices, default=Channel.WEB)
    description = models.TextField(_("description"), blank=True)
    # What the public sees of the description, written with it (trust.moderation): contact details
    # masked, or the moderators' version, or nothing while hidden or waiting. Stored, so that lists
    # read a column rather than run the filter on every row.
    public_description = models.TextField(_("description publique"), blank=True, default="", db_default="")
    # The words the desk's search matches (selectors.signalements_search), kept by PostgreSQL with
    # the text: a word found in many reports is then checked on each of them by reading a column,
    # not by parsing its text again.
    public_words = models.GeneratedField(
        verbose_name=_("mots de l'adresse et de la description publique"),
        expression=PUBLIC_TEXT_VECTOR,
        output_field=SearchVectorField(),
        db_persist=True,
    )
    private_words = models.GeneratedField(
        verbose_name=_("mots de la description"),
        expression=PRIVATE_TEXT_VECTOR,
        output_field=SearchVectorField(),
        db_persist=True,
    )
    description_moderation = models.CharField(
        _("modération de la description"),
        max_length=10,
        choices=Moderation.choices,
        default=Moderation.PUBLISHED,
        db_default=Moderation.PUBLISHED,
    )
    duplicate_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="duplicates",
        verbose_name=_("doublon de"),
        db_index=False,  # partial index below: almost every report is no one's duplicate
    )
    support_count = models.PositiveIntegerField(_("soutiens"), default=0, db_default=0)
    deadline_at = models.DateTimeField(_("échéance"), null=True, blank=True)
    # The verifier of the reporter's private tracking link (tracking_token): compared in constant
    # time to the link's, once the report is found by its reference. No index of its own: a unique
    # index on whole tokens cost 2.2 µs per report inserted (65 MB at 1M reports) for one lookup.
    tracking_secret = models.CharField(
        _("secret de suivi"), max_length=64, editable=False, db_default=random_token()
    )
    idempotency_key = models.CharField(
        _("clé d'idempotence"), max_length=128, null=True, blank=True, editable=False
    )
    # A key belongs to the client that sent it (services.idempotency_scope) and to the content it
    # was first sent with: another client's key is another key, another content under it a conflict.
    idempotency_scope = models.CharField(
        _("portée de la clé d'idempotence"),
        max_length=64,
        blank=True,
        default="",
        db_default="",
        editable=False,
    )
    idempotency_fingerprint = models.CharField(
        _("empreinte de la soumission"), max_length=64, blank=True, default="", db_default="", editable=False
    )
    source = models.CharField(_("source d'import"), max_length=50, blank=True, default="", db_default="")
    external_id = models.CharField(_("identifiant externe"), max_length=100, null=True, blank=True)
    created_at = models.DateTimeField(_("créé le"), db_default=Now(), db_index=True)
    updated_at = models.DateTimeField(_("modifié le"), db_default=Now())
    # When retention (signalements.trust.retention) last removed the contact data of this closed
    # report; reopened and closed again later, it is anonymised again.
    anonymised_at = models.DateTimeField(_("anonymisé le"), null=True, blank=True, editable=False)
    processed_at = models.DateTimeField(
        _("traité le"),
        null=True,
        blank=True,
        editable=False,
        help_text=_(
            "Quand le traitement en arrière-plan (vignettes des photos) a tourné ; "
            "un balayage périodique relance ceux qui attendent."
        ),
    )

    class Meta:
        verbose_name = _("signalement")
        verbose_name_plural = _("signalements")
        ordering = ["-created_at", "-id"]
        indexes = [
            GistIndex(fields=["location_metric"], name="signalement_loc_metric_gist"),
            # Likely duplicates: open reports of one category near a point (a few percent of the
            # table). The category is in the index (btree_gist) so that one scan answers, rather than
            # the planner ANDing it with a btree's tens of thousands of rows of that category.
            GistIndex(
                fields=["category", "location_metric"],
                name="signalement_open_cat_loc_gist",
                condition=Q(status_open=True),
            ),
            # The desk's queue, the crews' work lists, the overdue digest and the duplicate clustering
            # read the open reports of a category, a team or a district. Most of a city's reports
            # are closed, and are read by date (statistics, the API's pages, the public map: the
            # created_at index), or in bulk, where a scan wins: indexing every report for these
            # three cost each insert for nothing (bulk load: 30 -> 20 µs a row). Deleting a district
            # or a team scans the table.
            models.Index(
                fields=["category", "status", "created_at"],
                name="signalement_open_cat_date",
                condition=Q(status__in=OPEN_STATUSES),
            ),
            models.Index(
                fields=["district", "status"],
                name="signalement_open_district",
                condition=Q(status__in=OPEN_STATUSES),
            ),
            models.Index(
                fields=["team", "status"],
                name="signalement_open_team",
                condition=Q(status__in=OPEN_STATUSES),
            ),
            # Few rows: what a crew update's deletion (SET_NULL) looks up.
            models.Index(
                fields=["crew_return"], name="signalement_crew_return", condition=Q(crew_return__isnull=False)
            ),
            models.Index(
                fields=["duplicate_of"],
                name="signalement_duplicates",
                condition=Q(duplicate_of__isnull=False),
            ),
            # The desk's queue and the overdue digest read open reports by deadline.
            models.Index(
                fields=["deadline_at"],
                name="signalement_open_deadline",
                condition=Q(status__in=OPEN_STATUSES),
            ),
            models.Index(
                fields=["processed_at"],
                name="signalement_unprocessed",
                condition=Q(processed_at__isnull=True),
            ),
            # The moderation list: the few descriptions waiting for a moderator.
            models.Index(
                fields=["created_at"],
                name="signalement_moderation_due",
                condition=Q(description_moderation__in=NEEDS_REVIEW),
            ),
            # The desk's search by address or words of the description, over every report (closed
            # ones too): full-text GIN indexes, smaller than trigrams and enough for whole words and
            # word starts.
            GinIndex(fields=["public_words"], name="signalement_public_words"),
            GinIndex(fields=["private_words"], name="signalement_private_words"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["reference"], name="signalement_unique_reference"),
            models.UniqueConstraint(
                fields=["idempotency_scope", "idempotency_key"],
                name="signalement_unique_scoped_idempotency_key",
                condition=Q(idempotency_key__isnull=False),
            ),
            _check_in("status", Status),
            _check_in("channel", Channel),
            _check_in("priority", Priority),
            _check_in("description_moderation", Moderation),
            models.UniqueConstraint(
                fields=["source", "external_id"],
                name="signalement_unique_external_id",
                condition=Q(external_id__isnull=False),
            ),
            models.CheckConstraint(
                condition=~Q(duplicate_of=models.F("id")), name="signalement_not_own_duplicate"
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def tracking_token(self) -> str:
        """The reporter's private tracking link: the public reference finds the report, the secret
        proves the link was given to them (selectors.tracking_view)."""
        return f"{self.reference}{TRACKING_SEPARATOR}{self.tracking_secret}"
