from django.db import migrations

# Each polygon table keeps a subdivided copy (ST_Subdivide, 64 vertices a piece) in sync through
# triggers, whatever writes the polygons: admin, import command, raw SQL.
MAX_VERTICES = 64

FORWARD = f"""
CREATE FUNCTION cartography_subdivide_territory() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM cartography_territorypart WHERE territory_id = NEW.id;
    INSERT INTO cartography_territorypart (territory_id, geom)
    SELECT NEW.id, d.geom
    FROM ST_Subdivide(NEW.geom, {MAX_VERTICES}) AS s(geom), ST_Dump(ST_CollectionExtract(s.geom, 3)) AS d;
    RETURN NULL;
END $$;
CREATE TRIGGER territory_subdivide AFTER INSERT OR UPDATE OF geom ON cartography_territory
    FOR EACH ROW EXECUTE FUNCTION cartography_subdivide_territory();

CREATE FUNCTION cartography_subdivide_district() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM cartography_districtpart WHERE district_id = NEW.id;
    INSERT INTO cartography_districtpart (district_id, territory_id, layer, geom)
    SELECT NEW.id, NEW.territory_id, NEW.layer, d.geom
    FROM ST_Subdivide(NEW.geom, {MAX_VERTICES}) AS s(geom), ST_Dump(ST_CollectionExtract(s.geom, 3)) AS d;
    RETURN NULL;
END $$;
CREATE TRIGGER district_subdivide AFTER INSERT OR UPDATE OF geom, territory_id, layer ON cartography_district
    FOR EACH ROW EXECUTE FUNCTION cartography_subdivide_district();

CREATE FUNCTION cartography_subdivide_workzone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM cartography_workzonepart WHERE work_zone_id = NEW.id;
    INSERT INTO cartography_workzonepart (work_zone_id, area, geom)
    SELECT NEW.id, ST_Area(NEW.geom::geography), d.geom
    FROM ST_Subdivide(NEW.geom, {MAX_VERTICES}) AS s(geom), ST_Dump(ST_CollectionExtract(s.geom, 3)) AS d;
    RETURN NULL;
END $$;
CREATE TRIGGER workzone_subdivide AFTER INSERT OR UPDATE OF geom ON cartography_workzone
    FOR EACH ROW EXECUTE FUNCTION cartography_subdivide_workzone();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS territory_subdivide ON cartography_territory;
DROP TRIGGER IF EXISTS district_subdivide ON cartography_district;
DROP TRIGGER IF EXISTS workzone_subdivide ON cartography_workzone;
DROP FUNCTION IF EXISTS cartography_subdivide_territory();
DROP FUNCTION IF EXISTS cartography_subdivide_district();
DROP FUNCTION IF EXISTS cartography_subdivide_workzone();
"""


class Migration(migrations.Migration):
    dependencies = [("cartography", "0002_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
