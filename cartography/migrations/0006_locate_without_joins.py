import django.contrib.postgres.fields
import django.contrib.postgres.indexes
import django.db.models.deletion
from django.db import migrations, models

# Locating a report reads the subdivided tables only: each work-zone part carries its zone's team,
# priority and categories and its team's active flag, each district part whether its layer is the
# territory's locating layer. Triggers keep the copies right whatever writes the source rows.
MAX_VERTICES = 64  # as in 0003

FORWARD = f"""
ALTER TABLE cartography_workzonepart
    ADD COLUMN team_id bigint, ADD COLUMN priority smallint, ADD COLUMN team_active boolean,
    ADD COLUMN category_ids bigint[] NOT NULL DEFAULT '{{}}';
ALTER TABLE cartography_districtpart ADD COLUMN locating boolean NOT NULL DEFAULT false;

CREATE FUNCTION cartography_workzone_category_ids(zone bigint) RETURNS bigint[] LANGUAGE sql STABLE AS $$
    SELECT COALESCE(array_agg(category_id ORDER BY category_id), '{{}}')
      FROM cartography_workzone_categories WHERE workzone_id = zone
$$;

UPDATE cartography_workzonepart wp
   SET team_id = wz.team_id, priority = wz.priority, team_active = team.is_active,
       category_ids = cartography_workzone_category_ids(wz.id)
  FROM cartography_workzone wz JOIN cartography_team team ON team.id = wz.team_id
 WHERE wz.id = wp.work_zone_id;
UPDATE cartography_districtpart dp SET locating = (t.locating_layer = dp.layer)
  FROM cartography_territory t WHERE t.id = dp.territory_id;
ALTER TABLE cartography_workzonepart
    ALTER COLUMN team_id SET NOT NULL, ALTER COLUMN priority SET NOT NULL,
    ALTER COLUMN team_active SET NOT NULL;

CREATE OR REPLACE FUNCTION cartography_subdivide_district() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM cartography_districtpart WHERE district_id = NEW.id;
    INSERT INTO cartography_districtpart (district_id, territory_id, layer, locating, geom)
    SELECT NEW.id, NEW.territory_id, NEW.layer,
           COALESCE((SELECT t.locating_layer = NEW.layer FROM cartography_territory t WHERE t.id = NEW.territory_id),
                    false),
           d.geom
    FROM ST_Subdivide(NEW.geom, {MAX_VERTICES}) AS s(geom), ST_Dump(ST_CollectionExtract(s.geom, 3)) AS d;
    RETURN NULL;
END $$;

CREATE FUNCTION cartography_locating_layer_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE cartography_districtpart SET locating = (layer = NEW.locating_layer)
     WHERE territory_id = NEW.id AND locating IS DISTINCT FROM (layer = NEW.locating_layer);
    RETURN NULL;
END $$;
CREATE TRIGGER territory_locating_layer AFTER UPDATE OF locating_layer ON cartography_territory
    FOR EACH ROW EXECUTE FUNCTION cartography_locating_layer_sync();

CREATE OR REPLACE FUNCTION cartography_subdivide_workzone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM cartography_workzonepart WHERE work_zone_id = NEW.id;
    INSERT INTO cartography_workzonepart
        (work_zone_id, area, team_id, priority, team_active, category_ids, geom)
    SELECT NEW.id, ST_Area(NEW.geom::geography), NEW.team_id, NEW.priority,
           (SELECT team.is_active FROM cartography_team team WHERE team.id = NEW.team_id),
           cartography_workzone_category_ids(NEW.id), d.geom
    FROM ST_Subdivide(NEW.geom, {MAX_VERTICES}) AS s(geom), ST_Dump(ST_CollectionExtract(s.geom, 3)) AS d;
    RETURN NULL;
END $$;
DROP TRIGGER workzone_subdivide ON cartography_workzone;
CREATE TRIGGER workzone_subdivide AFTER INSERT OR UPDATE OF geom, team_id, priority ON cartography_workzone
    FOR EACH ROW EXECUTE FUNCTION cartography_subdivide_workzone();

CREATE FUNCTION cartography_workzone_categories_sync() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    zone bigint := COALESCE(NEW.workzone_id, OLD.workzone_id);
BEGIN
    UPDATE cartography_workzonepart SET category_ids = cartography_workzone_category_ids(zone)
     WHERE work_zone_id = zone;
    RETURN NULL;
END $$;
CREATE TRIGGER workzone_categories_sync AFTER INSERT OR DELETE OR UPDATE ON cartography_workzone_categories
    FOR EACH ROW EXECUTE FUNCTION cartography_workzone_categories_sync();

CREATE FUNCTION cartography_team_active_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE cartography_workzonepart SET team_active = NEW.is_active WHERE team_id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER team_active_sync AFTER UPDATE OF is_active ON cartography_team
    FOR EACH ROW WHEN (OLD.is_active IS DISTINCT FROM NEW.is_active)
    EXECUTE FUNCTION cartography_team_active_sync();
"""

BACKWARD = f"""
DROP TRIGGER team_active_sync ON cartography_team;
DROP FUNCTION cartography_team_active_sync();
DROP TRIGGER workzone_categories_sync ON cartography_workzone_categories;
DROP FUNCTION cartography_workzone_categories_sync();
DROP TRIGGER territory_locating_layer ON cartography_territory;
DROP FUNCTION cartography_locating_layer_sync();
DROP TRIGGER workzone_subdivide ON cartography_workzone;
CREATE OR REPLACE FUNCTION cartography_subdivide_workzone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM cartography_workzonepart WHERE work_zone_id = NEW.id;
    INSERT INTO cartography_workzonepart (work_zone_id, area, geom)
    SELECT NEW.id, ST_Area(NEW.geom::geography), d.geom
    FROM ST_Subdivide(NEW.geom, {MAX_VERTICES}) AS s(geom), ST_Dump(ST_CollectionExtract(s.geom, 3)) AS d;
    RETURN NULL;
END $$;
CREATE TRIGGER workzone_subdivide AFTER INSERT OR UPDATE OF geom ON cartography_workzone
    FOR EACH ROW EXECUTE FUNCTION cartography_subdivide_workzone();
CREATE OR REPLACE FUNCTION cartography_subdivide_district() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM cartography_districtpart WHERE district_id = NEW.id;
    INSERT INTO cartography_districtpart (district_id, territory_id, layer, geom)
    SELECT NEW.id, NEW.territory_id, NEW.layer, d.geom
    FROM ST_Subdivide(NEW.geom, {MAX_VERTICES}) AS s(geom), ST_Dump(ST_CollectionExtract(s.geom, 3)) AS d;
    RETURN NULL;
END $$;
ALTER TABLE cartography_workzonepart
    DROP COLUMN team_id, DROP COLUMN priority, DROP COLUMN team_active, DROP COLUMN category_ids;
ALTER TABLE cartography_districtpart DROP COLUMN locating;
DROP FUNCTION cartography_workzone_category_ids(bigint);
"""


class Migration(migrations.Migration):
    dependencies = [("cartography", "0005_place")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunSQL(FORWARD, BACKWARD)],
            state_operations=[
                migrations.AddField(
                    model_name="districtpart",
                    name="locating",
                    field=models.BooleanField(default=False),
                ),
                migrations.AddField(
                    model_name="workzonepart",
                    name="category_ids",
                    field=django.contrib.postgres.fields.ArrayField(
                        base_field=models.BigIntegerField(), default=list, size=None
                    ),
                ),
                migrations.AddField(
                    model_name="workzonepart",
                    name="priority",
                    field=models.SmallIntegerField(default=0),
                    preserve_default=False,
                ),
                migrations.AddField(
                    model_name="workzonepart",
                    name="team",
                    field=models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        default=None,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="cartography.team",
                    ),
                    preserve_default=False,
                ),
                migrations.AddField(
                    model_name="workzonepart",
                    name="team_active",
                    field=models.BooleanField(default=True),
                    preserve_default=False,
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="districtpart",
            index=django.contrib.postgres.indexes.GistIndex(
                condition=models.Q(("locating", True)), fields=["geom"], name="districtpart_locating_gist"
            ),
        ),
    ]
