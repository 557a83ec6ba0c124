from django.contrib.gis.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


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
