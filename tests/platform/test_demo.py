"""The demo city: what a newcomer gets from the first README command."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from cartography.models import District, Team, Territory
from signalements.models import Category, Signalement


def test_the_liege_demo_has_districts_sectors_categories_teams_users_and_reports(db):
    call_command("load_demo", city="liege", reports=600, stdout=io.StringIO())

    liege = Territory.objects.get(slug="liege")
    assert District.objects.filter(territory=liege, layer="districts").count() == 12
    assert District.objects.filter(territory=liege, layer="sectors").count() == 184
    assert {
        "feuilles-mortes",
        "trottoir-verglace",
        "nid-de-poule",
        "lampadaire-eteint",
        "panneau-abime",
        "vegetation",
        "depot-sauvage",
    } <= set(Category.objects.values_list("slug", flat=True))
    assert Team.objects.filter(territory=liege, work_zones__isnull=False).distinct().count() >= 3
    assert Category.objects.filter(default_team__isnull=True).count() == 0
    users = get_user_model().objects
    for role in ("agent", "crew", "planner", "administrator"):
        assert users.filter(groups__name=role).exists(), role
    reports = Signalement.objects.filter(territory=liege, source="demo-liege")
    assert reports.count() == 600
    assert reports.filter(district__isnull=True).count() == 0
    assert reports.filter(team__isnull=True).count() == 0
    leaves_by_month = [
        reports.filter(category__slug="feuilles-mortes", created_at__month=m).count() for m in range(1, 13)
    ]
    assert sum(leaves_by_month[9:11]) > sum(leaves_by_month[2:8])  # autumn, not spring and summer

    call_command("load_demo", city="liege", reports=600, stdout=io.StringIO())
    assert Signalement.objects.filter(source="demo-liege").count() == 600  # loading again adds nothing


def test_an_unknown_city_is_refused(db):
    with pytest.raises(CommandError, match="known: .*liege"):
        call_command("load_demo", city="atlantis", stdout=io.StringIO())
