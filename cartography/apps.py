from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CartographyConfig(AppConfig):
    name = "cartography"
    verbose_name = _("Cartographie")
