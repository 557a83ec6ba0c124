"""Deadlines in working days: week-ends and the public holidays of PublicHoliday do not count.

Public holidays are data: typed in the admin, or loaded per territory from the `holidays`
library (python-holidays, maintained per country and subdivision) by `public_holidays_load`.
"""

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from functools import lru_cache

import holidays as holiday_calendars
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import PublicHoliday


class WorkingCalendar:
    """Working days of one territory: its own holidays and those typed for every territory.

    Without a territory, every holiday known counts: the bulk loader computes deadlines before it
    locates the rows, and a one-city installation has a single calendar anyway.
    """

    def __init__(self, holidays: set[date] | None = None, *, territory_id: int | None = None):
        if holidays is None:
            rows = PublicHoliday.objects.all()
            if territory_id is not None:
                rows = rows.filter(Q(territory__isnull=True) | Q(territory_id=territory_id))
            holidays = set(rows.values_list("date", flat=True))
        self.holidays = holidays
        self.tz = timezone.get_current_timezone()
        self._due_day = lru_cache(maxsize=100_000)(self._due_day_uncached)

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.holidays

    def _due_day_uncached(self, day: date, working_days: int) -> date:
        if working_days == 0:
            while not self.is_working_day(day):
                day += timedelta(days=1)
        remaining = working_days
        while remaining > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                remaining -= 1
        return day

    def deadline(self, created_at: datetime, working_days: int) -> datetime:
        """The end (local time) of the N-th working day after the day of `created_at`.

        A report of Friday afternoon with 1 day is due Monday evening; with 0 days, the same
        evening (or the next working day's evening when it came on a day off).
        """
        day = self._due_day(created_at.astimezone(self.tz).date(), working_days)
        end_of_day = datetime.combine(day + timedelta(days=1), time.min)
        return timezone.make_aware(end_of_day, self.tz) - timedelta(microseconds=1)


def deadline_for(created_at: datetime, working_days: int, *, territory_id: int | None = None) -> datetime:
    return WorkingCalendar(territory_id=territory_id).deadline(created_at, working_days)


def holiday_calendar(*, country: str, subdivision: str = "", years: Iterable[int]) -> dict[date, str]:
    """The public holidays of a country (and subdivision) from the `holidays` library, named in
    the site's language when the library has it."""
    try:
        calendar = holiday_calendars.country_holidays(country.upper(), subdiv=subdivision or None)
    except NotImplementedError as exc:
        field = "subdivision" if subdivision and "subdivision" in str(exc) else "country"
        raise ValidationError(
            {field: _("Calendrier inconnu de la bibliothèque holidays : %(code)s.") % {"code": str(exc)}}
        ) from exc
    language = settings.LANGUAGE_CODE if settings.LANGUAGE_CODE in calendar.supported_languages else None
    calendar = holiday_calendars.country_holidays(
        country.upper(), subdiv=subdivision or None, years=list(years), language=language
    )
    return dict(calendar.items())


@transaction.atomic
def public_holidays_load(*, territory, country: str, subdivision: str = "", years: Iterable[int]) -> int:
    """Make the territory's imported holidays of these years those of the library: run twice, the
    same rows. A day typed by hand for the territory is kept as it is. Returns the row count."""
    years = sorted(set(years))
    wanted = holiday_calendar(country=country, subdivision=subdivision, years=years)
    in_years = PublicHoliday.objects.filter(territory=territory, date__year__in=years)
    in_years.filter(country__gt="").exclude(date__in=wanted).delete()
    typed = set(in_years.filter(country="").values_list("date", flat=True))
    for day, name in wanted.items():
        if day in typed:
            continue
        PublicHoliday.objects.update_or_create(
            territory=territory,
            date=day,
            defaults={"name": name[:120], "country": country.upper(), "subdivision": subdivision},
        )
    return len(wanted) - len(typed & wanted.keys())


def public_holidays_top_up(*, year: int) -> int:
    """Load `year` for every territory whose holidays came from the library."""
    from cartography.models import Territory

    loaded = 0
    calendars = (
        PublicHoliday.objects.filter(territory__isnull=False)
        .exclude(country="")
        .values_list("territory_id", "country", "subdivision")
        .distinct()
    )
    for territory_id, country, subdivision in calendars:
        loaded += public_holidays_load(
            territory=Territory.objects.get(pk=territory_id),
            country=country,
            subdivision=subdivision,
            years=[year],
        )
    return loaded
