from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

from config.database import install_after_migrate


class CartographyConfig(AppConfig):
    name = "cartography"
    verbose_name = _("Cartographie")

    def ready(self) -> None:
        # The locating rules' functions and triggers, as cartography.database declares them.
        rules = install_after_migrate(
            declaration="cartography.database", needs=("cartography", "0002_squashed_schema_on_signalements")
        )
        post_migrate.connect(rules, sender=self, weak=False, dispatch_uid="cartography-rules")
        # The public map's tables of counts and their triggers, as cartography.publicmap.database
        # declares them.
        counts = install_after_migrate(
            declaration="cartography.publicmap.database",
            needs=("cartography", "0020_publicmap_district_every_category"),
        )
        post_migrate.connect(counts, sender=self, weak=False, dispatch_uid="publicmap-counts")
        # The districts' outlines of the map's low zooms, as cartography.publicmap.outlines declares.
        outlines = install_after_migrate(
            declaration="cartography.publicmap.outlines",
            needs=("cartography", "0019_publicmap_district_outline"),
        )
        post_migrate.connect(outlines, sender=self, weak=False, dispatch_uid="publicmap-outlines")
