from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

from config.database import install_after_migrate


def roles_sync_after_migrate(sender, using="default", **kwargs) -> None:
    """The roles' groups get exactly the permissions signalements.roles gives them at every
    migrate, so that a change of policy (crews lost the admin) reaches existing databases."""
    from .roles import roles_sync

    roles_sync()


class SignalementsConfig(AppConfig):
    name = "signalements"
    verbose_name = _("Signalements")

    def ready(self) -> None:
        post_migrate.connect(roles_sync_after_migrate, sender=self, dispatch_uid="signalements-roles-sync")
        # The history's append-only triggers, as signalements.history declares them.
        history = install_after_migrate(
            declaration="signalements.history", needs=("signalements", "0001_squashed_0028_schema")
        )
        post_migrate.connect(history, sender=self, weak=False, dispatch_uid="signalements-history")
        # Cartography locates the reports again when boundaries change, and names streets from their
        # addresses, through what this app registers (cartography does not import it).
        from cartography.located import address_source_register, relocator_register

        from .locating import report_addresses, signalements_relocate

        relocator_register("signalements", signalements_relocate)
        address_source_register("signalements", report_addresses)
