"""The public map's tables of counts, kept exact inside PostgreSQL whatever writes the reports (the
services, the bulk loader's set-based INSERT ... SELECT, raw SQL).

`publicmap_district_month` counts the reports per district, category, status, month of creation and
month of last change; `publicmap_cell_month` the same per cell of the grids the map draws from zoom
CELLS_FROM to POINTS_FROM - 1 instead of the district (cartography migration 0002 makes both tables).
Months are those of the site's time zone: the filters' first days are local midnights (a change of
TIME_ZONE needs the tables rebuilt).

One statement-level trigger per event and table (transition tables allow a single event per trigger),
all running one function per table of counts: the rows the statement removed count -1, those it
added +1, summed per key in one GROUP BY whatever their number, and upserted in the key's order so
that concurrent writers lock the rows of counts in one order. A count that falls to zero stays, a row
of zero (deleting it would cost a scan on every write).

Installed after every `migrate` (CartographyConfig) with CREATE OR REPLACE; the migrations create
none of these objects."""

from django.conf import settings

from config.database import Function, Trigger

from .selectors import CELLS_FROM, CELLS_PER_TILE, POINTS_FROM, WORLD

ZONE = settings.TIME_ZONE.replace("'", "")
NEW_ROWS, OLD_ROWS = "publicmap_new", "publicmap_old"


def _month(column: str) -> str:
    return f"date_trunc('month', {column} AT TIME ZONE '{ZONE}')::date"


# The grids' levels: a tile of zoom z holds CELLS_PER_TILE × CELLS_PER_TILE cells of level z + 3.
CELL_LEVELS = ", ".join(f"({z + CELLS_PER_TILE.bit_length() - 1})" for z in range(CELLS_FROM, POINTS_FROM))

# Per table of counts: its key columns, and the SELECT of those keys for each row of {rows}.
COUNTED = {
    "publicmap_district_month": (
        ("district_id", "category_id", "status", "created_month", "updated_month"),
        f"""SELECT district_id, category_id, status, {_month("created_at")}, {_month("updated_at")}
              FROM {{rows}} WHERE district_id IS NOT NULL""",
    ),
    "publicmap_cell_month": (
        ("level", "cx", "cy", "category_id", "status", "created_month", "updated_month"),
        f"""SELECT l.level, floor((ST_X(r.p) + {WORLD}) / (2 * {WORLD} / 2 ^ l.level))::int,
                   floor((ST_Y(r.p) + {WORLD}) / (2 * {WORLD} / 2 ^ l.level))::int,
                   r.category_id, r.status, {_month("r.created_at")}, {_month("r.updated_at")}
              FROM (SELECT ST_Transform(location, 3857) AS p, category_id, status, created_at, updated_at
                      FROM {{rows}}) r
             CROSS JOIN (VALUES {CELL_LEVELS}) AS l(level)""",
    ),
}


def _upsert(table: str, *rows: tuple[str, int]) -> str:
    """Add to `table`'s counts those of each transition table of `rows`, with its sign."""
    keys, select = COUNTED[table]
    columns = ", ".join(keys)
    changes = "\n            UNION ALL\n            ".join(
        f"SELECT *, {sign} FROM ({select.format(rows=name)}) AS {name}_keys" for name, sign in rows
    )
    return f"""
        INSERT INTO {table} AS m ({columns}, n)
        SELECT {columns}, sum(n) FROM (
            {changes}
        ) AS changes({columns}, n)
         GROUP BY {columns} HAVING sum(n) <> 0 ORDER BY {columns}
        ON CONFLICT ({columns}) DO UPDATE SET n = m.n + EXCLUDED.n;"""


def _apply_body(table: str) -> str:
    return f"""
BEGIN
    IF TG_OP = 'INSERT' THEN{_upsert(table, (NEW_ROWS, 1))}
    ELSIF TG_OP = 'DELETE' THEN{_upsert(table, (OLD_ROWS, -1))}
    ELSE{_upsert(table, (NEW_ROWS, 1), (OLD_ROWS, -1))}
    END IF;
    RETURN NULL;
END """


FUNCTIONS: list[Function] = [
    *(Function(f"{table}_apply()", "trigger", _apply_body(table)) for table in COUNTED),
    Function(
        "publicmap_district_month_truncate()",
        "trigger",
        f"""
BEGIN
    TRUNCATE {", ".join(COUNTED)};
    RETURN NULL;
END """,
    ),
]

_REFERENCING = {
    "INSERT": f"NEW TABLE AS {NEW_ROWS}",
    "UPDATE": f"OLD TABLE AS {OLD_ROWS} NEW TABLE AS {NEW_ROWS}",
    "DELETE": f"OLD TABLE AS {OLD_ROWS}",
}
# Enabled ALWAYS: fired under session_replication_role = replica too, which the bulk loader sets to
# skip the foreign keys' row triggers (signalements.bulk.core.SET_BASED_CHECKS_SQL lets such
# triggers be).
TRIGGERS: list[Trigger] = [
    *(
        Trigger(
            f"{table}_{event.lower()}",
            "signalements_signalement",
            f"AFTER {event}",
            f"REFERENCING {referencing} FOR EACH STATEMENT EXECUTE FUNCTION {table}_apply()",
            always=True,
        )
        for table in COUNTED
        for event, referencing in _REFERENCING.items()
    ),
    Trigger(
        "publicmap_district_month_truncate",
        "signalements_signalement",
        "AFTER TRUNCATE",
        "FOR EACH STATEMENT EXECUTE FUNCTION publicmap_district_month_truncate()",
        always=True,
    ),
]
