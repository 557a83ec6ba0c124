from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

# The schema the declared functions and triggers read (cartography.database).
RULES_NEED = ("cartography", "0011_locate_cells_by_territory")


def rules_install_after_migrate(sender, using="default", **kwargs) -> None:
    """Install the locating rules' functions and triggers as declared, once the schema they read is
    there (a migrate back to an older state leaves them as its migrations made them)."""
    from django.db import connections
    from django.db.migrations.recorder import MigrationRecorder

    from .database import install

    connection = connections[using]
    if RULES_NEED in MigrationRecorder(connection).applied_migrations():
        install(connection)


class CartographyConfig(AppConfig):
    name = "cartography"
    verbose_name = _("Cartographie")

    def ready(self) -> None:
        post_migrate.connect(rules_install_after_migrate, sender=self, dispatch_uid="cartography-rules")
