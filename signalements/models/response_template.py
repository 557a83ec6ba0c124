from django.contrib.gis.db import models
from django.utils.translation import gettext_lazy as _

from .category import Category
from .choices import Status


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
