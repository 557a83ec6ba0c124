"""Bulk loading of reports: COPY into a staging table, locate every row at once with the rules of
intake (cartography.selectors: the locate cells probed for each staged point, or the parts joined
to the points if the cells are stale), then one INSERT … SELECT."""

import secrets
from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from cartography.publicmap.database import COUNTED, INSERT_TRIGGERS, counts_append_sql, counts_sql
from cartography.selectors import (
    cell_columns,
    cell_edge_sql,
    cell_holding_sql,
    cells_fresh,
    default_team_sql,
    districts_of_points_sql,
    join_locating,
    local_settings,
    rules_at_point_sql,
    territory_outline_sql,
    zone_teams_of_points_sql,
)

from ..deadlines import WorkingCalendar
from ..trust.moderation import BulkDescriptions


@dataclass(frozen=True)
class BulkRow:
    row: int  # position in the source, for error reports
    lon: float
    lat: float
    category_id: int
    created_at: datetime
    status: str = "new"
    priority: str = "normal"
    channel: str = "import"
    address: str = ""
    description: str = ""
    external_id: str | None = None


@dataclass
class BulkResult:
    inserted: int = 0
    already_loaded: int = 0
    outside: list[int] = field(default_factory=list)  # source rows whose point is in no territory


# Work tables: unlogged, as nothing in them outlives the load, and ordinary rather than temporary so
# that parallel workers can read them (points and locate: 1.5x faster on two cores). Created and
# dropped inside the load's transaction, under a lock that has loads take turns (LOAD_LOCK_SQL).
WORK_TABLES = ("signalement_staging", "signalement_points", "signalement_located", "signalement_deadlines")
LOAD_LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtext('signalements_bulk_load'))"


def staging_ddl(staging: str) -> str:
    return f"""
CREATE UNLOGGED TABLE {staging} (
    id bigint GENERATED ALWAYS AS IDENTITY, row_no integer NOT NULL, external_id text,
    lon double precision NOT NULL, lat double precision NOT NULL,
    category_id bigint NOT NULL, created_at timestamptz NOT NULL,
    status text NOT NULL, priority text NOT NULL,
    channel text NOT NULL, address text NOT NULL, description text NOT NULL, public_description text,
    secret bytea NOT NULL
)"""


STAGING_DDL = staging_ddl("signalement_staging")
# Column and type: binary COPY, 4x less time than text for the Python side (no formatting).
STAGING_COLUMNS = {
    "row_no": "int4",
    "external_id": "text",
    "lon": "float8",
    "lat": "float8",
    "category_id": "int8",
    "created_at": "timestamptz",
    "status": "text",
    "priority": "text",
    "channel": "text",
    "address": "text",
    "description": "text",
    "public_description": "text",  # NULL: the description itself (trust.moderation.BulkDescriptions)
    "secret": "bytea",
}
# The secret of each tracking token, drawn in Python from the OS generator (secrets) by blocks:
# gen_random_uuid() once per row, as the column's default does, costs more (FINDINGS.md: bulk 1).
SECRET_BYTES = 16
SECRET_BLOCK_ROWS = 4096

# What the points table of the parts' path carries from staging: what locating, the repeat and
# foreign-key checks and the deadlines need. The wide columns (description, address…) join the
# located rows once, after the parts' joins (benchmarks/results/FINDINGS.md: bulk 2).
CARRIED_COLUMNS = ("id", "row_no", "external_id", "category_id", "created_at")
# What the located rows carry: every staged column, the point made of lon and lat instead.
LOCATED_COLUMNS = tuple(column for column in ("id", *STAGING_COLUMNS) if column not in ("lon", "lat"))


def _carried(alias: str, columns: tuple[str, ...] = CARRIED_COLUMNS) -> str:
    return ", ".join(f"{alias}.{column}" for column in columns)


# The located rows, with the cells fresh (cartography.models.LocateCell): each staged point probes
# the cells' spatial index for the one cell whose interior holds it, in parallel over the staged
# rows; no points table, no sort, no index to build: faster than joining the cells to indexed
# points (FINDINGS.md: bulk 3). `unknown`: the cell does not know the category.
def locate_by_cells_sql(located: str, staging: str) -> str:
    return f"""
CREATE UNLOGGED TABLE {located} AS
SELECT {_carried("st", LOCATED_COLUMNS)}, p.geom, c.territory_id, c.district_id,
       {cell_columns("st.category_id")}
  FROM {staging} st
 CROSS JOIN LATERAL (SELECT ST_SetSRID(ST_MakePoint(st.lon, st.lat), 4326) AS geom) p
 {cell_holding_sql("p.geom")}
"""


# Where the cells cannot say alone, the rules answer, one point at a time as locate() does: a point
# on an edge between cells (the rules break ties between disagreeing cells), or a category the cells
# do not know. A point in no cell and on no edge is outside every territory.
def locate_by_rules_where_cells_cannot_sql(located: str) -> str:
    return f"""
UPDATE {located} l
   SET (territory_id, district_id, team_id, unknown) =
       (SELECT rules.territory_id, rules.district_id, rules.team_id, false
          FROM (SELECT) one
          LEFT JOIN LATERAL ({rules_at_point_sql("l.geom", "l.category_id")}) rules ON true)
 WHERE l.unknown OR (l.territory_id IS NULL AND {cell_edge_sql("l.geom")})
"""


# With the cells stale (an edit earlier in the loading transaction): the staged points and their
# spatial index, so that the parts can be joined to them (cartography.selectors:
# districts_of_points_sql, zone_teams_of_points_sql).
# Stored in geohash order: the points a part finds in its box then sit on a few neighbouring pages
# (faster than one lookup per point, and than unsorted). Indexed in WGS84, as the parts are: no
# metric copy to compute (FINDINGS.md: bulk 4).
def points_sql(points: str, staging: str) -> tuple[str, ...]:
    return (
        f"""
CREATE UNLOGGED TABLE {points} AS
SELECT {_carried("st")}, p.geom
  FROM {staging} st,
       LATERAL (SELECT ST_SetSRID(ST_MakePoint(st.lon, st.lat), 4326) AS geom) p
 ORDER BY CASE WHEN st.lon BETWEEN -180 AND 180 AND st.lat BETWEEN -90 AND 90
               THEN ST_GeoHash(p.geom, 7) END
""",
        f"CREATE INDEX ON {points} USING gist (geom)",
        f"ANALYZE {points}",
    )


def locate_by_parts_sql(located: str, points: str, staging: str) -> str:
    on = {"points": points, "point": "geom"}
    return f"""
CREATE UNLOGGED TABLE {located} AS
WITH district_of AS MATERIALIZED ({districts_of_points_sql(**on)}),
zone_team_of AS MATERIALIZED ({zone_teams_of_points_sql(**on, category="r.category_id")})
SELECT {_carried("st", LOCATED_COLUMNS)}, l.geom, l.territory_id, l.district_id,
       COALESCE(l.zone_team_id, {default_team_sql("l.category_id", "l.territory_id")}) AS team_id,
       false AS unknown
  FROM (SELECT r.id, r.category_id, r.geom, d.district_id, z.team_id AS zone_team_id,
               COALESCE(d.territory_id, {territory_outline_sql("r.geom")}) AS territory_id
          FROM {points} r
          LEFT JOIN district_of d ON d.id = r.id
          LEFT JOIN zone_team_of z ON z.id = r.id) l
  JOIN {staging} st ON st.id = l.id
"""


def locate_rows(cursor, *, located: str, staging: str, points: str) -> None:
    """Create `located` from the rows of `staging`: by the cells if they are fresh
    in this transaction, else by the parts joined to a `points` table."""
    if cells_fresh(cursor):
        with join_locating(cursor, parallel=True):
            cursor.execute(locate_by_cells_sql(located, staging))
        with join_locating(cursor):
            cursor.execute(locate_by_rules_where_cells_cannot_sql(located))
    else:
        with join_locating(cursor, parallel=True):
            for statement in points_sql(points, staging):
                cursor.execute(statement)
            cursor.execute(locate_by_parts_sql(located, points, staging))


# Rows of the file already stored under this source, and repeats within the file (the first kept):
# not loaded again. Loads take turns (LOAD_LOCK_SQL), so none can slip in between.
def repeats_in_file_sql(located: str, column: str = "id") -> str:
    """`column` (ids by default) of the located rows whose external id an earlier located row of
    the file has."""
    return f"""SELECT {column}
         FROM (SELECT *, row_number() OVER (PARTITION BY external_id ORDER BY row_no) AS nth
                 FROM {located}
                WHERE external_id IS NOT NULL AND territory_id IS NOT NULL) numbered
        WHERE nth > 1"""


def already_stored_sql(located: str) -> str:
    """Ids of the located rows whose (source, external id) is stored."""
    return f"""SELECT again.id FROM {located} again
          JOIN signalements_signalement s ON s.source = %(source)s AND s.external_id = again.external_id
         WHERE again.territory_id IS NOT NULL"""


def unloadable_drop(cursor, located: str, *, repeats: str, source: str) -> tuple[int, list[int]]:
    """Drop from `located` the rows not to load: `repeats` (a query of their ids) and those whose
    (source, external id) is stored. How many that was, and the source rows outside every
    territory, in their order."""
    gone = f"{repeats} UNION {already_stored_sql(located)}"
    cursor.execute(f"DELETE FROM {located} l USING ({gone}) gone WHERE l.id = gone.id", {"source": source})
    already_loaded = cursor.rowcount
    cursor.execute(f"SELECT row_no FROM {located} WHERE territory_id IS NULL ORDER BY row_no")
    return already_loaded, [row_no for (row_no,) in cursor.fetchall()]


def insert_sql(rows: str) -> str:
    """The reports and their first history row, from `rows` (a subquery: the located columns,
    deadline_at and tracking_secret, in the order of insertion)."""
    return f"""
WITH inserted AS (
    INSERT INTO signalements_signalement
        (category_id, location, address, territory_id, district_id, team_id, team_is_manual, status, priority,
         channel, description, public_description, description_moderation, source, external_id, created_at,
         updated_at, processed_at, deadline_at, tracking_secret)
    SELECT category_id, geom, address, territory_id, district_id, team_id, false, status, priority, channel,
           description, COALESCE(public_description, description),
           CASE WHEN public_description IS NULL THEN 'published' ELSE 'flagged' END,
           %(source)s, external_id, created_at, created_at, statement_timestamp(), deadline_at,
           tracking_secret
      FROM ({rows}) ready
    RETURNING id, status, created_at
),
history AS (
    -- One row: the report arrived in this state. An import has no real history to replay, and
    -- statistics ignore these rows rather than count a resolution at the time of declaration.
    INSERT INTO signalements_statuschange
        (signalement_id, from_status, to_status, text, is_public, created_at)
    SELECT id, '', status, '', true, created_at FROM inserted
)
SELECT count(*) FROM inserted
"""


def deadlined_rows_sql(located: str, deadlines: str) -> str:
    """The located rows inside a territory with their deadline and tracking secret, in the order of
    their dates, so that ids and references follow them and the indexes on id, reference and date
    grow at their right edge (1M reports: 8 s less)."""
    return f"""SELECT l.*, dl.deadline_at, encode(l.secret, 'hex') AS tracking_secret
      FROM {located} l
      JOIN signalements_category c ON c.id = l.category_id
      JOIN {deadlines} dl
        ON dl.territory_id = l.territory_id AND dl.deadline_days = c.deadline_days
       AND dl.day = (l.created_at AT TIME ZONE %(tz)s)::date
     WHERE l.territory_id IS NOT NULL
     ORDER BY l.created_at, l.row_no"""


INSERT_SQL = insert_sql(deadlined_rows_sql("signalement_located", "signalement_deadlines"))

# The foreign keys the INSERT fills, and their tables. History rows reference reports of the same
# statement, and their author is empty: nothing to check there.
REFERENCES = (
    ("category_id", "signalements_category"),
    ("territory_id", "cartography_territory"),
    ("district_id", "cartography_district"),
    ("team_id", "cartography_team"),
)
# Foreign keys are checked by a trigger per row and key: 5 lookups per report, a large share of a
# load (FINDINGS.md: bulk 5). Set-based instead when the role may switch row triggers off for its transaction
# (session_replication_role, as logical replication does) and no trigger of our own listens to
# inserts into the two tables: a trigger added later turns this path off rather than being skipped.
# A trigger enabled ALWAYS fires in replica mode too: it is not skipped, and leaves the path on. The
# public map's count triggers (INSERT_TRIGGERS) are skipped, and leave it on too: the loader appends
# the counts of what it inserts itself (counts_append).
SET_BASED_CHECKS_SQL = f"""
SELECT (current_setting('is_superuser') = 'on'
        OR has_parameter_privilege('session_replication_role', 'SET'))
   AND NOT EXISTS (SELECT 1 FROM pg_trigger
                    WHERE tgrelid IN ('signalements_signalement'::regclass,
                                      'signalements_statuschange'::regclass)
                      AND NOT tgisinternal AND tgtype & 4 <> 0  -- 4: fires on INSERT
                      AND tgenabled <> 'A'
                      AND tgname NOT IN ({", ".join(f"'{name}'" for name in INSERT_TRIGGERS)}))
"""


def loaded_rows_sql(rows: str) -> str:
    """The rows about to be inserted from `rows` (located, or ready to insert), with the reports'
    columns that the public map's counts are made of."""
    return f"""(SELECT category_id, status, created_at, created_at AS updated_at, geom AS location,
                   district_id FROM {rows} WHERE territory_id IS NOT NULL) AS loaded"""


def counts_append(cursor, counts: dict[str, str]) -> None:
    """Append the public map's counts of the rows inserted with the row triggers off: per table of
    counts, a query of the changes (counts_sql) or a work table holding them."""
    for table, changes in counts.items():
        cursor.execute(counts_append_sql(table, changes))


def referenced_keys(cursor, located: str) -> dict[str, set[int]]:
    """The keys each foreign key of the located rows inside a territory refers to."""
    keys = ", ".join(f"array_agg(DISTINCT {column})" for column, _ in REFERENCES)
    cursor.execute(f"SELECT {keys} FROM {located} WHERE territory_id IS NOT NULL")
    return {
        column: {key for key in ids or () if key is not None}
        for (column, _), ids in zip(REFERENCES, cursor.fetchone(), strict=True)
    }


def referenced_rows_lock(cursor, located: str, keys: dict[str, set[int]]) -> None:
    """What the foreign-key triggers do for each row, once per key: lock the referenced rows as they
    do (FOR KEY SHARE: none can be deleted before the commit). A row deleted meanwhile is not
    returned by the lock, and the load stops, naming the first row of `located` that needed it."""
    for column, table in REFERENCES:
        wanted = keys[column]
        if not wanted:
            continue
        cursor.execute(f"SELECT id FROM {table} WHERE id = ANY(%s) FOR KEY SHARE", [list(wanted)])
        missing = wanted - {key for (key,) in cursor.fetchall()}
        if missing:
            cursor.execute(
                f"""SELECT row_no, {column} FROM {located}
                     WHERE territory_id IS NOT NULL AND {column} = ANY(%s) ORDER BY row_no LIMIT 1""",
                [sorted(missing)],
            )
            row_no, key = cursor.fetchone()
            raise IntegrityError(f"row {row_no}: {column} {key} is no longer in {table}")


def _foreign_keys_check(cursor) -> None:
    located = "signalement_located"
    referenced_rows_lock(cursor, located, referenced_keys(cursor, located))


# Deadlines depend on the territory's holidays, known once the rows are located: computed once per
# (territory, local day, working days), a few thousand for years of reports, not once per row.
def deadline_keys(cursor, located: str, tz) -> set[tuple[int, date, int]]:
    cursor.execute(
        f"""SELECT DISTINCT l.territory_id, (l.created_at AT TIME ZONE %(tz)s)::date, c.deadline_days
              FROM {located} l JOIN signalements_category c ON c.id = l.category_id
             WHERE l.territory_id IS NOT NULL""",
        {"tz": tz.key},
    )
    return set(cursor.fetchall())


def deadlines_ddl(deadlines: str) -> str:
    return f"""
CREATE UNLOGGED TABLE {deadlines} (
    territory_id bigint NOT NULL, day date NOT NULL, deadline_days integer NOT NULL,
    deadline_at timestamptz NOT NULL
)"""


def deadlines_write(cursor, deadlines: str, keys, calendars: dict[int, WorkingCalendar], tz) -> None:
    """The deadline of each (territory, local day, working days) key, into the `deadlines` table.
    The calendars are read beforehand: the connection serves nothing else while the COPY runs."""
    with cursor.copy(f"COPY {deadlines} FROM STDIN") as copy:
        for territory_id, day, days in keys:
            noon = timezone.make_aware(datetime.combine(day, time(12)), tz)
            copy.write_row((territory_id, day, days, calendars[territory_id].deadline(noon, days)))


def calendars_of(territory_ids) -> dict[int, WorkingCalendar]:
    return {territory_id: WorkingCalendar(territory_id=territory_id) for territory_id in territory_ids}


def _deadlines_stage(cursor, tz) -> None:
    keys = deadline_keys(cursor, "signalement_located", tz)
    calendars = calendars_of({key[0] for key in keys})
    cursor.execute(deadlines_ddl("signalement_deadlines"))
    deadlines_write(cursor, "signalement_deadlines", keys, calendars, tz)
    cursor.execute("ANALYZE signalement_deadlines")


def staging_copy(cursor, staging: str, rows: Iterable[BulkRow]) -> None:
    """COPY the rows into the `staging` table, each with the public version of its description and
    the secret of its tracking token."""
    secrets_block, offset = b"", 0
    descriptions = BulkDescriptions()  # before the COPY: the connection serves nothing else meanwhile
    with cursor.copy(f"COPY {staging} ({', '.join(STAGING_COLUMNS)}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(list(STAGING_COLUMNS.values()))
        for r in rows:
            if offset == len(secrets_block):
                secrets_block, offset = secrets.token_bytes(SECRET_BYTES * SECRET_BLOCK_ROWS), 0
            secret = secrets_block[offset : offset + SECRET_BYTES]
            offset += SECRET_BYTES
            copy.write_row(
                (r.row, r.external_id, r.lon, r.lat, r.category_id, r.created_at, r.status,
                 r.priority, r.channel, r.address, r.description, descriptions.public(r.description),
                 secret)
            )  # fmt: skip


@transaction.atomic
def signalements_bulk_load_in_transaction(rows: Iterable[BulkRow], *, source: str) -> BulkResult:
    """signalements_bulk_load on the one connection, in the current transaction or a new one."""
    result = BulkResult()
    tz = timezone.get_current_timezone()
    with connection.cursor() as cursor:
        cursor.execute(LOAD_LOCK_SQL)
        cursor.execute(STAGING_DDL)
        staging_copy(cursor, "signalement_staging", rows)
        locate_rows(
            cursor, located="signalement_located", staging="signalement_staging", points="signalement_points"
        )
        # Row counts for the planner: guessed, the INSERT sorted 1M rows twice more for a merge join.
        cursor.execute("ANALYZE signalement_located")
        result.already_loaded, result.outside = unloadable_drop(
            cursor,
            "signalement_located",
            repeats=repeats_in_file_sql("signalement_located"),
            source=source,
        )
        _deadlines_stage(cursor, tz)
        cursor.execute(SET_BASED_CHECKS_SQL)
        set_based = settings.SIGNALEMENT_BULK_SET_BASED_CHECKS and cursor.fetchone()[0]
        if set_based:
            _foreign_keys_check(cursor)
        row_triggers = (
            local_settings(cursor, {"session_replication_role": "replica"}) if set_based else nullcontext()
        )
        # In memory, the INSERT's sort by date and its hash joins (FINDINGS.md: bulk 6).
        with local_settings(cursor, {"work_mem": "1GB", "jit": "off"}):
            with row_triggers:
                cursor.execute(INSERT_SQL, {"source": source, "tz": tz.key})
                result.inserted = cursor.fetchone()[0]
            if set_based:
                loaded = loaded_rows_sql("signalement_located")
                counts_append(cursor, {table: counts_sql(table, (loaded, 1)) for table in COUNTED})
        cursor.execute(f"DROP TABLE IF EXISTS {', '.join(WORK_TABLES)}")  # no points table by the cells
    return result
