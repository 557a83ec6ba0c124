from django.contrib.gis.db import models
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _

from .signalement import Signalement


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
