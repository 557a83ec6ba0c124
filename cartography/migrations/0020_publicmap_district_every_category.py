"""The districts' tables of counts also count each key over every category, under category_id 0
(cartography.publicmap.database, EVERY_CATEGORY): a view of every category, the map's default one,
reads a few hundred of those rows rather than thousands per category. Their reads have an index
of their own, partial: the rows per category, most of the table, are not in it.

The rows themselves are made by the functions installed after migrate, which also make them again
from the rows per category (AFTER_INSTALL). Back: the indexes go, and the rows of every category,
which an older reading of the tables would add to the others."""

from django.db import migrations

FORWARD = """
CREATE INDEX publicmap_district_month_every ON publicmap_district_month (status, updated_month)
 WHERE category_id = 0;
CREATE INDEX publicmap_district_day_every ON publicmap_district_day (updated_day, district_id)
 WHERE category_id = 0;
"""

BACKWARD = """
DROP INDEX publicmap_district_month_every;
DROP INDEX publicmap_district_day_every;
DELETE FROM publicmap_district_month WHERE category_id = 0;
DELETE FROM publicmap_district_day WHERE category_id = 0;
"""


class Migration(migrations.Migration):
    dependencies = [("cartography", "0019_publicmap_district_outline")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
