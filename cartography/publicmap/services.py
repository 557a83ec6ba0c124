"""The public map's writes: its tables of counts keep themselves (cartography.publicmap.database);
what is left is merging the rows of each key and forgetting the days the map no longer reads."""

from django.db import connection


def _maintenance_run(function: str) -> int:
    """Run one of the database's maintenance functions of the counts; returns the rows it deleted."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}()")
        return cursor.fetchone()[0]


def day_counts_forget() -> int:
    """Delete the counts per day older than the map reads (the database's publicmap_days_forget());
    returns the rows deleted."""
    return _maintenance_run("publicmap_days_forget")


def counts_compact() -> int:
    """Merge the rows of each key of the tables of counts into one (the database's
    publicmap_counts_compact()); returns the rows deleted."""
    return _maintenance_run("publicmap_counts_compact")
