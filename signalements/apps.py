from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def roles_sync_after_migrate(sender, using="default", **kwargs) -> None:
    """The roles' groups get exactly the permissions signalements.roles gives them at every
    migrate, so that a change of policy (crews lost the admin) reaches existing databases."""
    from .roles import roles_sync

    roles_sync()


def history_rules_after_migrate(sender, using="default", **kwargs) -> None:
    """The history's triggers as signalements.history declares them, once its table is there."""
    from django.db import connections
    from django.db.migrations.recorder import MigrationRecorder

    from .history import history_rules_install

    connection = connections[using]
    if ("signalements", "0023_history_refuse_delete") in MigrationRecorder(connection).applied_migrations():
        history_rules_install(connection)


class SignalementsConfig(AppConfig):
    name = "signalements"
    verbose_name = _("Signalements")

    def ready(self) -> None:
        post_migrate.connect(roles_sync_after_migrate, sender=self, dispatch_uid="signalements-roles-sync")
        post_migrate.connect(
            history_rules_after_migrate, sender=self, dispatch_uid="signalements-history-rules"
        )
        # Cartography locates the reports again when boundaries change, and names streets from their
        # addresses, through what this app registers (cartography does not import it).
        from cartography.located import address_source_register, relocator_register

        from .locating import report_addresses, signalements_relocate

        relocator_register(
            "signalements", lambda territory_id: signalements_relocate(territory_id=territory_id)
        )
        address_source_register("signalements", report_addresses)
