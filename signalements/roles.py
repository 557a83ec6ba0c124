"""The four kinds of staff user, as Django groups with model permissions."""

from django.contrib.auth.models import Group, Permission

AGENT, CREW, PLANNER, ADMINISTRATOR = "agent", "crew", "planner", "administrator"

REPORT_MODELS = ["signalement", "statuschange", "photo", "reportercontact"]
REFERENCE_MODELS = ["territory", "district", "team", "workzone", "category", "categorygroup"]

ROLE_PERMISSIONS = {
    AGENT: [f"{action}_{model}" for model in REPORT_MODELS for action in ("view", "add", "change")]
    + [f"view_{model}" for model in REFERENCE_MODELS],
    # Crews work from their own pages (work list, outcomes); the admin is not theirs.
    CREW: [],
    PLANNER: [f"view_{model}" for model in REPORT_MODELS if model != "reportercontact"]
    + [f"view_{model}" for model in REFERENCE_MODELS],
    ADMINISTRATOR: [
        f"{action}_{model}"
        for model in REPORT_MODELS + REFERENCE_MODELS
        for action in ("view", "add", "change", "delete")
    ],
}


def roles_sync() -> dict[str, Group]:
    """Create the groups and give them exactly their permissions. Safe to run again."""
    groups = {}
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        permissions = Permission.objects.filter(
            content_type__app_label__in=["signalements", "cartography"], codename__in=codenames
        )
        group.permissions.set(permissions)
        groups[role] = group
    return groups
