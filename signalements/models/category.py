from django.contrib.gis.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


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
