import secrets

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.gis.db.models.functions import Transform
from django.contrib.postgres.indexes import GinIndex, GistIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db.models import Q
from django.db.models.functions import Cast, Concat, Now, Replace, Upper
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    NEW = "new", _("Nouveau")
    ACKNOWLEDGED = "acknowledged", _("Pris en compte")
    PLANNED = "planned", _("Planifié")
    IN_PROGRESS = "in_progress", _("En cours")
    RESOLVED = "resolved", _("Résolu")
    CLOSED = "closed", _("Clôturé")
    REJECTED = "rejected", _("Refusé")
    DUPLICATE = "duplicate", _("Doublon")


OPEN_STATUSES = (Status.NEW, Status.ACKNOWLEDGED, Status.PLANNED, Status.IN_PROGRESS)

# The desk's search (selectors.signalements_search) reads words, not stems: one city speaks
# several languages, and an agent types a street name or a word of the citizen's, often its start.
SEARCH_CONFIG = "simple"
# What any staff role may search; the citizen's own wording (with the contact details typed in it)
# only by the roles that may see contacts.
PUBLIC_TEXT_VECTOR = SearchVector("address", "public_description", config=SEARCH_CONFIG)
PRIVATE_TEXT_VECTOR = SearchVector("description", config=SEARCH_CONFIG)


class Channel(models.TextChoices):
    WEB = "web", _("Site web")
    APP = "app", _("Application mobile")
    API = "api", _("API")
    PHONE = "phone", _("Téléphone")
    EMAIL = "email", _("E-mail")
    COUNTER = "counter", _("Guichet")
    BACK_OFFICE = "back_office", _("Agent de la ville")
    IMPORT = "import", _("Import")


# Reports a citizen files alone, and those staff register for a citizen who called, wrote or came by.
CITIZEN_CHANNELS = (Channel.WEB, Channel.APP, Channel.API)
STAFF_CHANNELS = (Channel.PHONE, Channel.EMAIL, Channel.COUNTER, Channel.BACK_OFFICE)


class Priority(models.TextChoices):
    LOW = "low", _("Basse")
    NORMAL = "normal", _("Normale")
    HIGH = "high", _("Haute")
    URGENT = "urgent", _("Urgente")


class Moderation(models.TextChoices):
    """Where a public text or photo stands in moderation (signalements.trust.moderation)."""

    PUBLISHED = "published", _("Publié")
    FLAGGED = "flagged", _("Coordonnées masquées, à revoir")
    PENDING = "pending", _("En attente de modération")
    APPROVED = "approved", _("Approuvé")
    REDACTED = "redacted", _("Modifié par la modération")
    HIDDEN = "hidden", _("Masqué par la modération")


NEEDS_REVIEW = (Moderation.FLAGGED, Moderation.PENDING)


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


class CategoryGroup(models.Model):
    slug = models.SlugField(_("identifiant"), unique=True)
    name = models.CharField(_("nom"), max_length=120)
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)

    class Meta:
        verbose_name = _("groupe de catégories")
        verbose_name_plural = _("groupes de catégories")
        ordering = ["position", "slug"]

    def __str__(self) -> str:
        return self.name


class Category(models.Model):
    slug = models.SlugField(_("identifiant"), unique=True)
    group = models.ForeignKey(
        CategoryGroup, on_delete=models.PROTECT, related_name="categories", verbose_name=_("groupe")
    )
    name = models.CharField(_("nom"), max_length=120)
    hint = models.TextField(_("conseil affiché au citoyen"), blank=True)
    default_team = models.ForeignKey(
        "cartography.Team",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="default_for_categories",
        verbose_name=_("équipe par défaut"),
    )
    duplicate_radius_m = models.PositiveIntegerField(_("rayon des doublons (m)"), default=50)
    duplicate_window_days = models.PositiveIntegerField(_("fenêtre des doublons (jours)"), default=30)
    deadline_days = models.PositiveSmallIntegerField(_("délai de traitement (jours ouvrables)"), default=10)
    is_sensitive = models.BooleanField(
        _("sensible"), default=False, help_text=_("Jamais montré sur la carte publique ni dans les exports.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)

    class Meta:
        verbose_name = _("catégorie")
        verbose_name_plural = _("catégories")
        ordering = ["group__position", "position", "slug"]
        constraints = [
            models.CheckConstraint(condition=Q(duplicate_radius_m__lte=5000), name="category_radius_bounded"),
        ]

    def __str__(self) -> str:
        return self.name


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


class ReporterContact(models.Model):
    """Personal data of the person who reported, apart from every public field."""

    signalement = models.OneToOneField(
        Signalement, on_delete=models.CASCADE, related_name="reporter", verbose_name=_("signalement")
    )
    name = models.CharField(_("nom"), max_length=200, blank=True)
    email = models.EmailField(_("e-mail"), blank=True, db_index=True)
    phone = models.CharField(_("téléphone"), max_length=40, blank=True, db_index=True)
    show_name = models.BooleanField(_("nom visible publiquement"), default=False)
    wants_updates = models.BooleanField(_("reçoit les mises à jour"), default=True)
    language = models.CharField(_("langue"), max_length=8, default="fr")
    # Double opt-in: until the link of the confirmation e-mail is followed, the address gets nothing
    # else (trust.optin).
    email_confirmed_at = models.DateTimeField(_("e-mail confirmé le"), null=True, blank=True)
    anonymised_at = models.DateTimeField(_("anonymisé le"), null=True, blank=True)

    class Meta:
        verbose_name = _("coordonnées du déclarant")
        verbose_name_plural = _("coordonnées des déclarants")
        # E-mail lookups ignore case (`email__iexact`: the desk's search, a reporter's history).
        indexes = [models.Index(Upper("email"), name="reportercontact_email_upper")]

    def __str__(self) -> str:
        return self.name or self.email or self.phone or "—"


class StatusChange(models.Model):
    """Append-only history: a database trigger refuses updates (migration 0002)."""

    signalement = models.ForeignKey(
        Signalement, on_delete=models.CASCADE, related_name="history", verbose_name=_("signalement")
    )
    from_status = models.CharField(_("ancien statut"), max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(_("nouveau statut"), max_length=20, choices=Status.choices)
    # Imports and the citizens' own changes have no author: the index leaves them out.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        verbose_name=_("auteur"),
    )
    text = models.TextField(_("message"), blank=True)
    is_public = models.BooleanField(_("public"), default=True)
    created_at = models.DateTimeField(_("date"), db_default=Now())

    class Meta:
        verbose_name = _("changement de statut")
        verbose_name_plural = _("historique")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["author"], name="statuschange_author", condition=Q(author__isnull=False)),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(to_status__in=Status.values), name="statuschange_to_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.signalement_id}: {self.from_status or '∅'} → {self.to_status}"


def photo_path(instance: "Photo", filename: str) -> str:
    return f"photos/{instance.signalement.created_at:%Y/%m}/{secrets.token_hex(16)}.jpg"


class Photo(models.Model):
    signalement = models.ForeignKey(
        Signalement, on_delete=models.CASCADE, related_name="photos", verbose_name=_("signalement")
    )
    image = models.ImageField(_("image"), upload_to=photo_path)
    thumbnail = models.ImageField(_("vignette"), upload_to=photo_path, blank=True)
    is_public = models.BooleanField(_("publique"), default=True)
    moderation = models.CharField(
        _("modération"),
        max_length=10,
        choices=Moderation.choices,
        default=Moderation.PUBLISHED,
        db_default=Moderation.PUBLISHED,
    )
    created_at = models.DateTimeField(_("ajoutée le"), db_default=Now())

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["signalement"], name="photo_moderation_due", condition=Q(moderation__in=NEEDS_REVIEW)
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(moderation__in=Moderation.values), name="photo_moderation_valid"
            ),
        ]


class Support(models.Model):
    """A citizen backing an existing report ("me too") instead of filing a duplicate."""

    signalement = models.ForeignKey(Signalement, on_delete=models.CASCADE, related_name="supports")
    email = models.EmailField(_("e-mail"), blank=True)
    wants_updates = models.BooleanField(_("reçoit les mises à jour"), default=True)
    language = models.CharField(_("langue"), max_length=8, default="fr")
    email_confirmed_at = models.DateTimeField(_("e-mail confirmé le"), null=True, blank=True)
    # Set when the support was carried over from a duplicate merged into this report (undo removes it).
    merged_from = models.ForeignKey(
        "Signalement", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    # Who backs it (trust.supporters: the account, or the client's address and browser), so that
    # one person counts once.
    supporter_key = models.CharField(max_length=64)
    unsubscribe_token = models.CharField(
        max_length=64,
        editable=False,
        db_default=random_token(),
    )
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        verbose_name = _("soutien")
        verbose_name_plural = _("soutiens")
        constraints = [
            models.UniqueConstraint(fields=["signalement", "supporter_key"], name="support_once_per_person"),
            models.UniqueConstraint(fields=["unsubscribe_token"], name="support_unique_token"),
        ]


class DuplicateCandidate(models.Model):
    """Open reports found near a new one when it was filed: likely duplicates, for the desk."""

    signalement = models.ForeignKey(
        Signalement, on_delete=models.CASCADE, related_name="duplicate_candidates"
    )
    candidate = models.ForeignKey(Signalement, on_delete=models.CASCADE, related_name="+")
    distance_m = models.FloatField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["signalement", "candidate"], name="duplicate_candidate_once"),
        ]


class Comment(models.Model):
    """A public message on a report (citizen or staff reply), or an internal note never shown to citizens."""

    signalement = models.ForeignKey(Signalement, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    from_citizen = models.BooleanField(default=False)
    is_internal = models.BooleanField(_("note interne"), default=False)
    text = models.TextField(_("message"))
    # What the public and the e-mails to followers show (trust.moderation); empty while hidden.
    public_text = models.TextField(_("message public"), blank=True, default="", db_default="")
    moderation = models.CharField(
        _("modération"),
        max_length=10,
        choices=Moderation.choices,
        default=Moderation.PUBLISHED,
        db_default=Moderation.PUBLISHED,
    )
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        verbose_name = _("commentaire")
        verbose_name_plural = _("commentaires")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~(Q(from_citizen=True) & Q(is_internal=True)), name="comment_citizen_never_internal"
            ),
            models.CheckConstraint(
                condition=Q(moderation__in=Moderation.values), name="comment_moderation_valid"
            ),
        ]
        indexes = [
            models.Index(
                fields=["signalement"],
                name="comment_moderation_due",
                condition=Q(moderation__in=NEEDS_REVIEW),
            ),
        ]


class Satisfaction(models.Model):
    """The one question asked when a report is resolved."""

    signalement = models.OneToOneField(Signalement, on_delete=models.CASCADE, related_name="satisfaction")
    solved = models.BooleanField(_("problème résolu"))
    rating = models.PositiveSmallIntegerField(_("note"))
    text = models.TextField(_("commentaire"), blank=True)
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        verbose_name = _("avis")
        verbose_name_plural = _("avis")
        constraints = [
            models.CheckConstraint(condition=Q(rating__gte=1, rating__lte=5), name="satisfaction_rating_1_5"),
        ]


class Notification(models.Model):
    """An e-mail to send, written in the same transaction as its cause.

    One row per (cause, recipient): the unique constraints make a retried task or a repeated
    service call unable to queue the same e-mail twice, and sent_at makes the sender skip it.
    """

    class Kind(models.TextChoices):
        SUBMITTED = "submitted", _("Signalement reçu")
        STATUS = "status", _("Changement de statut")
        REPLY = "reply", _("Réponse publique")
        MERGED = "merged", _("Fusionné dans un autre signalement")
        UNMERGED = "unmerged", _("Fusion annulée")
        CONFIRM = "confirm", _("Confirmation de l'adresse e-mail")

    signalement = models.ForeignKey(Signalement, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    status_change = models.ForeignKey(
        StatusChange, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    recipient = models.EmailField()
    language = models.CharField(max_length=8, default="fr")
    created_at = models.DateTimeField(db_default=Now())
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["created_at"], name="notification_pending", condition=Q(sent_at__isnull=True)
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["signalement", "recipient"],
                condition=Q(kind="submitted"),
                name="notification_submitted_once",
            ),
            models.UniqueConstraint(
                fields=["signalement", "recipient"],
                condition=Q(kind="confirm"),
                name="notification_confirm_once",
            ),
            models.UniqueConstraint(fields=["status_change", "recipient"], name="notification_status_once"),
            models.UniqueConstraint(fields=["comment", "recipient"], name="notification_reply_once"),
        ]


class PublicHoliday(models.Model):
    """A day off for the city's teams: deadlines count working days only.

    Typed in the admin, or loaded from the `holidays` library for a territory's country and
    subdivision (load_holidays); loaded rows keep that country so the yearly job can top them up.
    """

    territory = models.ForeignKey(
        "cartography.Territory",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("territoire"),
        help_text=_("Vide : le jour est férié dans tous les territoires."),
    )
    date = models.DateField(_("date"))
    name = models.CharField(_("nom"), max_length=120)
    country = models.CharField(
        _("pays"),
        max_length=2,
        blank=True,
        default="",
        help_text=_("Code ISO 3166-1 du calendrier importé ; vide pour un jour saisi à la main."),
    )
    subdivision = models.CharField(_("subdivision"), max_length=10, blank=True, default="")

    class Meta:
        verbose_name = _("jour férié")
        verbose_name_plural = _("jours fériés")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(
                fields=["territory", "date"],
                name="holiday_once_per_territory",
                condition=Q(territory__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["date"], name="holiday_once_everywhere", condition=Q(territory__isnull=True)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class ResponseTemplate(models.Model):
    """A ready-made public reply an agent can start from, per category and status."""

    title = models.CharField(_("titre"), max_length=120)
    text = models.TextField(
        _("texte"),
        help_text=_(
            "Ces champs sont remplacés à l'insertion dans la réponse : {reference} (référence du "
            "signalement), {category} (catégorie), {status} (statut actuel), {address} (adresse), "
            "{district} (quartier), {team} (équipe responsable), {team_phone} (téléphone public de "
            "l'équipe), {team_email} (e-mail public de l'équipe)."
        ),
    )
    category = models.ForeignKey(
        Category,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="response_templates",
        verbose_name=_("catégorie"),
    )
    status = models.CharField(
        _("statut"),
        max_length=20,
        choices=Status.choices,
        blank=True,
        help_text=_("Proposé pour un signalement dans ce statut ou qui peut y passer ; vide : toujours."),
    )

    class Meta:
        verbose_name = _("modèle de réponse")
        verbose_name_plural = _("modèles de réponse")
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class DuplicateGroup(models.Model):
    """Open reports the clustering job found together: a merge the desk may confirm."""

    class State(models.TextChoices):
        PROPOSED = "proposed", _("Proposé")
        MERGED = "merged", _("Fusionné")
        DISMISSED = "dismissed", _("Écarté")

    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="+")
    members = models.ManyToManyField(Signalement, related_name="duplicate_groups")
    state = models.CharField(max_length=20, choices=State.choices, default=State.PROPOSED)
    # A hash of the category and sorted member ids: the same group is proposed once, whatever the
    # job's runs (a group may have hundreds of members: the ids themselves would not fit).
    signature = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        verbose_name = _("groupe de doublons")
        verbose_name_plural = _("groupes de doublons")
        ordering = ["-created_at"]


class WorkListPosition(models.Model):
    """The order a crew chose by hand for its work list; kept until the crew reorders again."""

    team = models.ForeignKey("cartography.Team", on_delete=models.CASCADE, related_name="+")
    signalement = models.ForeignKey(Signalement, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["team", "position"]
        constraints = [
            models.UniqueConstraint(fields=["team", "signalement"], name="worklist_position_once"),
        ]


class CrewUpdate(models.Model):
    """An update sent by a crew from the street: started, done or cannot be done, with a note.

    A phone that queued it offline, or lost the answer, sends it again under the same client-made
    key; the unique key makes the database refuse a second application."""

    class Outcome(models.TextChoices):
        START = "start", _("je commence")
        DONE = "done", _("fait")
        CANNOT = "cannot", _("impossible à faire")

    class CannotReason(models.TextChoices):
        PARKED = "parked", _("Un véhicule est garé dessus")
        EQUIPMENT = "equipment", _("Il faut un autre matériel ou une autre équipe")
        NOT_FOUND = "not_found", _("Rien trouvé à cet endroit")
        PRIVATE = "private", _("Terrain privé")
        DANGER = "danger", _("Dangereux : il faut une signalisation ou la police")
        OTHER = "other", _("Autre raison (précisez dans la note)")

    signalement = models.ForeignKey(Signalement, on_delete=models.CASCADE, related_name="crew_updates")
    team = models.ForeignKey("cartography.Team", on_delete=models.CASCADE, related_name="+")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    note = models.TextField(blank=True)
    # Why a stop could not be done: the desk reads it in its queue. Older "cannot" rows have none.
    cannot_reason = models.CharField(
        _("raison"), max_length=20, choices=CannotReason.choices, blank=True, default=""
    )
    status = models.CharField(max_length=20, choices=Status.choices)  # the report's, once applied
    idempotency_key = models.CharField(max_length=128, null=True, blank=True, editable=False)
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        verbose_name = _("mise à jour de terrain")
        verbose_name_plural = _("mises à jour de terrain")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["idempotency_key"],
                name="crewupdate_unique_idempotency_key",
                condition=Q(idempotency_key__isnull=False),
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=["", "start", "done", "cannot"]), name="crewupdate_outcome_valid"
            ),
            models.CheckConstraint(
                condition=Q(cannot_reason="")
                | Q(
                    outcome="cannot",
                    cannot_reason__in=["parked", "equipment", "not_found", "private", "danger", "other"],
                ),
                name="crewupdate_cannot_reason_valid",
            ),
        ]
