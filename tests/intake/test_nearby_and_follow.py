"""Nearby candidates, 'me too', notifications sent once, tracking by token, through services and API."""

import io
from datetime import timedelta

import pytest
from django.contrib.gis.geos import Point
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from signalements.desk.services import comment_add, signalement_transition
from signalements.intake.services import ReporterData, signalement_submit, signalement_support
from signalements.models import Category, Notification, Signalement
from signalements.notifications.delivery import notifications_send
from signalements.photos import photo_clean
from signalements.selectors import nearby_open_signalements
from tests.conftest import PLACE_SAINT_LAMBERT, confirm_addresses, jpeg_bytes
from tests.factories import SignalementFactory

LON, LAT = PLACE_SAINT_LAMBERT


def east(metres: float) -> Point:
    """A point `metres` east of Place Saint-Lambert (1° of longitude is about 70.7 km at 50.6° N)."""
    return Point(LON + metres / 70_700, LAT, srid=4326)


@pytest.fixture
def dechets(liege) -> Category:
    return Category.objects.get(slug="dechets")  # radius 40 m, window 7 days


def _refs(found) -> list[str]:
    return [s.reference for s in found]


def test_nearby_keeps_open_reports_of_the_category_within_radius_and_window_nearest_first(dechets):
    at_30 = SignalementFactory(category=dechets, location=east(30))
    at_10 = SignalementFactory(category=dechets, location=east(10))
    SignalementFactory(category=dechets, location=east(60))  # beyond 40 m
    SignalementFactory(category=dechets, location=east(5), status="resolved")
    SignalementFactory(category=dechets, location=east(5), status="rejected")
    SignalementFactory(category=Category.objects.get(slug="nid-de-poule"), location=east(5))
    SignalementFactory(category=dechets, location=east(5), created_at=timezone.now() - timedelta(days=8))

    found = nearby_open_signalements(category=dechets, location=east(0))

    assert _refs(found) == [at_10.reference, at_30.reference]
    assert found[0].distance.m == pytest.approx(10, abs=1)


def test_nearby_returns_at_most_five(dechets):
    for metres in range(1, 9):
        SignalementFactory(category=dechets, location=east(metres))

    assert len(nearby_open_signalements(category=dechets, location=east(0))) == 5


def test_nearby_api(client, dechets):
    near = SignalementFactory(category=dechets, location=east(12))

    body = client.get("/api/v1/signalements/nearby/", {"category": "dechets", "lon": LON, "lat": LAT}).json()

    assert [c["reference"] for c in body] == [near.reference]
    assert body[0]["distance_m"] == pytest.approx(12, abs=1)
    assert (
        client.get(
            "/api/v1/signalements/nearby/", {"category": "dechets", "lon": 500, "lat": LAT}
        ).status_code
        == 400
    )
    assert client.get("/api/v1/signalements/nearby/", {"lon": LON, "lat": LAT}).status_code == 400


def test_a_new_report_records_its_likely_duplicates(dechets):
    first = SignalementFactory(category=dechets, location=east(8))

    new, _ = signalement_submit(category=dechets, location=east(0))

    assert [(c.candidate_id, round(c.distance_m)) for c in new.duplicate_candidates.all()] == [(first.pk, 8)]


def test_me_too_counts_once_per_person_and_refuses_closed_reports(dechets):
    report = SignalementFactory(category=dechets)

    signalement_support(signalement=report, supporter_key="a", email="a@example.org")
    signalement_support(signalement=report, supporter_key="a")
    signalement_support(signalement=report, supporter_key="b")

    report.refresh_from_db()
    assert report.support_count == 2
    closed = SignalementFactory(category=dechets, status="closed")
    with pytest.raises(Exception, match="clôturé"):
        signalement_support(signalement=closed, supporter_key="a")


def test_me_too_through_the_api(client, dechets):
    report = SignalementFactory(category=dechets)
    url = f"/api/v1/signalements/{report.reference}/supports/"

    first = client.post(
        url, {"client_key": "device-1", "email": "v@example.org"}, content_type="application/json"
    )
    again = client.post(url, {"client_key": "device-1"}, content_type="application/json")

    assert (first.status_code, first.json()["support_count"]) == (201, 1)
    assert (again.status_code, again.json()["support_count"]) == (200, 1)
    # The client's key is not what counts: without it, the same client is still the same person.
    assert client.post(url, {}, content_type="application/json").json()["support_count"] == 1


def test_each_status_change_mails_the_reporter_and_followers_exactly_once(dechets, mailoutbox):
    report, _ = signalement_submit(
        category=dechets, location=east(0), reporter=ReporterData(email="reporter@example.org")
    )
    signalement_support(signalement=report, supporter_key="f", email="follower@example.org")
    signalement_support(signalement=report, supporter_key="g")  # no e-mail: counted, not written to
    assert notifications_send() == 2  # each address is asked to confirm itself
    assert confirm_addresses(mailoutbox) == ["reporter@example.org", "follower@example.org"]

    signalement_transition(signalement=report, to_status="acknowledged", text="Vu, merci.")
    assert notifications_send() == 2  # the change, to each
    assert notifications_send() == 0  # a retried task sends nothing more

    by_recipient = {m.to[0]: m for m in mailoutbox if "Pris en compte" in m.subject}
    assert set(by_recipient) == {"reporter@example.org", "follower@example.org"}
    assert report.tracking_token in by_recipient["reporter@example.org"].body
    assert (
        report.tracking_token not in by_recipient["follower@example.org"].body
    )  # the private link is the reporter's
    assert "Vu, merci." in by_recipient["follower@example.org"].body
    assert len([m for m in mailoutbox if m.to == ["reporter@example.org"]]) == 2


def test_internal_notes_are_never_mailed_and_public_replies_are(dechets, mailoutbox):
    report, _ = signalement_submit(
        category=dechets, location=east(0), reporter=ReporterData(email="r@example.org")
    )
    notifications_send()
    confirm_addresses(mailoutbox)
    mailoutbox.clear()

    comment_add(signalement=report, text="Interne : voir avec la police", is_internal=True)
    comment_add(signalement=report, text="Nous passons demain.")
    notifications_send()

    assert [m.body.count("Nous passons demain.") for m in mailoutbox] == [1]
    assert all("Interne" not in m.body for m in mailoutbox)


def test_a_reporter_who_stops_updates_gets_no_more_mail(dechets, mailoutbox, client):
    report, _ = signalement_submit(
        category=dechets, location=east(0), reporter=ReporterData(email="r@example.org")
    )
    response = client.put(
        f"/api/v1/tracking/{report.tracking_token}/subscription/",
        {"wants_updates": False},
        content_type="application/json",
    )
    assert response.status_code == 204

    signalement_transition(signalement=report, to_status="acknowledged")

    assert not Notification.objects.filter(kind="status").exists()


def test_a_refused_transition_writes_nothing(dechets):
    report = SignalementFactory(category=dechets, status="closed")

    with pytest.raises(Exception, match="non autorisé"):
        signalement_transition(signalement=report, to_status="in_progress")
    assert report.history.count() == 0


def test_tracking_by_token_through_the_api(client, dechets):
    report, _ = signalement_submit(
        category=dechets, location=east(0), reporter=ReporterData(name="Secret Name")
    )
    other, _ = signalement_submit(category=dechets, location=east(20))
    comment_add(signalement=report, text="note interne", is_internal=True)
    signalement_transition(signalement=report, to_status="resolved", text="Nettoyé.")

    body = client.get(f"/api/v1/tracking/{report.tracking_token}/").json()

    assert body["reference"] == report.reference
    assert [h["status"] for h in body["history"]] == ["new", "resolved"]
    assert "note interne" not in str(body) and "Secret Name" not in str(body)
    assert body["satisfaction_asked"] is True
    assert client.get(f"/api/v1/tracking/{other.tracking_token[:-2]}zz/").status_code == 404
    assert client.get(f"/suivi/{report.reference}/").status_code == 404
    # Another report's secret does not open this one, nor a secret without its reference.
    assert client.get(f"/api/v1/tracking/{report.reference}-{other.tracking_secret}/").status_code == 404
    assert client.get(f"/api/v1/tracking/{report.tracking_secret}/").status_code == 404
    assert client.get(f"/api/v1/tracking/{report.reference}-/").status_code == 404
    assert (
        client.get(f"/api/v1/tracking/{report.reference}-é{report.tracking_secret[1:]}/").status_code == 404
    )

    def answer(token: str, rating: int) -> int:
        return client.post(
            f"/api/v1/tracking/{token}/satisfaction/",
            {"solved": True, "rating": rating},
            content_type="application/json",
        ).status_code

    assert answer(report.tracking_token, 6) == 400
    assert answer(report.tracking_token, 5) == 201
    assert answer(report.tracking_token, 5) == 400  # once only
    assert answer(other.tracking_token, 5) == 400  # not resolved
    comment = client.post(
        f"/api/v1/tracking/{report.tracking_token}/comments/",
        {"text": "Merci !"},
        content_type="application/json",
    )
    assert comment.status_code == 201


def test_exif_gps_is_read_then_stripped():
    upload = SimpleUploadedFile("p.jpg", jpeg_bytes(gps=(5.5714, 50.6455)), "image/jpeg")

    cleaned = photo_clean(upload)

    assert cleaned.gps == pytest.approx((5.5714, 50.6455), abs=1e-4)
    with Image.open(io.BytesIO(cleaned.content.read())) as image:
        assert dict(image.getexif()) == {}


def test_a_photo_without_gps_suggests_nothing():
    assert photo_clean(SimpleUploadedFile("p.jpg", jpeg_bytes(), "image/jpeg")).gps is None


def test_a_photo_with_gps_places_the_pin_on_the_location_step(client, liege):
    upload = SimpleUploadedFile("p.jpg", jpeg_bytes(gps=(5.5714, 50.6455)), "image/jpeg")

    response = client.post("/signaler/lieu/", {"photo": upload, "action": "continue"}, follow=True)

    assert "Le point est placé là où la photo a été prise" in response.content.decode()
    assert response.context["draft"].location.coords == pytest.approx((5.5714, 50.6455), abs=1e-4)
    assert Signalement.objects.count() == 0
