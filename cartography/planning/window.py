"""The months an analysis covers: whole months in the site's time zone, the current one left out (a
month half over would look like a fall in every comparison), and the meteorological seasons."""

from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.utils import timezone

from .models import Season

# First month of each season; winter starts in December and belongs to the year of its January.
SEASON_FIRST_MONTH = {Season.WINTER: 12, Season.SPRING: 3, Season.SUMMER: 6, Season.AUTUMN: 9}


def month_add(day: date, months: int) -> date:
    """The first day of the month `months` after (or before) the month of `day`."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def season_of(month: int) -> Season:
    if month in (12, 1, 2):
        return Season.WINTER
    if month <= 5:
        return Season.SPRING
    if month <= 8:
        return Season.SUMMER
    return Season.AUTUMN


def season_year(day: date) -> int:
    """The year a month's season is named after: December belongs to the next year's winter."""
    return day.year + 1 if day.month == 12 else day.year


@dataclass(frozen=True)
class Window:
    """Whole months [start, end): `end` is the first day of the month that is not analysed."""

    start: date
    end: date

    @classmethod
    def last_months(cls, months: int, *, now: datetime | None = None) -> "Window":
        today = timezone.localtime(now or timezone.now()).date()
        end = today.replace(day=1)
        return cls(start=month_add(end, -months), end=end)

    @property
    def months(self) -> int:
        return (self.end.year - self.start.year) * 12 + self.end.month - self.start.month

    def month_starts(self) -> list[date]:
        return [month_add(self.start, i) for i in range(self.months)]

    def bounds(self) -> tuple[datetime, datetime]:
        """The window as aware datetimes at local midnight, for comparisons with `created_at`."""
        tz = timezone.get_current_timezone()
        return (
            timezone.make_aware(datetime.combine(self.start, datetime.min.time()), tz),
            timezone.make_aware(datetime.combine(self.end, datetime.min.time()), tz),
        )

    @classmethod
    def from_json(cls, data: dict) -> "Window":
        return cls(start=date.fromisoformat(data["start"]), end=date.fromisoformat(data["end"]))

    def as_json(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "time_zone": settings.TIME_ZONE}


# A month of a data set that starts or stops in it counts when the data cover all but this many
# days of it: an export that stops on 3 September would otherwise read as a collapse in September.
PARTIAL_MONTH_DAYS = 7


def territory_window(*, territory_id: int, months: int, now: datetime | None = None) -> Window:
    """The last `months` whole months of a territory's reports: up to the current month (left out),
    or up to the last month its data cover when they stop earlier (a historical demo, an import),
    and from its first covered month when it has fewer months. A month the data enter or leave
    counts if they cover all but PARTIAL_MONTH_DAYS days of it. A territory without reports gets
    the last `months` months."""
    from django.db import connection

    latest = Window.last_months(months, now=now)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (min(created_at) AT TIME ZONE %(tz)s)::date, "
            "       (max(created_at) AT TIME ZONE %(tz)s)::date, bool_or(created_at >= %(until)s) "
            "  FROM signalements_signalement WHERE territory_id = %(territory)s",
            {"tz": settings.TIME_ZONE, "territory": territory_id, "until": latest.bounds()[1]},
        )
        first, last, live = cursor.fetchone()
    if first is None or first >= latest.end:
        return latest
    start = first.replace(day=1) if first.day <= 1 + PARTIAL_MONTH_DAYS else month_add(first, 1)
    after_last = month_add(last, 1)
    if live:  # reports this month: the data are live, every month before this one is whole
        end = latest.end
    else:
        end = after_last if (after_last - last).days <= 1 + PARTIAL_MONTH_DAYS else last.replace(day=1)
    if end <= start:  # less than a month of data: take the months it touches
        start, end = first.replace(day=1), min(latest.end, after_last)
    return Window(start=max(month_add(end, -months), start), end=end)
