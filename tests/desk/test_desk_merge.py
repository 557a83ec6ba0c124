"""A merge tells the duplicate's reporter and followers, once, in their language; an undo never lies."""

import pytest
from django.contrib.gis.geos import Point

from signalements.desk.duplicates import signalement_unmerge, signalements_merge
from signalements.intake.services import ReporterData, signalement_submit, signalement_support
from signalements.models import Category, Notification, Support
from signalements.notifications.delivery import notifications_send
from signalements.tasks import notifications_deliver
from tests.conftest import PLACE_SAINT_LAMBERT, confirm_addresses


@pytest.fixture
def reports(liege, mailoutbox):
    """A master with its own reporter, and a duplicate followed by its (Dutch-speaking) reporter, an
    English-speaking neighbour and a neighbour who asked for no e-mail; all confirmed their address."""
    dechets = Category.objects.get(slug="dechets")
    here = Point(*PLACE_SAINT_LAMBERT, srid=4326)
    master, _ = signalement_submit(
        category=dechets,
        location=here,
        reporter=ReporterData(name="Alice Lambert", email="alice@example.org", phone="+32 470 99 88 77"),
    )
    duplicate, _ = signalement_submit(
        category=dechets, location=here, reporter=ReporterData(email="bart@example.org"), language="nl"
    )
    signalement_support(
        signalement=duplicate, supporter_key="k1", email="neighbour@example.org", language="en"
    )
    quiet, _ = signalement_support(signalement=duplicate, supporter_key="k2", email="quiet@example.org")
    Support.objects.filter(pk=quiet.pk).update(wants_updates=False)
    notifications_send()  # the acknowledgements of receipt, which ask to confirm the address
    assert len(confirm_addresses(mailoutbox)) == 4
    return master, duplicate


def test_the_duplicates_followers_are_told_once_in_their_language_with_their_own_link(reports, mailoutbox):
    master, duplicate = reports
    mailoutbox.clear()

    signalements_merge(master=master, duplicates=[duplicate])
    notifications_deliver.apply(kwargs={"signalement_id": duplicate.pk})
    notifications_deliver.apply(kwargs={"signalement_id": duplicate.pk})  # a retried task
    notifications_send()

    assert sorted(m.to[0] for m in mailoutbox) == ["bart@example.org", "neighbour@example.org"]
    reporter_mail = next(m for m in mailoutbox if m.to == ["bart@example.org"])
    neighbour_mail = next(m for m in mailoutbox if m.to == ["neighbour@example.org"])
    assert f"/suivi/{duplicate.tracking_token}/" in reporter_mail.body  # the reporter's own private page
    assert "samengevoegd" in reporter_mail.body  # Dutch
    assert f"/signalements/{master.reference}/" in neighbour_mail.body  # the master's public page
    assert "merged" in neighbour_mail.body  # English
    for mail in mailoutbox:
        assert master.reference in mail.subject and master.reference in mail.body
        text = mail.subject + mail.body
        for private in (master.tracking_token, "alice@example.org", "Alice", "99 88 77"):
            assert private not in text
    assert Notification.objects.filter(kind="merged").count() == 2


def test_the_merged_reporter_follows_the_master_from_their_own_tracking_page_and_the_api(
    reports, client, api_client
):
    master, duplicate = reports
    signalements_merge(master=master, duplicates=[duplicate])

    page = client.get(f"/suivi/{duplicate.tracking_token}/").content.decode()
    assert f"Suivi avec le signalement {master.reference}" in page
    assert f'href="/signalements/{master.reference}/"' in page
    assert master.tracking_token not in page and "alice@example.org" not in page
    tracked = api_client.get(f"/api/v1/tracking/{duplicate.tracking_token}/").json()
    assert tracked["merged_into"]["reference"] == master.reference
    assert master.tracking_token not in str(tracked) and "alice" not in str(tracked)
    assert api_client.get(f"/api/v1/tracking/{master.tracking_token}/").json()["merged_into"] is None


def test_an_undo_before_the_e_mails_left_sends_nothing_at_all(reports, mailoutbox):
    master, duplicate = reports
    mailoutbox.clear()

    signalements_merge(master=master, duplicates=[duplicate])
    signalement_unmerge(duplicate=duplicate)
    notifications_send()

    assert mailoutbox == []
    assert not Notification.objects.filter(signalement=duplicate, sent_at__isnull=True).exists()


def test_an_undo_after_the_e_mails_left_tells_the_same_people_it_was_not_a_duplicate(reports, mailoutbox):
    master, duplicate = reports
    signalements_merge(master=master, duplicates=[duplicate])
    notifications_send()
    mailoutbox.clear()

    signalement_unmerge(duplicate=duplicate)
    notifications_send()
    notifications_send()

    assert sorted(m.to[0] for m in mailoutbox) == ["bart@example.org", "neighbour@example.org"]
    neighbour_mail = next(m for m in mailoutbox if m.to == ["neighbour@example.org"])
    assert "the merge is undone" in neighbour_mail.body and duplicate.reference in neighbour_mail.subject
    assert f"/signalements/{duplicate.reference}/" in neighbour_mail.body
    assert (
        f"/suivi/{duplicate.tracking_token}/"
        in next(m for m in mailoutbox if m.to == ["bart@example.org"]).body
    )
    for mail in mailoutbox:
        assert "alice" not in mail.body.lower() and master.tracking_token not in mail.body


def test_after_a_merge_the_master_s_news_reach_the_duplicate_s_followers_who_want_them(reports, mailoutbox):
    from signalements.desk.services import signalement_transition

    master, duplicate = reports
    signalements_merge(master=master, duplicates=[duplicate])
    notifications_send()
    mailoutbox.clear()

    signalement_transition(signalement=master, to_status="acknowledged")
    notifications_send()

    assert sorted(m.to[0] for m in mailoutbox) == [
        "alice@example.org",
        "bart@example.org",
        "neighbour@example.org",
    ]


def test_a_merged_reporter_who_stops_e_mails_on_their_page_stops_the_master_s_too(
    reports, client, mailoutbox
):
    from signalements.desk.services import signalement_transition

    master, duplicate = reports
    signalements_merge(master=master, duplicates=[duplicate])
    notifications_send()
    mailoutbox.clear()

    client.post(f"/suivi/{duplicate.tracking_token}/", {"action": "updates-off"})
    signalement_transition(signalement=master, to_status="acknowledged")
    notifications_send()

    assert sorted(m.to[0] for m in mailoutbox) == ["alice@example.org", "neighbour@example.org"]
