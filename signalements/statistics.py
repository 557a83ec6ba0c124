"""Figures for the desk's statistics page, computed in the database."""

from dataclasses import dataclass
from datetime import datetime

from django.db import connection

ACK_STATUSES = ("acknowledged", "planned", "in_progress", "resolved", "closed", "rejected")
DONE_STATUSES = ("resolved", "closed")

# For each report of the period: when it was first acknowledged (left "new" for a working
# status) and first resolved, from the append-only history.
TIMES_SQL = """
WITH scope AS (
    SELECT id, created_at, deadline_at FROM signalements_signalement
     WHERE created_at >= %(start)s AND created_at < %(end)s AND status <> 'duplicate'
),
firsts AS (
    SELECT s.id, s.created_at, s.deadline_at,
           min(h.created_at) FILTER (WHERE h.to_status = ANY(%(ack)s) AND h.from_status = 'new')
               AS acknowledged_at,
           min(h.created_at) FILTER (WHERE h.to_status = ANY(%(done)s)
                                          AND h.from_status NOT IN ('', h.to_status))
               AS resolved_at
      FROM scope s LEFT JOIN signalements_statuschange h ON h.signalement_id = s.id
     GROUP BY s.id, s.created_at, s.deadline_at
)
SELECT count(*),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM acknowledged_at - created_at)),
       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM acknowledged_at - created_at)),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM resolved_at - created_at)),
       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM resolved_at - created_at)),
       count(*) FILTER (WHERE resolved_at IS NOT NULL AND resolved_at <= deadline_at),
       count(*) FILTER (WHERE resolved_at IS NOT NULL)
  FROM firsts
"""

VOLUME_SQL = {
    "channel": """SELECT s.channel, count(*) FROM signalements_signalement s {where}
                  GROUP BY 1 ORDER BY 2 DESC""",
    "category": """SELECT c.name_fr, count(*) FROM signalements_signalement s
                   JOIN signalements_category c ON c.id = s.category_id {where}
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
class DeskStatistics:
    reports: int
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

    @property
    def within_deadline_share(self) -> float | None:
        return self.resolved_within_deadline / self.resolved if self.resolved else None


def _hours(seconds) -> float | None:
    return None if seconds is None else round(float(seconds) / 3600, 2)


def desk_statistics(*, start: datetime, end: datetime) -> DeskStatistics:
    params = {"start": start, "end": end, "ack": list(ACK_STATUSES), "done": list(DONE_STATUSES)}
    with connection.cursor() as cursor:
        cursor.execute(TIMES_SQL, params)
        count, ack50, ack90, res50, res90, within, resolved = cursor.fetchone()
        volumes = {}
        for name, sql in VOLUME_SQL.items():
            cursor.execute(sql.format(where=WHERE), params)
            volumes[name] = [(str(label), n) for label, n in cursor.fetchall()]
        cursor.execute(SATISFACTION_SQL, params)
        answers, mean, solved = cursor.fetchone()
    return DeskStatistics(
        reports=count,
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
