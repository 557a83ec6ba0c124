"""The demo shows the product: replies ready for the desk, photos, closed reports with a history."""

import io

from django.core.management import call_command

from signalements.models import Photo, ResponseTemplate, Signalement, Status, StatusChange


def _showcase():
    return Signalement.objects.filter(idempotency_key__startswith="demo-showcase-")


def test_the_liege_demo_has_replies_photos_and_closed_reports_with_a_history(db):
    call_command("load_demo", city="liege", reports=20, stdout=io.StringIO())

    assert ResponseTemplate.objects.filter(category__isnull=True).count() >= 4
    assert {"nid-de-poule", "depot-sauvage", "lampadaire-eteint"} <= set(
        ResponseTemplate.objects.exclude(category=None).values_list("category__slug", flat=True)
    )
    reports = _showcase()
    assert reports.count() == 6
    photos = Photo.objects.filter(signalement__in=reports)
    assert photos.count() == 5
    assert all(p.thumbnail for p in photos)  # through the photo service: cleaned, thumbnailed
    closed = reports.get(status=Status.CLOSED, category__slug="nid-de-poule")
    history = list(
        StatusChange.objects.filter(signalement=closed).order_by("pk").values_list("to_status", flat=True)
    )
    assert history == ["new", "acknowledged", "planned", "in_progress", "resolved", "closed"]
    assert StatusChange.objects.filter(signalement=closed, is_public=True, text__contains="rebouché").exists()
    assert reports.filter(status=Status.CLOSED).count() >= 3
    assert closed.team is not None and closed.district is not None

    counts = (
        ResponseTemplate.objects.count(),
        reports.count(),
        StatusChange.objects.count(),
        Photo.objects.count(),
    )
    call_command("load_demo", city="liege", reports=20, stdout=io.StringIO())
    assert (
        ResponseTemplate.objects.count(),
        _showcase().count(),
        StatusChange.objects.count(),
        Photo.objects.count(),
    ) == counts  # a second run adds nothing


def test_no_reports_loads_no_demo_extras(db):
    call_command("load_demo", city="liege", no_reports=True, stdout=io.StringIO())
    assert not _showcase().exists()
