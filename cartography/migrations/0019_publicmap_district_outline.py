"""The districts' outlines of the public map's low zooms, stored per tile: below zoom 13 a tile spans
whole districts, and clipping and encoding their boundaries at each request was most of an uncached
tile (8 ms of a z10 tile of Liège, for a read of 0.3 ms stored).

A row per district and tile of zooms 0 to 12 that it crosses: its outline clipped to the tile (and
the tiles' buffer) in the tile's units, as ST_AsMVTGeom gives it. The function that computes them
and the triggers on the districts that keep them are declared in cartography.publicmap.database;
installed after migrate, they fill the table for the districts already there.

Back: the table goes, with the function and the triggers."""

from django.db import migrations

FORWARD = """
CREATE TABLE publicmap_district_outline (
    z smallint NOT NULL,
    x integer NOT NULL,
    y integer NOT NULL,
    district_id bigint NOT NULL,
    geom geometry NOT NULL,
    PRIMARY KEY (z, x, y, district_id)
);
CREATE INDEX publicmap_district_outline_district ON publicmap_district_outline (district_id);
"""

BACKWARD = """
DROP FUNCTION IF EXISTS publicmap_district_outline_apply() CASCADE;
DROP FUNCTION IF EXISTS publicmap_district_outlines(bigint[]);
DROP TABLE publicmap_district_outline;
"""


class Migration(migrations.Migration):
    dependencies = [("cartography", "0018_publicmap_counts_appended")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
