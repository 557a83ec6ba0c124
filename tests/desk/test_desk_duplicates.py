"""Duplicates at the desk: a "duplicate" status only through a merge that names the master; the
report page and the groups page give an agent what a merge decision needs."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from signalements.desk.duplicates import duplicate_groups_propose, signalements_merge
from signalements.desk.services import comment_add, signalement_transition
from signalements.desk.workflow import ENTERED_BY_MERGE, TRANSITIONS
from signalements.models import Category, Comment, DuplicateGroup, Photo, ReporterContact, Signalement, Status
from tests.conftest import PLACE_SAINT_LAMBERT, jpeg_bytes
from tests.factories import SignalementFactory

User = get_user_model()


def api_as(username: str) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=User.objects.get(username=username))
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def test_no_status_change_leads_to_or_out_of_duplicate():
    assert all(Status.DUPLICATE not in targets for targets in TRANSITIONS.values())
    assert TRANSITIONS[Status.DUPLICATE] == frozenset()
    assert {Status.DUPLICATE} == ENTERED_BY_MERGE


@pytest.mark.parametrize("author", ["agent", None])
def test_the_transition_service_refuses_duplicate_for_anyone(liege, author):
    signalement = SignalementFactory(status="new")

    with pytest.raises(ValidationError) as refused:
        signalement_transition(
            signalement=signalement,
            to_status=Status.DUPLICATE,
            author=User.objects.get(username=author) if author else None,
        )

    assert "fusionnant" in " ".join(refused.value.messages)
    signalement.refresh_from_db()
    assert signalement.status == "new" and not signalement.history.exists()


def test_the_desk_status_form_offers_no_duplicate_and_refuses_one_posted(client, liege):
    signalement = SignalementFactory(status="acknowledged")
    client.force_login(User.objects.get(username="agent"))
    url = f"/bureau/signalements/{signalement.reference}/"

    page = client.get(url).content.decode()
    assert 'name="to_status"' in page and 'value="resolved"' in page
    assert 'value="duplicate"' not in page

    client.post(url, {"action": "transition", "to_status": "duplicate", "from_status": "acknowledged"})

    signalement.refresh_from_db()
    assert signalement.status == "acknowledged" and signalement.duplicate_of is None


def test_the_api_refuses_duplicate_with_a_400_that_points_to_the_merge(liege):
    signalement = SignalementFactory(status="new")

    response = api_as("agent").post(
        f"/api/v1/desk/signalements/{signalement.reference}/transitions/",
        {"to_status": "duplicate"},
        format="json",
    )

    assert response.status_code == 400
    messages = " ".join(response.json()["to_status"])
    assert "/api/v1/desk/signalements/MASTER/merge/" in messages and signalement.reference in messages
    signalement.refresh_from_db()
    assert signalement.status == "new"


# --- the desk's report page -------------------------------------------------------------------

LON, LAT = PLACE_SAINT_LAMBERT
NEAR = (LON + 0.00028, LAT)  # some 20 m east: within the 40 m of "dechets"
FAR = (LON + 0.002, LAT)  # some 140 m east


@pytest.fixture
def report(liege):
    """A report with a public and a non-public photo, a citizen's message, a reply and a crew note,
    and around it: a nearby open report, a far one, one of another category, a closed one."""
    dechets = Category.objects.get(slug="dechets")
    master = SignalementFactory(
        category=dechets,
        location=Point(LON, LAT, srid=4326),
        description="Sac éventré, appelez-moi au 0470 12 34 56",
    )
    ReporterContact.objects.create(signalement=master, name="Alice Lambert", email="alice@example.org")
    Signalement.objects.filter(pk=master.pk).update(public_description="Sac éventré")
    master.refresh_from_db()
    Photo.objects.create(signalement=master, image=ContentFile(jpeg_bytes(), name="vue.jpg"))
    Photo.objects.create(
        signalement=master, image=ContentFile(jpeg_bytes(), name="plaque.jpg"), is_public=False
    )
    comment_add(signalement=master, text="Toujours là ce matin", from_citizen=True)
    comment_add(signalement=master, text="Nous passons demain.", author=User.objects.get(username="agent"))
    crew = User.objects.get(username="crew-voirie")
    Comment.objects.create(
        signalement=master, text="Accès bloqué par un camion", author=crew, is_internal=True
    )
    return {
        "master": master,
        "near": SignalementFactory(
            category=dechets, location=Point(*NEAR, srid=4326), description="Autre sac"
        ),
        "far": SignalementFactory(category=dechets, location=Point(*FAR, srid=4326)),
        "other_category": SignalementFactory(
            category=Category.objects.get(slug="nid-de-poule"), location=Point(*NEAR, srid=4326)
        ),
        "closed": SignalementFactory(category=dechets, location=Point(*NEAR, srid=4326), status="closed"),
    }


def page_as(client, username: str, signalement) -> str:
    client.force_login(User.objects.get(username=username))
    response = client.get(f"/bureau/signalements/{signalement.reference}/", HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 200
    return response.content.decode()


def test_the_report_page_shows_every_photo_marking_those_not_public(client, report):
    page = page_as(client, "agent", report["master"])

    for photo in report["master"].photos.all():
        assert f'href="{photo.image.url}"' in page
    assert page.count('class="badge">non publique') == 1


def test_the_report_page_maps_the_point_and_its_district_in_french_without_decimal_commas(client, report):
    page = page_as(client, "agent", report["master"])

    assert f'data-lat="{LAT}"' in page and f'data-lon="{LON}"' in page
    assert 'id="district-outline" type="application/json"' in page
    assert "desk-report.js" in page and "leaflet.js" in page


def test_the_report_page_names_who_wrote_each_message_and_when(client, report):
    page = page_as(client, "agent", report["master"])

    assert "<strong>Citoyen</strong>" in page
    assert "<strong>agent</strong>" in page
    assert "<strong>crew-voirie (équipe de terrain)</strong>" in page
    assert page.count("<time datetime=") == 3


def test_the_report_page_lists_only_nearby_open_reports_of_its_category(client, report):
    page = page_as(client, "agent", report["master"])
    nearby = page[page.index('id="nearby-title"') :]

    assert report["near"].reference in nearby and "20 m" in nearby
    for absent in ("far", "other_category", "closed"):
        assert report[absent].reference not in nearby
    assert f'value="{report["master"].reference}"' not in nearby  # not itself
    assert f"Fusionner {report['near'].reference} ici" in nearby


@pytest.mark.parametrize("username", ["planner", "crew-voirie"])
def test_roles_that_may_not_merge_see_no_merge_button_nor_contacts(client, report, username):
    Signalement.objects.filter(pk__in=[report["master"].pk, report["near"].pk]).update(
        team=User.objects.get(username="crew-voirie").teams.first()
    )
    page = page_as(client, username, report["master"])

    assert "Fusionner " not in page and 'value="merge"' not in page
    assert "0470 12 34 56" not in page and "alice@example.org" not in page
    assert "Sac éventré" in page


def test_one_click_merges_a_nearby_report_and_the_master_can_undo_it(client, report):
    master, near = report["master"], report["near"]
    client.force_login(User.objects.get(username="agent"))
    url = f"/bureau/signalements/{master.reference}/"

    merged = client.post(url, {"action": "merge", "duplicate": near.reference}, follow=True)

    near.refresh_from_db()
    assert near.duplicate_of_id == master.pk and near.status == "duplicate"
    page = merged.content.decode()
    merged_list = page[page.index('id="merged-title"') :]
    assert near.reference in merged_list and "Annuler la fusion" in merged_list

    client.post(url, {"action": "unmerge", "duplicate": near.reference})

    near.refresh_from_db()
    assert near.duplicate_of_id is None and near.status == "new"


def test_the_master_cannot_unmerge_a_report_that_is_not_merged_into_it(client, report):
    other_master = SignalementFactory(category=report["master"].category)
    signalements_merge(master=other_master, duplicates=[report["near"]])
    client.force_login(User.objects.get(username="agent"))

    response = client.post(
        f"/bureau/signalements/{report['master'].reference}/",
        {"action": "unmerge", "duplicate": report["near"].reference},
    )

    assert response.status_code == 404
    report["near"].refresh_from_db()
    assert report["near"].duplicate_of_id == other_master.pk


def test_a_planner_cannot_merge_by_posting(client, report):
    client.force_login(User.objects.get(username="planner"))

    response = client.post(
        f"/bureau/signalements/{report['master'].reference}/",
        {"action": "merge", "duplicate": report["near"].reference},
    )

    assert response.status_code == 403
    report["near"].refresh_from_db()
    assert report["near"].duplicate_of_id is None


# --- the duplicate groups page ----------------------------------------------------------------


@pytest.fixture
def group(liege):
    """Three reports at a few metres of each other, the oldest in the middle of the creation order
    of their ids (so that "oldest" cannot be the first id by chance), with a photo."""
    dechets = Category.objects.get(slug="dechets")
    now = timezone.now()
    newer = SignalementFactory(
        category=dechets,
        location=Point(*NEAR, srid=4326),
        created_at=now - timedelta(hours=1),
        description="Appelez le 0470 12 34 56",
        public_description="Sacs",
    )
    oldest = SignalementFactory(category=dechets, created_at=now - timedelta(days=2))
    newest = SignalementFactory(category=dechets, location=Point(*NEAR, srid=4326), created_at=now)
    Photo.objects.create(signalement=newer, image=ContentFile(jpeg_bytes(), name="sacs.jpg"))
    assert duplicate_groups_propose() == 1
    return DuplicateGroup.objects.get(), oldest, newer, newest


def test_the_groups_page_proposes_the_oldest_as_master_with_distances_and_photos(client, group):
    _group, oldest, newer, newest = group
    client.force_login(User.objects.get(username="agent"))

    page = client.get("/bureau/doublons/").content.decode()

    checked = re.findall(r'<input type="radio" name="master" value="([^"]+)"[^>]*checked', page)
    assert checked == [oldest.reference]
    assert page.index(oldest.reference) < page.index(newer.reference) < page.index(newest.reference)
    assert page.count("à 20 m du plus ancien") == 2
    assert f'href="/bureau/signalements/{newer.reference}/"' in page
    assert f'href="{newer.photos.get().image.url}"' in page
    assert f'data-lat="{LAT}"' in page and 'class="map group-map"' in page
    assert "0470 12 34 56" in page  # the agent reads the original


def test_the_groups_page_shows_the_public_description_to_a_planner_and_no_merge(client, group):
    _group, _oldest, newer, _newest = group
    client.force_login(User.objects.get(username="planner"))

    page = client.get("/bureau/doublons/").content.decode()

    assert "0470 12 34 56" not in page and "Sacs" in page
    assert 'name="master"' not in page and 'value="merge"' not in page


def test_merging_a_group_into_the_oldest_can_be_undone_from_the_master(client, group):
    group_row, oldest, newer, newest = group
    client.force_login(User.objects.get(username="agent"))

    client.post("/bureau/doublons/", {"group": group_row.pk, "master": oldest.reference, "action": "merge"})

    assert set(oldest.duplicates.values_list("pk", flat=True)) == {newer.pk, newest.pk}
    master_page = client.get(f"/bureau/signalements/{oldest.reference}/").content.decode()
    merged = master_page[master_page.index('id="merged-title"') :]
    assert merged.count('value="unmerge"') == 2

    client.post(
        f"/bureau/signalements/{oldest.reference}/", {"action": "unmerge", "duplicate": newest.reference}
    )

    newest.refresh_from_db()
    assert newest.duplicate_of is None and newest.status == "new"
    assert list(oldest.duplicates.all()) == [newer]
