"""Public holidays loaded per territory from the holidays library, and the deadlines that skip them."""

import io
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.contrib.gis.geos import MultiPolygon, Point, Polygon
from django.core.management import CommandError, call_command
from django.utils import timezone

from cartography.models import Territory
from signalements.deadlines import WorkingCalendar, deadline_for
from signalements.intake.services import signalement_submit
from signalements.models import Category, PublicHoliday, Signalement
from signalements.tasks import public_holidays_next_year
from tests.conftest import PLACE_SAINT_LAMBERT

BRUSSELS = ZoneInfo("Europe/Brussels")


def load(**options) -> str:
    out = io.StringIO()
    call_command("load_holidays", stdout=out, **options)
    return out.getvalue()


def rows(territory) -> list[tuple]:
    return list(
        PublicHoliday.objects.filter(territory=territory)
        .order_by("date")
        .values_list("pk", "date", "name", "country", "subdivision")
    )


def due(territory, day: str, working_days: int = 1) -> date:
    created = datetime.fromisoformat(day).replace(hour=10, tzinfo=BRUSSELS)
    return deadline_for(created, working_days, territory_id=territory.pk).astimezone(BRUSSELS).date()


@pytest.fixture
def elsewhere(liege) -> Territory:
    """A second territory (a small square far from Liège), with the French calendar."""
    square = Polygon.from_bbox((2.30, 48.84, 2.31, 48.85))
    square.srid = 4326
    return Territory.objects.create(slug="ailleurs", name="Ailleurs", geom=MultiPolygon(square, srid=4326))


def test_belgian_holidays_are_loaded_for_liege_and_loading_again_changes_nothing(liege):
    PublicHoliday.objects.filter(territory=liege).delete()

    assert "48 public holidays for liege (BE), 2025–2028" in load(  # 12 a year
        territory="liege", country="BE", years="2025-2028"
    )
    first = rows(liege)
    load(territory="liege", country="BE", years="2025-2028")

    assert rows(liege) == first  # same rows, same ids
    names = {day: name for _pk, day, name, _country, _sub in first}
    assert names[date(2026, 7, 21)] == "Fête nationale"
    assert names[date(2026, 11, 11)] == "Jour de l'Armistice"
    assert {country for *_, country, _sub in first} == {"BE"}


def test_deadlines_skip_the_belgian_11_november_and_21_july(liege):
    load(territory="liege", country="BE", years="2026")

    assert due(liege, "2026-11-10") == date(2026, 11, 12)  # Tuesday → Thursday, not Wednesday the 11th
    assert due(liege, "2026-07-20") == date(2026, 7, 22)  # Monday → Wednesday, not Tuesday the 21st
    assert due(liege, "2026-07-20", 5) == date(2026, 7, 28)


def test_each_territory_keeps_its_own_holidays(liege, elsewhere):
    load(territory="liege", country="BE", years="2026")
    load(territory="ailleurs", country="FR", years="2026")

    assert due(elsewhere, "2026-07-13") == date(2026, 7, 15)  # 14 July is off in France
    assert due(liege, "2026-07-13") == date(2026, 7, 14)  # but not in Belgium
    assert due(elsewhere, "2026-07-20") == date(2026, 7, 21)  # 21 July is off in Belgium only
    assert date(2026, 7, 14) not in WorkingCalendar(territory_id=liege.pk).holidays


def test_a_day_typed_by_hand_is_kept_and_a_day_the_library_dropped_is_removed(liege):
    PublicHoliday.objects.filter(territory=liege, date=date(2026, 11, 11)).delete()
    typed = PublicHoliday.objects.create(territory=liege, date=date(2026, 11, 11), name="Armistice (ville)")
    stale = PublicHoliday.objects.create(territory=liege, date=date(2026, 3, 3), name="Old", country="BE")
    everywhere = PublicHoliday.objects.create(date=date(2026, 12, 26), name="Saint-Étienne")

    load(territory="liege", country="BE", years="2026")

    assert PublicHoliday.objects.get(pk=typed.pk).name == "Armistice (ville)"
    assert not PublicHoliday.objects.filter(pk=stale.pk).exists()
    assert PublicHoliday.objects.filter(pk=everywhere.pk).exists()
    assert date(2026, 12, 26) in WorkingCalendar(territory_id=liege.pk).holidays  # typed for every territory


def test_a_regional_calendar_is_loaded_by_subdivision(liege, elsewhere):
    load(territory="ailleurs", country="FR", subdivision="57", years="2026")  # Moselle

    good_friday = PublicHoliday.objects.get(territory=elsewhere, date=date(2026, 4, 3))
    assert good_friday.subdivision == "57"
    load(territory="liege", country="BE", years="2026")
    assert not PublicHoliday.objects.filter(territory=liege, date=date(2026, 4, 3)).exists()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"territory": "atlantis", "country": "BE"}, "no territory 'atlantis'"),
        ({"territory": "liege", "country": "XX"}, "XX"),
        ({"territory": "liege", "country": "FR", "subdivision": "ZZ"}, "ZZ"),
        ({"territory": "liege", "country": "BE", "years": "2028-2025"}, "--years"),
        ({"territory": "liege", "country": "BE", "years": "next"}, "--years"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message_and_loads_nothing(liege, options, message):
    before = PublicHoliday.objects.count()
    with pytest.raises(CommandError, match=message):
        load(**options)
    assert PublicHoliday.objects.count() == before


def test_the_demo_city_comes_with_its_holidays(liege):
    this_year = timezone.localdate().year
    loaded = PublicHoliday.objects.filter(territory=liege, country="BE")
    assert loaded.filter(date=date(this_year, 7, 21)).exists()
    assert loaded.filter(date=date(this_year + 1, 11, 11)).exists()


def test_the_yearly_beat_job_tops_up_next_year_for_every_loaded_territory(liege, elsewhere):
    next_year = timezone.localdate().year + 1
    load(territory="ailleurs", country="FR", years=str(next_year - 1))
    PublicHoliday.objects.filter(date__year=next_year).delete()

    entry = next(e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"].endswith("next_year"))
    assert entry["task"] == public_holidays_next_year.name
    public_holidays_next_year()
    public_holidays_next_year()

    assert PublicHoliday.objects.filter(territory=liege, date=date(next_year, 7, 21)).count() == 1
    assert PublicHoliday.objects.filter(territory=elsewhere, date=date(next_year, 7, 14)).count() == 1
    assert not PublicHoliday.objects.filter(territory=elsewhere, date=date(next_year, 7, 21)).exists()


def test_a_new_report_s_deadline_skips_its_own_territory_s_holidays_only(liege, elsewhere):
    today = timezone.localdate()
    PublicHoliday.objects.bulk_create(
        [
            PublicHoliday(territory=elsewhere, date=today + timedelta(days=i), name="Ailleurs")
            for i in range(60)
        ]
    )
    category = Category.objects.get(slug="nid-de-poule")

    signalement, _ = signalement_submit(category=category, location=Point(*PLACE_SAINT_LAMBERT, srid=4326))

    own = WorkingCalendar(territory_id=liege.pk).deadline(timezone.now(), category.deadline_days)
    assert signalement.deadline_at.date() == own.date()
    assert WorkingCalendar().deadline(timezone.now(), category.deadline_days) > own  # every territory's days


def test_a_bulk_import_counts_each_report_s_own_territory_s_holidays(liege, elsewhere):
    from signalements.bulk import BulkRow, signalements_bulk_load

    monday = datetime(2031, 3, 3, 9, 0, tzinfo=ZoneInfo(settings.TIME_ZONE))
    PublicHoliday.objects.filter(date__year=2031).delete()
    PublicHoliday.objects.create(territory=liege, date=date(2031, 3, 4), name="Liège seulement")
    PublicHoliday.objects.create(territory=elsewhere, date=date(2031, 3, 5), name="Ailleurs seulement")
    category = Category.objects.get(slug="nid-de-poule")
    rows = [
        BulkRow(
            row=1,
            lon=PLACE_SAINT_LAMBERT[0],
            lat=PLACE_SAINT_LAMBERT[1],
            category_id=category.pk,
            created_at=monday,
            external_id="h-1",
        ),
    ]

    signalements_bulk_load(rows, source="holidays")

    stored = Signalement.objects.get(source="holidays", external_id="h-1")
    expected = WorkingCalendar(territory_id=liege.pk).deadline(monday, category.deadline_days)
    assert stored.deadline_at == expected
    assert expected != WorkingCalendar().deadline(monday, category.deadline_days)
