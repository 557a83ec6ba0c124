"""Deadlines in working days: week-ends and the public holidays of PublicHoliday do not count."""

from datetime import date, datetime, time, timedelta
from functools import lru_cache

from django.utils import timezone

from .models import PublicHoliday


class WorkingCalendar:
    def __init__(self, holidays: set[date] | None = None):
        self.holidays = (
            set(PublicHoliday.objects.values_list("date", flat=True)) if holidays is None else holidays
        )
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


def deadline_for(created_at: datetime, working_days: int) -> datetime:
    return WorkingCalendar().deadline(created_at, working_days)
