from importlib import import_module

import django.contrib.postgres.fields
from django.db import migrations, models

# The locate cells built again for the territories an edit touches, not for all of them (0009 built
# every territory's cells at the commit of any edit: 2.5 s with Liège and Paris, however small the
# edit, and more with each city).
# - Each edit records, on the state row, the territories whose cells it may change:
#   - a territory's outline or locating layer: that territory;
#   - a district: its territory, before and after;
#   - a work zone or its categories: the territories whose cells the zone covers, before or after;
#   - a team's active flag or territory: the territories of its zones' cells, or every territory
#     if it is a category's default team;
#   - a category's creation, removal or default team, and TRUNCATE anywhere: every territory
#     (each cell holds the team of every category).
#   Statements that change none of the columns the rules read (an admin form saving a team's
#   phone number) record nothing, and leave the cells fresh. An edit that does change them locks
#   the state row before it reads anything else, so that it sees a concurrent edit's commit.
# - At commit, the build deletes those territories' cells and makes them again from the boundaries
#   that cross their area: where their reports were located (their old cells) and where they may be
#   now (their outlines and locating districts). Other territories' cells are kept as they are.
# - If another territory's outline or districts overlap that area, the rules' tie-breaks between
#   territories reach beyond the recorded ones: the build then covers every territory.
# - A build that fails leaves the record in place: the next build covers its territories too.
# - The build no longer fails on a territory, district or zone in several parts or with a hole.

FORWARD = """
ALTER TABLE cartography_locatecellsstate
    ALTER COLUMN everywhere SET DEFAULT true, ALTER COLUMN territory_ids SET DEFAULT '{}';
UPDATE cartography_locatecellsstate SET everywhere = stale;  -- fresh cells: nothing left to build

DROP FUNCTION cartography_locatecells_rebuild();
CREATE FUNCTION cartography_locatecells_rebuild(territories bigint[]) RETURNS void
LANGUAGE plpgsql SET jit = off SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    area geometry[];  -- where the territories' reports were and may now be located
    zones bigint[];   -- the work zones that cross it
BEGIN
    IF territories IS NOT NULL THEN
        territories := array_remove(territories, NULL);  -- else `<> ALL(territories)` is never true
        area := ARRAY(
            SELECT c.geom FROM cartography_locatecell c WHERE c.territory_id = ANY(territories)
            UNION ALL
            SELECT tp.geom FROM cartography_territorypart tp WHERE tp.territory_id = ANY(territories)
            UNION ALL
            SELECT dp.geom FROM cartography_districtpart dp
             WHERE dp.locating AND dp.territory_id = ANY(territories));
        IF EXISTS (
            SELECT FROM unnest(area) a(geom)
             WHERE EXISTS (SELECT FROM cartography_territorypart tp
                            WHERE tp.territory_id <> ALL(territories)
                              AND ST_Intersects(tp.geom, a.geom) AND ST_Relate(tp.geom, a.geom, 'T********'))
                OR EXISTS (SELECT FROM cartography_districtpart dp
                            WHERE dp.locating AND dp.territory_id <> ALL(territories)
                              AND ST_Intersects(dp.geom, a.geom) AND ST_Relate(dp.geom, a.geom, 'T********')))
        THEN
            territories := NULL;  -- overlapping territories: all of them
        ELSE
            zones := ARRAY(
                SELECT DISTINCT wp.work_zone_id
                  FROM unnest(area) a(geom)
                  JOIN cartography_workzonepart wp ON ST_Intersects(wp.geom, a.geom));
        END IF;
    END IF;

    DELETE FROM cartography_locatecell WHERE territories IS NULL OR territory_id = ANY(territories);
    INSERT INTO cartography_locatecell
        (territory_id, district_id, catch_all_team_id, category_ids, team_ids, geom)
    WITH edges AS (
        -- The boundaries' single lines: ST_Node refuses a collection of multi-part lines, which a
        -- polygon in several parts or with a hole has as boundary (0009's build failed on them).
        SELECT ST_Node(ST_Collect(line.geom)) AS geom FROM (
            SELECT t.geom FROM cartography_territory t
             WHERE territories IS NULL OR t.id = ANY(territories)
            UNION ALL
            SELECT d.geom FROM cartography_district d
              JOIN cartography_territory t ON t.id = d.territory_id AND t.locating_layer = d.layer
             WHERE territories IS NULL OR d.territory_id = ANY(territories)
            UNION ALL
            SELECT z.geom FROM cartography_workzone z
             WHERE territories IS NULL OR z.id = ANY(zones)) g,
         ST_Dump(ST_Boundary(g.geom)) line),
    faces AS (
        SELECT f.geom, ST_PointOnSurface(f.geom) AS inner_point
          FROM (SELECT (ST_Dump(ST_Polygonize(edges.geom))).geom FROM edges) f),
    located AS (
        SELECT f.geom, f.inner_point, district.district_id,
               COALESCE(district.territory_id,
                        (SELECT tp.territory_id FROM cartography_territorypart tp
                          WHERE ST_Intersects(tp.geom, f.inner_point) ORDER BY tp.territory_id LIMIT 1))
                 AS territory_id
          FROM faces f
          LEFT JOIN LATERAL (
                SELECT dp.district_id, dp.territory_id FROM cartography_districtpart dp
                 WHERE dp.locating AND ST_Intersects(dp.geom, f.inner_point)
                 ORDER BY dp.district_id LIMIT 1) district ON true)
    SELECT l.territory_id, l.district_id,
           (SELECT wp.team_id FROM cartography_workzonepart wp
             WHERE wp.team_active AND wp.category_ids = '{}' AND ST_Intersects(wp.geom, l.inner_point)
             ORDER BY wp.priority DESC, wp.area, wp.work_zone_id LIMIT 1),
           teams.category_ids, teams.team_ids, piece.geom
      FROM located l
     CROSS JOIN LATERAL (
           SELECT COALESCE(array_agg(c.id ORDER BY c.id), '{}') AS category_ids,
                  COALESCE(array_agg(COALESCE(
                      (SELECT wp.team_id FROM cartography_workzonepart wp
                        WHERE wp.team_active AND (wp.category_ids = '{}' OR c.id = ANY(wp.category_ids))
                          AND ST_Intersects(wp.geom, l.inner_point)
                        ORDER BY (wp.category_ids = '{}'), wp.priority DESC, wp.area, wp.work_zone_id
                        LIMIT 1),
                      (SELECT team.id FROM cartography_team team
                        WHERE team.id = c.default_team_id AND team.is_active
                          AND (team.territory_id IS NULL OR team.territory_id = l.territory_id)))
                    ORDER BY c.id), '{}') AS team_ids
             FROM signalements_category c) teams
     CROSS JOIN LATERAL (
           SELECT d.geom FROM ST_Subdivide(l.geom, 64) AS s(geom),
                  ST_Dump(ST_CollectionExtract(s.geom, 3)) AS d) piece
     WHERE l.territory_id IS NOT NULL AND (territories IS NULL OR l.territory_id = ANY(territories));
END $$;

-- Record that the cells of `marked` territories (of all of them with `all_of_them`) may lag behind
-- the rules: locating reads the rules in this transaction, and its commit builds them again.
CREATE FUNCTION cartography_locatecells_mark(marked bigint[], all_of_them boolean) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO cartography_locatecellsstate AS s (id, stale, everywhere, territory_ids)
    SELECT 1, true, true, '{}'  -- no state row: what the cells hold is not known
     WHERE all_of_them OR cardinality(array_remove(marked, NULL)) > 0
    ON CONFLICT (id) DO UPDATE
       SET stale = true, everywhere = s.everywhere OR all_of_them,
           territory_ids = ARRAY(SELECT DISTINCT t FROM unnest(s.territory_ids || marked) t
                                  WHERE t IS NOT NULL ORDER BY t)
$$;

-- Taken by an edit before it reads the cells, zones or categories to know which territories it
-- touches, and held until it commits: a concurrent edit's commit and build come first, and the
-- next statement (a new snapshot, in READ COMMITTED) sees them. Else each of two concurrent edits
-- could miss the other (a zone added where another transaction extends a territory's outline).
CREATE FUNCTION cartography_locatecells_lock() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM FROM cartography_locatecellsstate WHERE id = 1 FOR UPDATE;
END $$;

-- The territories whose cells cover any of `geoms`.
CREATE FUNCTION cartography_locatecells_territories_under(geoms geometry[]) RETURNS bigint[]
LANGUAGE sql STABLE AS $$
    SELECT ARRAY(SELECT DISTINCT c.territory_id
                   FROM unnest(geoms) g(geom) JOIN cartography_locatecell c ON ST_Intersects(c.geom, g.geom))
$$;

CREATE OR REPLACE FUNCTION cartography_locatecells_stale() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM cartography_locatecells_mark('{}', true);
    RETURN NULL;
END $$;

-- The other tables' functions: EDITED_FUNCTION below. Each takes the lock above before it reads
-- anything but the statement's rows.
CREATE FUNCTION cartography_locatecells_zone_categories_edited() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    zones bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        zones := ARRAY(SELECT workzone_id FROM new_rows);
    ELSIF TG_OP = 'DELETE' THEN
        zones := ARRAY(SELECT workzone_id FROM old_rows);
    ELSE
        zones := ARRAY(SELECT workzone_id FROM old_rows UNION SELECT workzone_id FROM new_rows);
    END IF;
    PERFORM cartography_locatecells_lock();
    PERFORM cartography_locatecells_mark(cartography_locatecells_territories_under(ARRAY(
        SELECT z.geom FROM cartography_workzone z WHERE z.id = ANY(zones))), false);
    RETURN NULL;
END $$;

CREATE FUNCTION cartography_locatecells_team_edited() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    teams bigint[];
BEGIN
    IF TG_OP = 'DELETE' THEN
        teams := ARRAY(SELECT id FROM old_rows);
    ELSE
        teams := ARRAY(SELECT id FROM (TEAMS_CHANGED) changed);
    END IF;
    IF cardinality(teams) = 0 THEN
        RETURN NULL;
    END IF;
    PERFORM cartography_locatecells_lock();
    PERFORM cartography_locatecells_mark(
        cartography_locatecells_territories_under(ARRAY(
            SELECT z.geom FROM cartography_workzone z WHERE z.team_id = ANY(teams))),
        EXISTS (SELECT FROM signalements_category c WHERE c.default_team_id = ANY(teams)));
    RETURN NULL;
END $$;

CREATE FUNCTION cartography_locatecells_category_edited() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'UPDATE' THEN
        PERFORM cartography_locatecells_mark('{}', true);
    ELSIF EXISTS (SELECT id, default_team_id FROM old_rows
                  EXCEPT SELECT id, default_team_id FROM new_rows) THEN
        PERFORM cartography_locatecells_mark('{}', true);
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION cartography_locatecells_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    state cartography_locatecellsstate;
BEGIN
    SELECT * INTO state FROM cartography_locatecellsstate WHERE id = 1;
    IF NOT FOUND OR NOT state.stale THEN
        RETURN NULL;  -- an earlier event of this transaction built them
    END IF;
    BEGIN
        PERFORM cartography_locatecells_rebuild(CASE WHEN NOT state.everywhere THEN state.territory_ids END);
        UPDATE cartography_locatecellsstate SET stale = false, everywhere = false, territory_ids = '{}'
         WHERE id = 1;
    EXCEPTION WHEN OTHERS THEN
        RAISE WARNING 'locate cells left stale (locating reads the rules until the next change): %', SQLERRM;
    END;
    RETURN NULL;
END $$;

DROP TRIGGER locatecells_stale ON cartography_territory;
DROP TRIGGER locatecells_stale ON cartography_district;
DROP TRIGGER locatecells_stale ON cartography_workzone;
DROP TRIGGER locatecells_stale ON cartography_workzone_categories;
DROP TRIGGER locatecells_stale ON cartography_team;
DROP TRIGGER locatecells_stale ON signalements_category;
"""


def changed(columns: str) -> str:
    """The rows of an UPDATE whose `columns` it changed, as they were and as they are."""
    return (
        f"(SELECT {columns} FROM old_rows EXCEPT SELECT {columns} FROM new_rows)"
        f" UNION ALL (SELECT {columns} FROM new_rows EXCEPT SELECT {columns} FROM old_rows)"
    )


FORWARD = FORWARD.replace("TEAMS_CHANGED", changed("id, is_active, territory_id"))

# One function per table, fired once per statement, with the statement's rows before and after
# (old_rows, new_rows; an UPDATE has both): only the rows whose rule columns changed count. Per
# table: the rule columns, what of a row is marked, and how it becomes territories.
EDITED_FUNCTION = """
CREATE FUNCTION cartography_locatecells_{name}_edited() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    edited {marked_type}[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        edited := ARRAY(SELECT {marked} FROM new_rows);
    ELSIF TG_OP = 'DELETE' THEN
        edited := ARRAY(SELECT {marked} FROM old_rows);
    ELSE
        edited := ARRAY(SELECT {marked} FROM ({changed}) changed);
    END IF;
    IF cardinality(edited) > 0 THEN
        PERFORM cartography_locatecells_lock();
        PERFORM cartography_locatecells_mark({territories_of}(edited), false);
    END IF;
    RETURN NULL;
END $$;
"""
for name, columns, marked, marked_type, territories_of in (
    ("territory", "id, geom, locating_layer", "id", "bigint", ""),
    ("district", "id, territory_id, layer, geom", "territory_id", "bigint", ""),
    (
        "workzone",
        "id, team_id, priority, geom",
        "geom",
        "geometry",
        "cartography_locatecells_territories_under",
    ),
):
    FORWARD += EDITED_FUNCTION.format(
        name=name,
        marked=marked,
        marked_type=marked_type,
        territories_of=territories_of,
        changed=changed(columns),
    )

# Transition tables allow one event per trigger and no column list: three triggers per table, and
# TRUNCATE (no rows to read) marks every territory.
EDITED = {
    "cartography_territory": ("territory", "INSERT UPDATE DELETE"),
    "cartography_district": ("district", "INSERT UPDATE DELETE"),
    "cartography_workzone": ("workzone", "INSERT UPDATE DELETE"),
    "cartography_workzone_categories": ("zone_categories", "INSERT UPDATE DELETE"),
    "cartography_team": ("team", "UPDATE DELETE"),
    "signalements_category": ("category", "INSERT UPDATE DELETE"),
}
REFERENCING = {
    "INSERT": "NEW TABLE AS new_rows",
    "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "DELETE": "OLD TABLE AS old_rows",
}
for table, (name, events) in EDITED.items():
    for event in events.split():
        FORWARD += (
            f"CREATE TRIGGER locatecells_{event.lower()} AFTER {event} ON {table}"
            f" REFERENCING {REFERENCING[event]}"
            f" FOR EACH STATEMENT EXECUTE FUNCTION cartography_locatecells_{name}_edited();\n"
        )
    FORWARD += (
        f"CREATE TRIGGER locatecells_truncate AFTER TRUNCATE ON {table}"
        " FOR EACH STATEMENT EXECUTE FUNCTION cartography_locatecells_stale();\n"
    )

# Back to 0009: this migration's triggers and functions dropped, 0009's made again, and every
# territory's cells built by them (the state row is kept: 0009 updates it in place).
BACKWARD = "DROP TRIGGER locatecells_refresh ON cartography_locatecellsstate;\n"
for table, (name, events) in EDITED.items():
    for event in [*events.split(), "TRUNCATE"]:
        BACKWARD += f"DROP TRIGGER locatecells_{event.lower()} ON {table};\n"
    BACKWARD += f"DROP FUNCTION cartography_locatecells_{name}_edited();\n"
BACKWARD += """
DROP FUNCTION cartography_locatecells_refresh();
DROP FUNCTION cartography_locatecells_stale();
DROP FUNCTION cartography_locatecells_rebuild(bigint[]);
DROP FUNCTION cartography_locatecells_territories_under(geometry[]);
DROP FUNCTION cartography_locatecells_lock();
DROP FUNCTION cartography_locatecells_mark(bigint[], boolean);
"""
LOCATE_CELLS = import_module("cartography.migrations.0009_locate_cells")
FIRST_BUILD = "INSERT INTO cartography_locatecellsstate (id, stale) VALUES (1, true);"
assert FIRST_BUILD in LOCATE_CELLS.FORWARD
BACKWARD += LOCATE_CELLS.FORWARD.replace(
    FIRST_BUILD,
    "INSERT INTO cartography_locatecellsstate (id, stale) VALUES (1, true)"
    " ON CONFLICT (id) DO UPDATE SET stale = true;\n"
    # Built now, not at the commit: the state row's columns are then removed, and ALTER TABLE
    # refuses a table with trigger events pending.
    "SET CONSTRAINTS locatecells_refresh IMMEDIATE;",
)


class Migration(migrations.Migration):
    dependencies = [
        ("cartography", "0010_locate_cells_parallel_workers"),
        ("signalements", "0019_tracking_token_split"),
    ]

    operations = [
        migrations.AddField(
            model_name="locatecellsstate",
            name="everywhere",
            field=models.BooleanField(default=True),
        ),
        migrations.AddField(
            model_name="locatecellsstate",
            name="territory_ids",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.BigIntegerField(), default=list, size=None
            ),
        ),
        migrations.RunSQL(FORWARD, BACKWARD),
    ]
