from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


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
