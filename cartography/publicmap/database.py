"""The public map's tables of counts, kept exact inside PostgreSQL whatever writes the reports (the
services, raw SQL; the bulk loader, which inserts with row triggers off, appends its own: TRIGGERS).

`publicmap_district_month` counts the reports per district, category, status, month of creation and
month of last change; `publicmap_cell_month` the same per cell of the grids the map draws from zoom
CELLS_FROM to POINTS_FROM - 1 instead of the district (cartography migration 0002 makes both tables).
`publicmap_district_day` and `publicmap_cell_day` (migration 0016) count the recently resolved
reports per day of their last change: "resolved in the last N days" starts in the middle of a month,
and its first, partial month is read from them rather than from thousands of reports. Months and days
are those of the site's time zone: the filters' first days are local midnights (a change of
TIME_ZONE needs the tables rebuilt).

One statement-level trigger per event and table of counts (transition tables allow a single event
per trigger), all running one function per table, written once: the rows the statement removed
count -1, those it added +1 (of an UPDATE, only the rows whose key columns changed), summed per key
in one GROUP BY whatever their number, and appended as rows of their own (migration 0018): a key's
count is the sum of its rows, as the map reads it. Appending neither looks up each key nor writes a
new version of an existing row (a quarter of an upsert's time: FINDINGS.md, public map counts), and
locks no row of counts: writers never wait for one another there, nor deadlock. Once a night
publicmap_counts_compact() merges the rows of each key into one and drops the keys whose sum is
zero, so that reads do not add up more rows than keys.

Installed after every `migrate` (CartographyConfig) with CREATE OR REPLACE; the migrations create
none of these objects."""

from django.conf import settings

from config.database import EVENTS, Function, Trigger, transition_tables

from .filters import STAGE_RESOLVED, STAGES
from .selectors import CELLS_FROM, CELLS_PER_TILE, DAYS_COUNTED, EVERY_CATEGORY, POINTS_FROM, WORLD

ZONE = settings.TIME_ZONE.replace("'", "")
NEW_ROWS, OLD_ROWS = "publicmap_new", "publicmap_old"
# The tables of counts per day hold the resolved reports changed in the last DAYS_KEPT days, counted
# on the day they are written: a report whose last change is older is left out (most of a bulk
# load's). A count of a day further back can lag (a report changed again after its day left the
# window is not taken away), so the map reads only the last DAYS_COUNTED days, fewer; and
# publicmap_days_forget() deletes what is older.
DAYS_KEPT = DAYS_COUNTED + 8
RESOLVED = ", ".join(f"'{status}'" for status in STAGES[STAGE_RESOLVED])


def _month(column: str) -> str:
    return f"date_trunc('month', {column} AT TIME ZONE '{ZONE}')::date"


def _day(column: str) -> str:
    return f"({column} AT TIME ZONE '{ZONE}')::date"


# The grids' levels: a tile of zoom z holds CELLS_PER_TILE × CELLS_PER_TILE cells of level z + 3.
CELL_LEVELS = ", ".join(f"({z + CELLS_PER_TILE.bit_length() - 1})" for z in range(CELLS_FROM, POINTS_FROM))
_RECENTLY_RESOLVED = f"status IN ({RESOLVED}) AND {_day('updated_at')} >= {_day('now()')} - {DAYS_KEPT}"


def _cells(keys: dict[str, str], where: str = "true") -> str:
    """Per row of {rows}, in each of the grids' levels: the level, its cell's cx and cy, then `keys`
    (name: expression over the report's category_id, status, created_at and updated_at)."""
    # Each OFFSET 0 keeps its step computed once per report, not once per level: pulled up into
    # the levels' join, ST_Transform ran three times a report, and the months' date_trunc in the
    # site's time zone too (the cells' counts of a 1M load: FINDINGS.md, public map counts).
    own = ", ".join(f"{expression} AS {name}" for name, expression in keys.items())
    return f"""SELECT l.level, floor(r.x / (2 * {WORLD} / 2 ^ l.level))::int,
                      floor(r.y / (2 * {WORLD} / 2 ^ l.level))::int, {", ".join(f"r.{name}" for name in keys)}
              FROM (SELECT ST_X(p) + {WORLD} AS x, ST_Y(p) + {WORLD} AS y, {own}
                      FROM (SELECT ST_Transform(location, 3857) AS p, category_id, status, created_at,
                                   updated_at
                              FROM {{rows}} WHERE {where} OFFSET 0) t
                     OFFSET 0) r
             CROSS JOIN (VALUES {CELL_LEVELS}) AS l(level)"""


# A report counts in the districts' tables twice: under its category, and under EVERY_CATEGORY
# (views of every category read those rows). Not in the cells' tables: the map draws cells of the
# public categories only, never of every category.
_EACH_AND_EVERY = f"unnest(ARRAY[category_id, {EVERY_CATEGORY}])"


# Per table of counts: its key columns (what a count is of), the SELECT of those keys
# for each row of {rows}, and the columns of the reports the keys are made of.
# (The point last: compared only when the cheaper columns are equal.)
_DISTRICT_READS = ("status", "updated_at", "district_id", "category_id", "created_at")
_CELL_READS = ("status", "updated_at", "category_id", "created_at", "location")
COUNTED = {
    "publicmap_district_month": (
        ("district_id", "category_id", "status", "created_month", "updated_month"),
        f"""SELECT district_id, {_EACH_AND_EVERY}, status, {_month("created_at")}, {_month("updated_at")}
              FROM {{rows}} WHERE district_id IS NOT NULL""",
        _DISTRICT_READS,
    ),
    "publicmap_district_day": (
        ("updated_day", "district_id", "category_id", "status", "created_month"),
        f"""SELECT {_day("updated_at")}, district_id, {_EACH_AND_EVERY}, status, {_month("created_at")}
              FROM {{rows}} WHERE district_id IS NOT NULL AND {_RECENTLY_RESOLVED}""",
        _DISTRICT_READS,
    ),
    "publicmap_cell_month": (
        ("level", "cx", "cy", "category_id", "status", "created_month", "updated_month"),
        _cells(
            {
                "category_id": "category_id",
                "status": "status",
                "created_month": _month("created_at"),
                "updated_month": _month("updated_at"),
            }
        ),
        _CELL_READS,
    ),
    "publicmap_cell_day": (
        ("level", "cx", "cy", "updated_day", "category_id", "status", "created_month"),
        _cells(
            {
                "updated_day": _day("updated_at"),
                "category_id": "category_id",
                "status": "status",
                "created_month": _month("created_at"),
            },
            _RECENTLY_RESOLVED,
        ),
        _CELL_READS,
    ),
}
# The order in which a statement appends its changes to each table: that of the index the table's
# reads use most. Consecutive rows then go to neighbouring leaves of that index rather than all over
# it (50,000 rows of cells at 1M reports: 376 → 243 ms; FINDINGS.md, public map counts).
APPENDED_IN_ORDER_OF = {
    "publicmap_district_month": "status, updated_month",
    "publicmap_district_day": "updated_day, district_id",
    "publicmap_cell_month": "level, status, cx, cy",
    "publicmap_cell_day": "level, cx, cy, updated_day",
}
# What a TRUNCATE of the reports empties: per migration that made the tables, so that a migrate back
# to 0002 leaves its objects working.
TRUNCATED = {
    "publicmap_district_month_truncate": ("publicmap_district_month", "publicmap_cell_month"),
    "publicmap_day_counts_truncate": ("publicmap_district_day", "publicmap_cell_day"),
}


def counts_sql(table: str, *rows: tuple[str, int]) -> str:
    """The changes of `table`'s counts made by each set of rows of `rows` (a table or a subquery
    with the reports' columns its keys read, and its sign): its key columns and n, one row per key
    whose count they change, in the order of APPENDED_IN_ORDER_OF."""
    keys, select, _ = COUNTED[table]
    columns = ", ".join(keys)
    changes = "\n            UNION ALL\n            ".join(
        f"SELECT *, {sign} FROM ({select.format(rows=source)}) AS keys_{i}"
        for i, (source, sign) in enumerate(rows)
    )
    return f"""
        SELECT {columns}, sum(n) FROM (
            {changes}
        ) AS changes({columns}, n)
         GROUP BY {columns} HAVING sum(n) <> 0 ORDER BY {APPENDED_IN_ORDER_OF[table]}"""


def counts_append_sql(table: str, changes: str) -> str:
    """Append to `table` the rows of `changes` (a query of counts_sql's columns)."""
    return f"INSERT INTO {table} ({', '.join(COUNTED[table][0])}, n) {changes}"


def _compact(table: str) -> str:
    """The CTEs that merge the rows of each key of `table` that has several, or a zero, into one row
    of their sum (none if zero); `{table}_gone` returns the rows deleted. Rows appended by a
    transaction that commits meanwhile are not in the statement's snapshot: they stay as they are,
    added up with the rest."""
    keys = COUNTED[table][0]
    columns = ", ".join(keys)
    same_key = " AND ".join(f"t.{key} = merged.{key}" for key in keys)
    return f"""
    {table}_merged AS (
        SELECT {columns} FROM {table} GROUP BY {columns} HAVING count(*) > 1 OR sum(n) = 0
    ), {table}_gone AS (
        DELETE FROM {table} t USING {table}_merged merged WHERE {same_key} RETURNING t.*
    ), {table}_summed AS (
        INSERT INTO {table} ({columns}, n)
        SELECT {columns}, sum(n) FROM {table}_gone GROUP BY {columns} HAVING sum(n) <> 0
    )"""


def _changed(table: str, side: str) -> str:
    """The rows of an UPDATE's transition table `side` whose columns that `table`'s keys are made of
    changed: only those can move a count. A relocation changes no cell's key, a change of status
    no cell's point: their other rows are not projected nor grouped (FINDINGS.md: public map
    counts)."""
    reads = COUNTED[table][2]
    before = ", ".join(f"o.{column}" for column in reads)
    after = ", ".join(f"n.{column}" for column in reads)
    return f"""(SELECT {side}.* FROM {NEW_ROWS} n JOIN {OLD_ROWS} o ON o.id = n.id
                 WHERE ({before}) IS DISTINCT FROM ({after})) AS changed"""


def _apply_body(table: str) -> str:
    inserted = counts_sql(table, (NEW_ROWS, 1))
    deleted = counts_sql(table, (OLD_ROWS, -1))
    updated = counts_sql(table, (_changed(table, "n"), 1), (_changed(table, "o"), -1))
    return f"""
BEGIN
    IF TG_OP = 'INSERT' THEN
        {counts_append_sql(table, inserted)};
    ELSIF TG_OP = 'DELETE' THEN
        {counts_append_sql(table, deleted)};
    ELSE
        {counts_append_sql(table, updated)};
    END IF;
    RETURN NULL;
END """


# Without nested loops: PL/pgSQL keeps a generic plan of each statement after a few calls, planned
# for transition tables of the size it saw first (often one row); a nested loop joining an UPDATE's
# two transition tables ran for minutes on the 50,000 rows of a relocation. The cells' join with
# their levels can only be a nested loop: planned all the same, at a cost that would have every
# statement JIT-compiled (40-300 ms for a one-row insert), hence JIT off.
APPLY_OPTIONS = "SET enable_nestloop = off SET jit = off"
FUNCTIONS: list[Function] = [
    *(
        Function(f"{table}_apply()", "trigger", _apply_body(table), options=APPLY_OPTIONS)
        for table in COUNTED
    ),
    *(
        Function(
            f"{name}()",
            "trigger",
            f"""
BEGIN
    TRUNCATE {", ".join(tables)};
    RETURN NULL;
END """,
        )
        for name, tables in TRUNCATED.items()
    ),
    # One row per key, in every table of counts, in one statement (one snapshot): run once a day
    # (publicmap_counts_compact). Returns the rows deleted.
    Function(
        "publicmap_counts_compact()",
        "bigint",
        f"""
    WITH {", ".join(_compact(table) for table in COUNTED)}
    SELECT {" + ".join(f"(SELECT count(*) FROM {table}_gone)" for table in COUNTED)}
""",
        language="sql",
    ),
    # The days the map no longer reads (see DAYS_KEPT): run once a day (publicmap_days_forget).
    Function(
        "publicmap_days_forget()",
        "bigint",
        f"""
    WITH district AS (
        DELETE FROM publicmap_district_day WHERE updated_day < {_day("now()")} - {DAYS_KEPT} RETURNING 1
    ), cell AS (
        DELETE FROM publicmap_cell_day WHERE updated_day < {_day("now()")} - {DAYS_KEPT} RETURNING 1
    )
    SELECT (SELECT count(*) FROM district) + (SELECT count(*) FROM cell)
""",
        language="sql",
    ),
]

# Enabled as on origin: not fired under session_replication_role = replica, where whoever writes
# the reports writes their counts too. The bulk loader inserts so, skipping the foreign keys' row
# triggers (signalements.bulk.core.SET_BASED_CHECKS_SQL), and appends the counts it computed beside
# the inserts (INSERT_TRIGGERS: the triggers it stands in for); a logical replica receives the
# publisher's counts.
INSERT_TRIGGERS = tuple(f"{table}_insert" for table in COUNTED)
TRIGGERS: list[Trigger] = [
    *(
        Trigger(
            f"{table}_{event.lower()}",
            "signalements_signalement",
            f"AFTER {event}",
            f"REFERENCING {transition_tables(event, new=NEW_ROWS, old=OLD_ROWS)}"
            f" FOR EACH STATEMENT EXECUTE FUNCTION {table}_apply()",
        )
        for table in COUNTED
        for event in EVENTS
    ),
    *(
        Trigger(
            name,
            "signalements_signalement",
            "AFTER TRUNCATE",
            f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()",
        )
        for name in TRUNCATED
    ),
]


def _every_category_sql(table: str) -> str:
    """The rows of EVERY_CATEGORY of `table` made again from its rows per category."""
    keys = COUNTED[table][0]
    summed = ", ".join(str(EVERY_CATEGORY) if key == "category_id" else key for key in keys)
    grouped = ", ".join(key for key in keys if key != "category_id")
    return f"""
    WITH gone AS (DELETE FROM {table} WHERE category_id = {EVERY_CATEGORY})
    INSERT INTO {table} ({", ".join(keys)}, n)
    SELECT {summed}, sum(n) FROM {table} WHERE category_id <> {EVERY_CATEGORY}
     GROUP BY {grouped} HAVING sum(n) <> 0"""


# The tables of counts that also hold rows of every category (_EACH_AND_EVERY): the districts'.
EVERY_CATEGORY_TABLES = tuple(table for table in COUNTED if "district_id" in COUNTED[table][0])
# After every migrate, once the functions above are installed (one transaction): the districts'
# rows of every category made again from those per category, which whatever wrote the counts
# before them (an older version of the functions, a restored dump) may not have come with. The
# lock holds off the writers meanwhile; milliseconds for the 33,000 rows of 1M reports.
AFTER_INSTALL = [
    f"LOCK TABLE {', '.join(EVERY_CATEGORY_TABLES)} IN SHARE MODE",
    *(_every_category_sql(table) for table in EVERY_CATEGORY_TABLES),
]
