import django.contrib.gis.db.models.fields
import django.contrib.postgres.fields
import django.db.models.deletion
from django.db import migrations, models

# The locate cells (cartography.models.LocateCell) and what keeps them right.
# - Any statement that changes what the locate rules read (outlines, locating layer, districts, work
#   zones and their categories, teams' active flag and territory, categories and their default team)
#   marks the cells stale; locate() then reads the rules themselves, in that transaction.
# - At its commit, the transaction builds the cells again (a deferred trigger, once however many
#   statements marked them) and marks them fresh: other sessions see old cells or new cells, never
#   a mix. A failed build leaves the cells stale, the commit goes through, locating stays right.
# The face answers are the rules of cartography.selectors (district_part_sql, territory_outline_sql,
# team_sql) asked at a point inside each face; tests/test_locate.py checks that both agree. The
# faces come from the boundaries, noded and polygonized; no JIT, which compiled for half a second
# a statement that runs in a quarter of one (Liège: 12 faces, 166 cells).
MAX_VERTICES = 64  # as the part tables (0003)

FORWARD = f"""
CREATE FUNCTION cartography_locatecells_rebuild() RETURNS void LANGUAGE plpgsql SET jit = off AS $$
BEGIN
    DELETE FROM cartography_locatecell;
    INSERT INTO cartography_locatecell (territory_id, district_id, catch_all_team_id, category_ids, team_ids, geom)
    WITH edges AS (
        SELECT ST_Node(ST_Collect(ST_Boundary(g.geom))) AS geom FROM (
            SELECT t.geom FROM cartography_territory t
            UNION ALL
            SELECT d.geom FROM cartography_district d
              JOIN cartography_territory t ON t.id = d.territory_id AND t.locating_layer = d.layer
            UNION ALL
            SELECT z.geom FROM cartography_workzone z) g),
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
             WHERE wp.team_active AND wp.category_ids = '{{}}' AND ST_Intersects(wp.geom, l.inner_point)
             ORDER BY wp.priority DESC, wp.area, wp.work_zone_id LIMIT 1),
           teams.category_ids, teams.team_ids, piece.geom
      FROM located l
     CROSS JOIN LATERAL (
           SELECT COALESCE(array_agg(c.id ORDER BY c.id), '{{}}') AS category_ids,
                  COALESCE(array_agg(COALESCE(
                      (SELECT wp.team_id FROM cartography_workzonepart wp
                        WHERE wp.team_active AND (wp.category_ids = '{{}}' OR c.id = ANY(wp.category_ids))
                          AND ST_Intersects(wp.geom, l.inner_point)
                        ORDER BY (wp.category_ids = '{{}}'), wp.priority DESC, wp.area, wp.work_zone_id
                        LIMIT 1),
                      (SELECT team.id FROM cartography_team team
                        WHERE team.id = c.default_team_id AND team.is_active
                          AND (team.territory_id IS NULL OR team.territory_id = l.territory_id)))
                    ORDER BY c.id), '{{}}') AS team_ids
             FROM signalements_category c) teams
     CROSS JOIN LATERAL (
           SELECT d.geom FROM ST_Subdivide(l.geom, {MAX_VERTICES}) AS s(geom),
                  ST_Dump(ST_CollectionExtract(s.geom, 3)) AS d) piece
     WHERE l.territory_id IS NOT NULL;
END $$;

CREATE FUNCTION cartography_locatecells_stale() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO cartography_locatecellsstate (id, stale) VALUES (1, true)
    ON CONFLICT (id) DO UPDATE SET stale = true;
    RETURN NULL;
END $$;

CREATE FUNCTION cartography_locatecells_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM cartography_locatecellsstate WHERE id = 1 AND stale) THEN
        RETURN NULL;  -- an earlier event of this transaction built them
    END IF;
    BEGIN
        PERFORM cartography_locatecells_rebuild();
        UPDATE cartography_locatecellsstate SET stale = false WHERE id = 1;
    EXCEPTION WHEN OTHERS THEN
        RAISE WARNING 'locate cells left stale (locating reads the rules until the next change): %', SQLERRM;
    END;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER locatecells_refresh AFTER INSERT OR UPDATE ON cartography_locatecellsstate
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.stale)
    EXECUTE FUNCTION cartography_locatecells_refresh();

CREATE TRIGGER locatecells_stale
    AFTER INSERT OR DELETE OR UPDATE OF geom, locating_layer OR TRUNCATE ON cartography_territory
    FOR EACH STATEMENT EXECUTE FUNCTION cartography_locatecells_stale();
CREATE TRIGGER locatecells_stale
    AFTER INSERT OR DELETE OR UPDATE OF geom, territory_id, layer OR TRUNCATE ON cartography_district
    FOR EACH STATEMENT EXECUTE FUNCTION cartography_locatecells_stale();
CREATE TRIGGER locatecells_stale
    AFTER INSERT OR DELETE OR UPDATE OF geom, team_id, priority OR TRUNCATE ON cartography_workzone
    FOR EACH STATEMENT EXECUTE FUNCTION cartography_locatecells_stale();
CREATE TRIGGER locatecells_stale
    AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON cartography_workzone_categories
    FOR EACH STATEMENT EXECUTE FUNCTION cartography_locatecells_stale();
CREATE TRIGGER locatecells_stale
    AFTER DELETE OR UPDATE OF is_active, territory_id OR TRUNCATE ON cartography_team
    FOR EACH STATEMENT EXECUTE FUNCTION cartography_locatecells_stale();
CREATE TRIGGER locatecells_stale
    AFTER INSERT OR DELETE OR UPDATE OF default_team_id OR TRUNCATE ON signalements_category
    FOR EACH STATEMENT EXECUTE FUNCTION cartography_locatecells_stale();

INSERT INTO cartography_locatecellsstate (id, stale) VALUES (1, true);  -- first build at this commit
"""

BACKWARD = """
DROP TRIGGER locatecells_stale ON signalements_category;
DROP TRIGGER locatecells_stale ON cartography_team;
DROP TRIGGER locatecells_stale ON cartography_workzone_categories;
DROP TRIGGER locatecells_stale ON cartography_workzone;
DROP TRIGGER locatecells_stale ON cartography_district;
DROP TRIGGER locatecells_stale ON cartography_territory;
DROP TRIGGER locatecells_refresh ON cartography_locatecellsstate;
DROP FUNCTION cartography_locatecells_refresh();
DROP FUNCTION cartography_locatecells_stale();
DROP FUNCTION cartography_locatecells_rebuild();
"""


class Migration(migrations.Migration):

    dependencies = [
        ('cartography', '0008_parts_parallel_workers'),
        ('signalements', '0017_bulk_load_friendlier_keys'),
    ]

    operations = [
        migrations.CreateModel(
            name='LocateCellsState',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('stale', models.BooleanField()),
            ],
            options={
                'default_permissions': (),
            },
        ),
        migrations.CreateModel(
            name='LocateCell',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('category_ids', django.contrib.postgres.fields.ArrayField(base_field=models.BigIntegerField(), size=None)),
                ('team_ids', django.contrib.postgres.fields.ArrayField(base_field=models.BigIntegerField(null=True), size=None)),
                ('geom', django.contrib.gis.db.models.fields.PolygonField(srid=4326)),
                ('catch_all_team', models.ForeignKey(db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='cartography.team')),
                ('district', models.ForeignKey(db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='cartography.district')),
                ('territory', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='cartography.territory')),
            ],
            options={
                'default_permissions': (),
            },
        ),
        migrations.RunSQL(FORWARD, BACKWARD),
    ]
