from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PublicMapConfig(AppConfig):
    name = "cartography.publicmap"
    label = "publicmap"
    verbose_name = _("Carte publique")
