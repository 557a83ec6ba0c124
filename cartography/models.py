from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, GistIndex
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

DEFAULT_DISTRICT_LAYER = "districts"


class Territory(models.Model):
    """The area a desk serves. Reports outside every territory are refused."""

    slug = models.SlugField(_("identifiant"), unique=True)
    name = models.CharField(_("nom"), max_length=200)
    code = models.CharField(_("code officiel"), max_length=50, blank=True)
    geom = models.MultiPolygonField(_("limite"), srid=4326)
    locating_layer = models.SlugField(
        _("couche des quartiers"),
        default=DEFAULT_DISTRICT_LAYER,
        help_text=_("Couche de découpage dont le quartier est enregistré sur chaque signalement."),
    )
    # The planners read a layer by its name ("Anciennes communes"), not its key ("districts"):
    # import_districts --layer-name writes it.
    layer_names = models.JSONField(
        _("noms des découpages"),
        default=dict,
        blank=True,
        help_text=_("Nom de chaque couche de découpage, par identifiant de couche."),
    )
    # Set by cartography.services.relocation_request, in the transaction of a boundary or work zone
    # edit, to a new value at each request; cleared by territory_relocate once a relocation that
    # started after that request has run. Written only by those UPDATE statements, never by save().
    relocation_requested_at = models.DateTimeField(
        _("relocalisation demandée le"),
        null=True,
        blank=True,
        editable=False,
        help_text=_(
            "Une limite ou une zone de travail a changé depuis : les signalements de ce territoire "
            "attendent d'être relocalisés."
        ),
    )

    class Meta:
        verbose_name = _("territoire")
        verbose_name_plural = _("territoires")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def layer_name(self, layer: str) -> str:
        """The layer's name, or its key when none was given."""
        return self.layer_names.get(layer) or layer


class District(models.Model):
    """A named division of a territory. Several layers may coexist (sub-municipalities, sectors)."""

    territory = models.ForeignKey(
        Territory, on_delete=models.CASCADE, related_name="districts", verbose_name=_("territoire")
    )
    layer = models.SlugField(_("couche"), default=DEFAULT_DISTRICT_LAYER)
    name = models.CharField(_("nom"), max_length=200)
    code = models.CharField(_("code"), max_length=50)
    geom = models.MultiPolygonField(_("limite"), srid=4326)
    # Residents, when the boundary file gives them: planners read rates per 1,000 residents.
    population = models.PositiveIntegerField(_("habitants"), null=True, blank=True)

    class Meta:
        verbose_name = _("quartier")
        verbose_name_plural = _("quartiers")
        ordering = ["territory", "layer", "name"]
        constraints = [
            models.UniqueConstraint(fields=["territory", "layer", "code"], name="district_unique_code"),
        ]

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    """A team that handles reports. Its public phone and e-mail are shown to citizens."""

    slug = models.SlugField(_("identifiant"), unique=True)
    name = models.CharField(_("nom"), max_length=200)
    territory = models.ForeignKey(
        Territory,
        on_delete=models.PROTECT,
        related_name="teams",
        null=True,
        blank=True,
        verbose_name=_("territoire"),
    )
    public_phone = models.CharField(_("téléphone public"), max_length=40, blank=True)
    public_email = models.EmailField(_("e-mail public"), blank=True)
    depot = models.PointField(_("dépôt"), srid=4326, null=True, blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="teams", verbose_name=_("membres")
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("équipe")
        verbose_name_plural = _("équipes")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class WorkZone(models.Model):
    """Where a team works, for some categories (none listed: all categories).

    Precedence when zones overlap: a zone that names the category beats a catch-all zone, then the
    higher priority wins, then the smaller zone (the more specific one).
    """

    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, related_name="work_zones", verbose_name=_("équipe")
    )
    name = models.CharField(_("nom"), max_length=200)
    geom = models.MultiPolygonField(_("zone"), srid=4326)
    categories = models.ManyToManyField(
        "signalements.Category", blank=True, related_name="work_zones", verbose_name=_("catégories")
    )
    priority = models.SmallIntegerField(_("priorité"), default=0)

    class Meta:
        verbose_name = _("zone de travail")
        verbose_name_plural = _("zones de travail")
        ordering = ["team", "name"]

    def __str__(self) -> str:
        return f"{self.team} – {self.name}"


class Place(models.Model):
    """A named place the local geocoder can find: a street, a square, a district, a landmark."""

    class Kind(models.TextChoices):
        STREET = "street", _("rue")
        PLACE = "place", _("lieu")
        DISTRICT = "district", _("quartier")
        ADDRESS = "address", _("adresse")

    territory = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="places")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    name = models.CharField(_("nom"), max_length=200)
    # Lower case without accents, for trigram search (unaccent() cannot be indexed directly).
    search_name = models.CharField(max_length=200)
    point = models.PointField(srid=4326)
    source = models.CharField(max_length=50, blank=True)

    class Meta:
        verbose_name = _("lieu nommé")
        verbose_name_plural = _("lieux nommés")
        indexes = [GinIndex(fields=["search_name"], opclasses=["gin_trgm_ops"], name="place_name_trgm")]
        constraints = [
            models.UniqueConstraint(fields=["territory", "kind", "search_name"], name="place_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


# Subdivided copies of the polygons above, kept by database triggers (cartography.database).
# Point-in-polygon on a 3,000-vertex boundary walks every vertex; on ST_Subdivide pieces of at most
# 64 vertices the GiST index narrows the test to one small piece.


class TerritoryPart(models.Model):
    territory = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="+")
    geom = models.PolygonField(srid=4326)

    class Meta:
        default_permissions = ()


class DistrictPart(models.Model):
    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    territory = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="+")
    layer = models.SlugField()
    # Whether the layer is its territory's locating layer, kept by triggers (cartography.database) so
    # that locating probes only these parts through a partial index, with no join.
    locating = models.BooleanField(default=False)
    geom = models.PolygonField(srid=4326)

    class Meta:
        default_permissions = ()
        indexes = [
            GistIndex(fields=["geom"], name="districtpart_locating_gist", condition=Q(locating=True)),
        ]


class WorkZonePart(models.Model):
    work_zone = models.ForeignKey(WorkZone, on_delete=models.CASCADE, related_name="+")
    area = models.FloatField(help_text="Area of the whole zone in m², for precedence.")
    # Copies of the zone's team, priority and categories (empty: every category) and of the team's
    # active flag, kept by triggers (cartography.database): locating reads one table, with no join.
    team = models.ForeignKey(
        Team, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    priority = models.SmallIntegerField()
    category_ids = ArrayField(models.BigIntegerField(), default=list)
    team_active = models.BooleanField()
    geom = models.PolygonField(srid=4326)

    class Meta:
        default_permissions = ()


# Locating one report probes a single table. A cell is a piece (ST_Subdivide) of a face of the
# overlay of the territory outlines, the locating-layer districts and the work zones: inside a face
# nothing the locate rules read changes, so its answer is computed once, for every category. Built
# again at the commit of any transaction that changes what the rules read, for the territories
# the changes touch (cartography.database), while LocateCellsState says the cells are stale in that
# transaction, and locate() reads the rules.


class LocateCell(models.Model):
    territory = models.ForeignKey(
        Territory, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    district = models.ForeignKey(
        District,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        related_name="+",
    )
    # The team for a report without a category: the best catch-all zone, as the rules give it.
    catch_all_team = models.ForeignKey(
        Team, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, null=True, related_name="+"
    )
    # team_ids[i] is the team of category_ids[i] here (NULL: none), for every category.
    category_ids = ArrayField(models.BigIntegerField())
    team_ids = ArrayField(models.BigIntegerField(null=True))
    geom = models.PolygonField(srid=4326)

    class Meta:
        default_permissions = ()


class LocateCellsState(models.Model):
    """One row: whether the cells lag behind the rules' tables in the current transaction. No row
    (a truncated table) counts as stale."""

    stale = models.BooleanField()
    # What the next build covers: every territory, or those of territory_ids,
    # recorded by the edits since the last build that succeeded.
    everywhere = models.BooleanField(default=True)
    territory_ids = ArrayField(models.BigIntegerField(), default=list)

    class Meta:
        default_permissions = ()
