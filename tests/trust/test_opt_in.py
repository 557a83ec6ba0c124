"""Double opt-in: an address typed on a form gets one e-mail asking to confirm it, and nothing else
until its owner follows the link."""

import time
from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point
from django.core import signing

from signalements.desk.duplicates import signalements_merge
from signalements.desk.services import signalement_transition
from signalements.intake.services import ReporterData, signalement_submit, signalement_support
from signalements.models import Category, Channel, Notification, ReporterContact, Support
from signalements.notifications.delivery import notifications_send
from signalements.trust.optin import SALT
from tests.conftest import CONFIRM_LINK, PLACE_SAINT_LAMBERT, confirm_addresses


@pytest.fixture
def dechets(liege) -> Category:
    return Category.objects.get(slug="dechets")


def _submit(dechets, email="reporter@example.org", **kwargs):
    report, _ = signalement_submit(
        category=dechets,
        location=Point(*PLACE_SAINT_LAMBERT, srid=4326),
        reporter=ReporterData(email=email),
        **kwargs,
    )
    return report


def _link(mail) -> str:
    return CONFIRM_LINK.search(mail.body).group(0)


def test_the_reporter_gets_only_the_confirmation_until_confirming(dechets, mailoutbox, client):
    report = _submit(dechets)
    notifications_send()

    (mail,) = mailoutbox
    assert report.reference in mail.subject
    assert "/confirmer/" in mail.body
    assert report.tracking_token not in mail.body  # not to an address that may be mistyped
    signalement_transition(signalement=report, to_status="acknowledged")
    notifications_send()
    assert len(mailoutbox) == 1

    page = client.get(_link(mail))
    assert page.status_code == 200 and "Confirmer mon adresse" in page.content.decode()
    assert ReporterContact.objects.get(signalement=report).email_confirmed_at is None  # a GET is no yes
    confirmed = client.post(_link(mail))
    assert confirmed.status_code == 302 and confirmed["Location"] == f"/suivi/{report.tracking_token}/"
    assert ReporterContact.objects.get(signalement=report).email_confirmed_at is not None

    signalement_transition(signalement=report, to_status="planned")
    notifications_send()
    assert len(mailoutbox) == 2
    assert report.tracking_token in mailoutbox[1].body


def test_unconfirmed_supporters_get_no_status_e_mail_confirmed_ones_do(dechets, mailoutbox, client):
    report = _submit(dechets, email="")
    url = f"/api/v1/signalements/{report.reference}/supports/"
    for n in range(5):
        response = client.post(url, {"email": f"neighbour{n}@example.org"}, REMOTE_ADDR=f"192.0.2.{n + 1}")
        assert response.status_code == 201
    notifications_send()
    assert sorted(m.to[0] for m in mailoutbox) == [f"neighbour{n}@example.org" for n in range(5)]
    assert all("/confirmer/" in m.body for m in mailoutbox)
    client.post(_link(next(m for m in mailoutbox if m.to == ["neighbour0@example.org"])))
    mailoutbox.clear()

    signalement_transition(signalement=report, to_status="acknowledged", text="Vu.")
    notifications_send()

    assert [m.to[0] for m in mailoutbox] == ["neighbour0@example.org"]
    assert Notification.objects.filter(kind="status").count() == 1


def test_a_supporter_is_asked_once(dechets, mailoutbox):
    report = _submit(dechets, email="")
    for _ in range(3):
        signalement_support(signalement=report, supporter_key="k", email="n@example.org")
    notifications_send()

    assert [m.to[0] for m in mailoutbox] == ["n@example.org"]


def test_a_confirmation_holds_for_its_report_only(dechets, mailoutbox):
    first = _submit(dechets)
    notifications_send()
    confirm_addresses(mailoutbox)
    second = _submit(dechets)

    assert ReporterContact.objects.get(signalement=first).email_confirmed_at is not None
    assert ReporterContact.objects.get(signalement=second).email_confirmed_at is None
    signalement_transition(signalement=second, to_status="acknowledged")
    assert not Notification.objects.filter(signalement=second, kind="status").exists()


def test_a_report_an_agent_takes_by_phone_is_confirmed(dechets, mailoutbox):
    agent = get_user_model().objects.get(username="agent")

    by_phone = _submit(dechets, channel=Channel.PHONE, author=agent)
    on_the_web = _submit(dechets, email="web@example.org", channel=Channel.WEB, author=agent)
    notifications_send()

    assert ReporterContact.objects.get(signalement=by_phone).email_confirmed_at is not None
    assert ReporterContact.objects.get(signalement=on_the_web).email_confirmed_at is None
    phoned = next(m for m in mailoutbox if m.to == ["reporter@example.org"])
    assert by_phone.tracking_token in phoned.body and "/confirmer/" not in phoned.body
    mailoutbox.clear()
    signalement_transition(signalement=by_phone, to_status="acknowledged")
    notifications_send()
    assert [m.to[0] for m in mailoutbox] == ["reporter@example.org"]


def test_a_link_with_a_bad_signature_is_refused(dechets, mailoutbox, client):
    _submit(dechets)
    notifications_send()
    link = _link(mailoutbox[0])
    forged = link[:-3] + ("A" if link[-3] != "A" else "B") + link[-2:]

    for response in (client.get(forged), client.post(forged), client.get("/confirmer/nimporte-quoi/")):
        assert response.status_code == 400
        assert "Lien de confirmation non valable" in response.content.decode()
    assert not ReporterContact.objects.filter(email_confirmed_at__isnull=False).exists()


def test_an_expired_link_says_so(dechets, client, settings):
    report = _submit(dechets)
    settings.SIGNALEMENT_CONFIRMATION_MAX_AGE = timedelta(days=7)
    eight_days_ago = time.time() - 8 * 86400
    with mock.patch("django.core.signing.time.time", return_value=eight_days_ago):
        token = signing.dumps({"s": report.pk, "e": "reporter@example.org"}, salt=SALT, compress=True)

    response = client.post(f"/confirmer/{token}/")

    assert response.status_code == 400
    assert "Ce lien de confirmation a expiré" in response.content.decode()
    assert ReporterContact.objects.get(signalement=report).email_confirmed_at is None


def test_a_link_cannot_confirm_another_address(dechets, mailoutbox, client):
    report = _submit(dechets)
    signalement_support(signalement=report, supporter_key="k", email="victim@example.org")
    token = signing.dumps({"s": report.pk, "e": "someone@example.org"}, salt="another salt", compress=True)

    assert client.post(f"/confirmer/{token}/").status_code == 400
    assert not Support.objects.filter(email_confirmed_at__isnull=False).exists()


def test_a_merge_tells_only_confirmed_followers_and_keeps_who_confirmed(dechets, mailoutbox):
    master = _submit(dechets, email="")
    duplicate = _submit(dechets, email="confirmed@example.org")
    signalement_support(signalement=duplicate, supporter_key="k", email="unconfirmed@example.org")
    notifications_send()
    confirm_addresses([m for m in mailoutbox if m.to == ["confirmed@example.org"]])
    mailoutbox.clear()

    signalements_merge(master=master, duplicates=[duplicate])
    signalement_transition(signalement=master, to_status="acknowledged")
    notifications_send()

    assert sorted(m.to[0] for m in mailoutbox) == ["confirmed@example.org", "confirmed@example.org"]
    carried = Support.objects.filter(signalement=master, merged_from=duplicate)
    assert {(s.email, s.email_confirmed_at is not None) for s in carried} == {
        ("confirmed@example.org", True),
        ("unconfirmed@example.org", False),
    }
