"""Figures for the desk's statistics page, computed in the database."""

from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.utils.translation import gettext_lazy as _

from ..models import Category, Channel

ACK_STATUSES = ("acknowledged", "planned", "in_progress", "resolved", "closed", "rejected")
DONE_STATUSES = ("resolved", "closed")

# For each report of the period: when it was first acknowledged (left "new" for a working
# status) and first resolved, from the append-only history. Only reports whose history is known
# are timed: an import writes one row, "arrived in this state" ('' -> its status), and a report
# loaded without history has none; a resolution recorded a minute after such an import would
# otherwise count as resolved in a minute. One pass gives the period (week NULL) and each week.
TIMES_SQL = """
WITH scope AS (
    SELECT id, created_at, deadline_at FROM signalements_signalement
     WHERE created_at >= %(start)s AND created_at < %(end)s AND status <> 'duplicate'
),
firsts AS (
    SELECT s.id, s.created_at, s.deadline_at,
           count(h.id) > 0 AND NOT coalesce(bool_or(h.from_status = '' AND h.to_status <> 'new'), false)
               AS known,
           min(h.created_at) FILTER (WHERE h.to_status = ANY(%(ack)s) AND h.from_status = 'new')
               AS acknowledged_at,
           min(h.created_at) FILTER (WHERE h.to_status = ANY(%(done)s)
                                          AND h.from_status NOT IN ('', h.to_status))
               AS resolved_at
      FROM scope s LEFT JOIN signalements_statuschange h ON h.signalement_id = s.id
     GROUP BY s.id, s.created_at, s.deadline_at
)
SELECT CASE WHEN GROUPING(week) = 0 THEN to_char(week, 'IYYY-"W"IW') END,
       count(*),
       count(*) FILTER (WHERE NOT known),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM acknowledged_at - created_at))
           FILTER (WHERE known),
       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM acknowledged_at - created_at))
           FILTER (WHERE known),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM resolved_at - created_at))
           FILTER (WHERE known),
       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM resolved_at - created_at))
           FILTER (WHERE known),
       count(*) FILTER (WHERE known AND resolved_at IS NOT NULL AND resolved_at <= deadline_at),
       count(*) FILTER (WHERE known AND resolved_at IS NOT NULL)
  FROM (SELECT *, date_trunc('week', created_at) AS week FROM firsts) f
 GROUP BY GROUPING SETS ((), (week))
 ORDER BY week NULLS FIRST
"""

# Codes and ids, named in the reader's language by DeskStatistics.named_volumes.
VOLUME_SQL = {
    "channel": """SELECT s.channel, count(*) FROM signalements_signalement s {where}
                  GROUP BY 1 ORDER BY 2 DESC""",
    "category": """SELECT s.category_id, count(*) FROM signalements_signalement s {where}
                  GROUP BY 1 ORDER BY 2 DESC""",
    "district": """SELECT coalesce(d.name, '—'), count(*) FROM signalements_signalement s
                   LEFT JOIN cartography_district d ON d.id = s.district_id {where}
                  GROUP BY 1 ORDER BY 2 DESC""",
    "week": """SELECT to_char(date_trunc('week', s.created_at), 'IYYY-"W"IW'), count(*)
                 FROM signalements_signalement s {where} GROUP BY 1 ORDER BY 1""",
}
WHERE = "WHERE s.created_at >= %(start)s AND s.created_at < %(end)s AND s.status <> 'duplicate'"

SATISFACTION_SQL = """
SELECT count(*), avg(a.rating), count(*) FILTER (WHERE a.solved)
  FROM signalements_satisfaction a JOIN signalements_signalement s ON s.id = a.signalement_id
 WHERE s.created_at >= %(start)s AND s.created_at < %(end)s
"""


@dataclass(frozen=True)
class WeekTimes:
    week: str  # ISO week, 2026-W10
    reports: int
    resolve_median_h: float | None


@dataclass(frozen=True)
class DeskStatistics:
    reports: int
    untimed: int  # imported or loaded without their history: left out of every delay
    acknowledge_median_h: float | None
    acknowledge_p90_h: float | None
    resolve_median_h: float | None
    resolve_p90_h: float | None
    resolved: int
    resolved_within_deadline: int
    volumes: dict[str, list[tuple[str, int]]]
    satisfaction_answers: int
    satisfaction_mean: float | None
    satisfaction_solved: int
    weeks: list[WeekTimes]

    @property
    def timed(self) -> int:
        return self.reports - self.untimed

    def named_volumes(self) -> list[tuple[str, str, list[tuple[str, int]]]]:
        """Each dimension with its title, its column's heading and its rows named in the active
        language: channels and categories by their labels, not their codes."""
        categories = {category.pk: category.name for category in Category.objects.all()}
        channels = dict(Channel.choices)
        names = {
            "channel": lambda code: str(channels.get(code, code)),
            "category": lambda pk: categories.get(int(pk), pk),
        }
        titles = {
            "channel": (_("Par canal"), _("Canal")),
            "category": (_("Par catégorie"), _("Catégorie")),
            "district": (_("Par quartier"), _("Quartier")),
            "week": (_("Par semaine"), _("Semaine")),
        }
        return [
            (
                str(titles[name][0]),
                str(titles[name][1]),
                [(names.get(name, str)(label), n) for label, n in rows],
            )
            for name, rows in self.volumes.items()
        ]

    def chart_data(self) -> dict:
        """The charts' figures for json_script: plain numbers, whatever the page's language."""
        return {
            "weeks": [week for week, _n in self.volumes["week"]],
            "volumes": [n for _week, n in self.volumes["week"]],
            "resolve_weeks": [w.week for w in self.weeks],
            "resolve_median_h": [w.resolve_median_h for w in self.weeks],
            "labels": {
                "volumes": str(_("Signalements reçus")),
                "resolve": str(_("Délai de résolution, médiane (heures)")),
            },
        }

    @property
    def within_deadline_share(self) -> float | None:
        return self.resolved_within_deadline / self.resolved if self.resolved else None


def _hours(seconds) -> float | None:
    return None if seconds is None else round(float(seconds) / 3600, 2)


def desk_statistics(*, start: datetime, end: datetime) -> DeskStatistics:
    params = {"start": start, "end": end, "ack": list(ACK_STATUSES), "done": list(DONE_STATUSES)}
    with connection.cursor() as cursor:
        cursor.execute(TIMES_SQL, params)
        period, *by_week = cursor.fetchall()
        _week, count, untimed, ack50, ack90, res50, res90, within, resolved = period
        volumes = {}
        for name, sql in VOLUME_SQL.items():
            cursor.execute(sql.format(where=WHERE), params)
            volumes[name] = [(str(label), n) for label, n in cursor.fetchall()]
        cursor.execute(SATISFACTION_SQL, params)
        answers, mean, solved = cursor.fetchone()
    return DeskStatistics(
        reports=count,
        untimed=untimed,
        weeks=[WeekTimes(week=row[0], reports=row[1], resolve_median_h=_hours(row[5])) for row in by_week],
        acknowledge_median_h=_hours(ack50),
        acknowledge_p90_h=_hours(ack90),
        resolve_median_h=_hours(res50),
        resolve_p90_h=_hours(res90),
        resolved=resolved,
        resolved_within_deadline=within,
        volumes=volumes,
        satisfaction_answers=answers,
        satisfaction_mean=None if mean is None else round(float(mean), 2),
        satisfaction_solved=solved,
    )
