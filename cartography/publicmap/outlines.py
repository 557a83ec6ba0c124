"""The districts' outlines as the public map's low zooms draw them, stored per tile.

Below CELLS_FROM a tile spans whole districts, and clipping their boundaries to it and converting
them to its units (ST_AsMVTGeom) was most of an uncached tile: 8 ms for a zoom 10 tile of Liège's
13,000 vertices, against 0.3 ms to read them stored (FINDINGS.md, public map).
`publicmap_district_outline` (migration 0019) holds, per district and tile of those zooms that its
box in Web Mercator overlaps, its outline clipped to the tile and the tiles' buffer, in the tile's
units. Statement-level triggers on the districts keep it whatever writes them (the admin, the
boundary import, raw SQL): a district added or whose boundary changed is clipped again, one removed
leaves. From CELLS_FROM a tile crosses few districts and clips them at its request.

Installed after every `migrate` (CartographyConfig) with CREATE OR REPLACE, then every district's
outlines are made again."""

from config.database import EVENTS, Function, Trigger, transition_tables

from .selectors import BUFFER, CELLS_FROM, EXTENT, WORLD

OUTLINED_ZOOMS = range(CELLS_FROM)


def _tile_index(z: str, metres: str) -> str:
    """The column (row) of zoom `z` of the tiles that a point `metres` east of the world's west edge
    (south of its north edge) falls in, within the world's."""
    return f"least(greatest(floor(({metres}) / (2 * {WORLD} / 2 ^ {z}))::int, 0), 2 ^ {z} - 1)::int"


FUNCTIONS: list[Function] = [
    # The outlines of the districts `ids` made again; returns the rows written.
    Function(
        "publicmap_district_outlines(ids bigint[])",
        "bigint",
        f"""
DECLARE
    written bigint;
BEGIN
    DELETE FROM publicmap_district_outline WHERE district_id = ANY(ids);
    INSERT INTO publicmap_district_outline (z, x, y, district_id, geom)
    SELECT z, x, y, id, geom FROM (
        SELECT t.z, t.x, t.y, d.id,
               ST_AsMVTGeom(d.g, ST_TileEnvelope(t.z, t.x, t.y), {EXTENT}, {BUFFER}, true) AS geom
          FROM (SELECT id, ST_Transform(geom, 3857) AS g FROM cartography_district
                 WHERE id = ANY(ids)) d
         CROSS JOIN LATERAL (
             SELECT z, x, y
               FROM generate_series({OUTLINED_ZOOMS.start}, {OUTLINED_ZOOMS.stop - 1}) AS z,
                    generate_series({_tile_index("z", f"ST_XMin(d.g) + {WORLD}")},
                                    {_tile_index("z", f"ST_XMax(d.g) + {WORLD}")}) AS x,
                    generate_series({_tile_index("z", f"{WORLD} - ST_YMax(d.g)")},
                                    {_tile_index("z", f"{WORLD} - ST_YMin(d.g)")}) AS y
         ) t
    ) outlines
     WHERE geom IS NOT NULL;
    GET DIAGNOSTICS written = ROW_COUNT;
    RETURN written;
END """,
        # The tiles' series are costed at a thousand rows each: planned past JIT's threshold, one
        # district took 140-250 ms, 190 of them compiling (3 ms without).
        options="SET jit = off",
    ),
    Function(
        "publicmap_district_outline_apply()",
        "trigger",
        """
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        TRUNCATE publicmap_district_outline;
    ELSIF TG_OP = 'INSERT' THEN
        PERFORM publicmap_district_outlines(ARRAY(SELECT id FROM new_rows));
    ELSIF TG_OP = 'DELETE' THEN
        DELETE FROM publicmap_district_outline WHERE district_id IN (SELECT id FROM old_rows);
    ELSE
        PERFORM publicmap_district_outlines(ARRAY(
            SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
             WHERE n.geom IS DISTINCT FROM o.geom
        ));
    END IF;
    RETURN NULL;
END """,
    ),
]

APPLY = "EXECUTE FUNCTION publicmap_district_outline_apply()"
TRIGGERS: list[Trigger] = [
    *(
        Trigger(
            f"publicmap_district_outline_{event.lower()}",
            "cartography_district",
            f"AFTER {event}",
            f"REFERENCING {transition_tables(event)} FOR EACH STATEMENT {APPLY}",
        )
        for event in EVENTS
    ),
    Trigger(
        "publicmap_district_outline_truncate",
        "cartography_district",
        "AFTER TRUNCATE",
        f"FOR EACH STATEMENT {APPLY}",
    ),
]
# Every district's outlines made again: all of them after migration 0019, and as the code clips
# them should it have changed (EXTENT, BUFFER, the zooms). Liège's 196 districts: 0.27 s.
AFTER_INSTALL = ["SELECT publicmap_district_outlines(array_agg(id)) FROM cartography_district"]
