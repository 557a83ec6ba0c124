"""The public map's tables of counts take rows of changes added to one another rather than one row
per key updated in place: a key may hold several rows, its count is their sum (the map's reads
already add them up). Their primary keys go. Inserting a statement's changes then costs a quarter
of the upsert's time (no lookup of each key, no new version of an existing row), and writers lock
no row of counts, so they never wait for nor deadlock with one another there. The rows of one key
are merged into one by publicmap_counts_compact() (cartography.publicmap.database), once a night.

The counts per day keep an index by day, the one their reads and the forgetting of old days use;
the others are read by the indexes of migration 0016.

Back: the rows of each key merged, the primary keys made again, and the count functions of
cartography.publicmap.database dropped with their triggers (they would add duplicates); the
code of that time installs its own after its migrate."""

from django.db import migrations

KEYS = {
    "publicmap_district_month": "district_id, category_id, status, created_month, updated_month",
    "publicmap_district_day": "updated_day, district_id, category_id, status, created_month",
    "publicmap_cell_month": "level, cx, cy, category_id, status, created_month, updated_month",
    "publicmap_cell_day": "level, cx, cy, updated_day, category_id, status, created_month",
}

FORWARD = "\n".join(f"ALTER TABLE {table} DROP CONSTRAINT {table}_pkey;" for table in KEYS) + (
    "\nCREATE INDEX publicmap_district_day_day ON publicmap_district_day (updated_day, district_id);"
)

BACKWARD = (
    "DROP FUNCTION IF EXISTS "
    + ", ".join(f"{table}_apply()" for table in KEYS)
    + " CASCADE;\nDROP FUNCTION IF EXISTS publicmap_counts_compact();"
    + "\nDROP INDEX publicmap_district_day_day;\n"
    + "\n".join(
        f"""CREATE TEMPORARY TABLE {table}_merged ON COMMIT DROP AS
    SELECT {keys}, sum(n) AS n FROM {table} GROUP BY {keys};
DELETE FROM {table};
INSERT INTO {table} ({keys}, n) SELECT {keys}, n FROM {table}_merged;
ALTER TABLE {table} ADD PRIMARY KEY ({keys});"""
        for table, keys in KEYS.items()
    )
)


class Migration(migrations.Migration):
    dependencies = [("cartography", "0017_territory_layer_names")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
