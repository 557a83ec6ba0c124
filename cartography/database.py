"""The locating rules inside PostgreSQL: one declaration of the functions and triggers that keep the
subdivided parts and the locate cells in step with the boundaries, work zones, teams and categories,
whatever writes them (admin, import command, raw SQL).

Installed after every `migrate` (CartographyConfig connects config.database.install_after_migrate), with
CREATE OR REPLACE: migrations carry the schema, and a change of rule is a change of this module. The
rule fragments come from cartography.selectors, which the one-point lookups and the set-based
relocation use too, so a rule is written once. `LOCATING_COLUMNS` says which edits can move reports;
the triggers and the admin (cartography.admin) both read it.

The migrations create none of these objects: they carry the tables (cartography's 0001 and 0002,
which replaced the migrations that used to write these functions in SQL).
"""

from config.database import Function, Trigger, transition_tables

from .selectors import (
    CATCH_ALL_ZONE_RULE,
    ZONE_PRECEDENCE,
    ZONE_RANK,
    district_part_sql,
    territory_outline_sql,
    zone_part_rule,
)

SUBDIVIDE_MAX_VERTICES = 64  # vertices per piece of the subdivided tables (ST_Subdivide)

# The columns whose change can move a report, per table. The triggers below mark the locate cells
# of the territories concerned when one of them changes; the admin asks for a relocation when a
# form changes one of them (LOCATING_FIELDS, by model field name). `id` is added where rows are
# compared. Work zones' categories are a table of their own: any change to it counts.
LOCATING_COLUMNS: dict[str, tuple[str, ...]] = {
    "cartography_territory": ("geom", "locating_layer"),
    "cartography_district": ("territory_id", "layer", "geom"),
    "cartography_workzone": ("team_id", "priority", "geom"),
    "cartography_team": ("is_active", "territory_id"),
    "signalements_category": ("default_team_id",),
}
# The same, as the admin sees them: model field names (a foreign key without `_id`), plus the work
# zones' many-to-many categories.
LOCATING_FIELDS: dict[str, frozenset[str]] = {
    table.removeprefix("cartography_"): frozenset(column.removesuffix("_id") for column in columns)
    for table, columns in LOCATING_COLUMNS.items()
    if table.startswith("cartography_")
}
LOCATING_FIELDS["workzone"] |= {"categories"}


def _pieces(geom: str) -> str:
    return (
        f"ST_Subdivide({geom}, {SUBDIVIDE_MAX_VERTICES}) AS s(geom), "
        "ST_Dump(ST_CollectionExtract(s.geom, 3)) AS d"
    )


def _changed(columns: str) -> str:
    """The rows of an UPDATE whose `columns` it changed, as they were and as they are."""
    return (
        f"(SELECT {columns} FROM old_rows EXCEPT SELECT {columns} FROM new_rows)"
        f" UNION ALL (SELECT {columns} FROM new_rows EXCEPT SELECT {columns} FROM old_rows)"
    )


def _compared(table: str) -> str:
    return ", ".join(("id", *LOCATING_COLUMNS[table]))


# The subdivided copies of the polygons, kept in step row by row.
SUBDIVISION = [
    Function(
        "cartography_subdivide_territory()",
        "trigger",
        f"""
BEGIN
    DELETE FROM cartography_territorypart WHERE territory_id = NEW.id;
    INSERT INTO cartography_territorypart (territory_id, geom)
    SELECT NEW.id, d.geom FROM {_pieces("NEW.geom")};
    RETURN NULL;
END """,
    ),
    Function(
        "cartography_subdivide_district()",
        "trigger",
        f"""
BEGIN
    DELETE FROM cartography_districtpart WHERE district_id = NEW.id;
    INSERT INTO cartography_districtpart (district_id, territory_id, layer, locating, geom)
    SELECT NEW.id, NEW.territory_id, NEW.layer,
           COALESCE((SELECT t.locating_layer = NEW.layer FROM cartography_territory t
                      WHERE t.id = NEW.territory_id), false),
           d.geom
    FROM {_pieces("NEW.geom")};
    RETURN NULL;
END """,
    ),
    Function(
        "cartography_workzone_category_ids(zone bigint)",
        "bigint[]",
        """
    SELECT COALESCE(array_agg(category_id ORDER BY category_id), '{}')
      FROM cartography_workzone_categories WHERE workzone_id = zone
""",
        language="sql",
        options="STABLE",
    ),
    Function(
        "cartography_subdivide_workzone()",
        "trigger",
        f"""
BEGIN
    DELETE FROM cartography_workzonepart WHERE work_zone_id = NEW.id;
    INSERT INTO cartography_workzonepart
        (work_zone_id, area, team_id, priority, team_active, category_ids, geom)
    SELECT NEW.id, ST_Area(NEW.geom::geography), NEW.team_id, NEW.priority,
           (SELECT team.is_active FROM cartography_team team WHERE team.id = NEW.team_id),
           cartography_workzone_category_ids(NEW.id), d.geom
    FROM {_pieces("NEW.geom")};
    RETURN NULL;
END """,
    ),
    Function(
        "cartography_locating_layer_sync()",
        "trigger",
        """
BEGIN
    UPDATE cartography_districtpart SET locating = (layer = NEW.locating_layer)
     WHERE territory_id = NEW.id AND locating IS DISTINCT FROM (layer = NEW.locating_layer);
    RETURN NULL;
END """,
    ),
    Function(
        "cartography_workzone_categories_sync()",
        "trigger",
        """
DECLARE
    zone bigint := COALESCE(NEW.workzone_id, OLD.workzone_id);
BEGIN
    UPDATE cartography_workzonepart SET category_ids = cartography_workzone_category_ids(zone)
     WHERE work_zone_id = zone;
    RETURN NULL;
END """,
    ),
    Function(
        "cartography_team_active_sync()",
        "trigger",
        """
BEGIN
    UPDATE cartography_workzonepart SET team_active = NEW.is_active WHERE team_id = NEW.id;
    RETURN NULL;
END """,
    ),
]

# The locate cells (cartography.models.LocateCell): the faces cut by every boundary, each with its
# district and, per category, its team, by the same rules as a one-point lookup.
REBUILD_BODY = f"""
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
        -- polygon in several parts or with a hole has as boundary.
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
               COALESCE(district.territory_id, {territory_outline_sql("f.inner_point")}) AS territory_id
          FROM faces f
          LEFT JOIN LATERAL ({district_part_sql("f.inner_point")}) district ON true)
    SELECT l.territory_id, l.district_id,
           (SELECT wp.team_id FROM cartography_workzonepart wp
             WHERE {CATCH_ALL_ZONE_RULE} AND ST_Intersects(wp.geom, l.inner_point)
             ORDER BY {ZONE_PRECEDENCE} LIMIT 1),
           teams.category_ids, teams.team_ids, piece.geom
      FROM located l
     CROSS JOIN LATERAL (
           SELECT COALESCE(array_agg(c.id ORDER BY c.id), '{{}}') AS category_ids,
                  COALESCE(array_agg(COALESCE(
                      (SELECT wp.team_id FROM cartography_workzonepart wp
                        WHERE {zone_part_rule("c.id")} AND ST_Intersects(wp.geom, l.inner_point)
                        ORDER BY {ZONE_RANK} LIMIT 1),
                      (SELECT team.id FROM cartography_team team
                        WHERE team.id = c.default_team_id AND team.is_active
                          AND (team.territory_id IS NULL OR team.territory_id = l.territory_id)))
                    ORDER BY c.id), '{{}}') AS team_ids
             FROM signalements_category c) teams
     CROSS JOIN LATERAL (SELECT d.geom FROM {_pieces("l.geom")}) piece
     WHERE l.territory_id IS NOT NULL AND (territories IS NULL OR l.territory_id = ANY(territories));
END """

# An edit of a table the rules read, per statement with its rows before and after (old_rows,
# new_rows): only the rows whose locating columns changed count. Per table: what of a row is
# marked, its type, and how it becomes territories.
EDITED_BODY = """
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
END """
EDITED = {  # function name: (table, marked, marked type, territories of the marked)
    "territory": ("cartography_territory", "id", "bigint", ""),
    "district": ("cartography_district", "territory_id", "bigint", ""),
    "workzone": ("cartography_workzone", "geom", "geometry", "cartography_locatecells_territories_under"),
}

LOCATE_CELLS = [
    Function(
        "cartography_locatecells_rebuild(territories bigint[])",
        "void",
        REBUILD_BODY,
        options="SET jit = off SET plan_cache_mode = force_custom_plan",
    ),
    # Record that the cells of `marked` territories (of all of them with `all_of_them`) may lag
    # behind the rules: locating reads the rules in this transaction, and its commit builds them.
    Function(
        "cartography_locatecells_mark(marked bigint[], all_of_them boolean)",
        "void",
        """
    INSERT INTO cartography_locatecellsstate AS s (id, stale, everywhere, territory_ids)
    SELECT 1, true, true, '{}'  -- no state row: what the cells hold is not known
     WHERE all_of_them OR cardinality(array_remove(marked, NULL)) > 0
    ON CONFLICT (id) DO UPDATE
       SET stale = true, everywhere = s.everywhere OR all_of_them,
           territory_ids = ARRAY(SELECT DISTINCT t FROM unnest(s.territory_ids || marked) t
                                  WHERE t IS NOT NULL ORDER BY t)
""",
        language="sql",
    ),
    # An edit that changes the rules locks the state row before it reads anything else, so that it
    # sees a concurrent edit's commit.
    Function(
        "cartography_locatecells_lock()",
        "void",
        """
BEGIN
    PERFORM FROM cartography_locatecellsstate WHERE id = 1 FOR UPDATE;
END """,
    ),
    Function(
        "cartography_locatecells_territories_under(geoms geometry[])",
        "bigint[]",
        """
    SELECT ARRAY(SELECT DISTINCT c.territory_id
                   FROM unnest(geoms) g(geom) JOIN cartography_locatecell c ON ST_Intersects(c.geom, g.geom))
""",
        language="sql",
        options="STABLE",
    ),
    Function(
        "cartography_locatecells_stale()",
        "trigger",
        """
BEGIN
    PERFORM cartography_locatecells_mark('{}', true);
    RETURN NULL;
END """,
    ),
    *(
        Function(
            f"cartography_locatecells_{name}_edited()",
            "trigger",
            EDITED_BODY.format(
                marked=marked,
                marked_type=marked_type,
                territories_of=territories_of,
                changed=_changed(_compared(table)),
            ),
        )
        for name, (table, marked, marked_type, territories_of) in EDITED.items()
    ),
    Function(
        "cartography_locatecells_zone_categories_edited()",
        "trigger",
        """
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
END """,
    ),
    # A team's activity or territory: the territories of its zones' cells, or every territory if it
    # is a category's default team.
    Function(
        "cartography_locatecells_team_edited()",
        "trigger",
        f"""
DECLARE
    teams bigint[];
BEGIN
    IF TG_OP = 'DELETE' THEN
        teams := ARRAY(SELECT id FROM old_rows);
    ELSE
        teams := ARRAY(SELECT id FROM ({_changed(_compared("cartography_team"))}) changed);
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
END """,
    ),
    # A category's creation, removal or default team: every territory (each cell holds the team of
    # every category).
    Function(
        "cartography_locatecells_category_edited()",
        "trigger",
        f"""
BEGIN
    IF TG_OP <> 'UPDATE' THEN
        PERFORM cartography_locatecells_mark('{{}}', true);
    ELSIF EXISTS (SELECT {_compared("signalements_category")} FROM old_rows
                  EXCEPT SELECT {_compared("signalements_category")} FROM new_rows) THEN
        PERFORM cartography_locatecells_mark('{{}}', true);
    END IF;
    RETURN NULL;
END """,
    ),
    # At commit, the cells are built again for the territories recorded. A build that fails leaves
    # the record in place: the next build covers its territories too.
    Function(
        "cartography_locatecells_refresh()",
        "trigger",
        """
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
END """,
    ),
]

FUNCTIONS: list[Function] = [*SUBDIVISION, *LOCATE_CELLS]


def _update_of(table: str) -> str:
    return f"AFTER INSERT OR UPDATE OF {', '.join(LOCATING_COLUMNS[table])}"


TRIGGERS: list[Trigger] = [
    Trigger(
        "territory_subdivide",
        "cartography_territory",
        "AFTER INSERT OR UPDATE OF geom",
        "FOR EACH ROW EXECUTE FUNCTION cartography_subdivide_territory()",
    ),
    Trigger(
        "district_subdivide",
        "cartography_district",
        _update_of("cartography_district"),
        "FOR EACH ROW EXECUTE FUNCTION cartography_subdivide_district()",
    ),
    Trigger(
        "workzone_subdivide",
        "cartography_workzone",
        _update_of("cartography_workzone"),
        "FOR EACH ROW EXECUTE FUNCTION cartography_subdivide_workzone()",
    ),
    Trigger(
        "territory_locating_layer",
        "cartography_territory",
        "AFTER UPDATE OF locating_layer",
        "FOR EACH ROW EXECUTE FUNCTION cartography_locating_layer_sync()",
    ),
    Trigger(
        "workzone_categories_sync",
        "cartography_workzone_categories",
        "AFTER INSERT OR DELETE OR UPDATE",
        "FOR EACH ROW EXECUTE FUNCTION cartography_workzone_categories_sync()",
    ),
    Trigger(
        "team_active_sync",
        "cartography_team",
        "AFTER UPDATE OF is_active",
        "FOR EACH ROW WHEN (OLD.is_active IS DISTINCT FROM NEW.is_active) "
        "EXECUTE FUNCTION cartography_team_active_sync()",
    ),
    Trigger(
        "locatecells_refresh",
        "cartography_locatecellsstate",
        "AFTER INSERT OR UPDATE",
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.stale) "
        "EXECUTE FUNCTION cartography_locatecells_refresh()",
        constraint=True,
    ),
]
# A trigger per event with its transition tables (config.database.transition_tables), and TRUNCATE
# (no rows to read) marks every territory.
for _table, _name, _events in (
    ("cartography_territory", "territory", "INSERT UPDATE DELETE"),
    ("cartography_district", "district", "INSERT UPDATE DELETE"),
    ("cartography_workzone", "workzone", "INSERT UPDATE DELETE"),
    ("cartography_workzone_categories", "zone_categories", "INSERT UPDATE DELETE"),
    ("cartography_team", "team", "UPDATE DELETE"),
    ("signalements_category", "category", "INSERT UPDATE DELETE"),
):
    TRIGGERS += [
        Trigger(
            f"locatecells_{event.lower()}",
            _table,
            f"AFTER {event}",
            f"REFERENCING {transition_tables(event)} FOR EACH STATEMENT "
            f"EXECUTE FUNCTION cartography_locatecells_{_name}_edited()",
        )
        for event in _events.split()
    ]
    TRIGGERS.append(
        Trigger(
            "locatecells_truncate",
            _table,
            "AFTER TRUNCATE",
            "FOR EACH STATEMENT EXECUTE FUNCTION cartography_locatecells_stale()",
        )
    )
