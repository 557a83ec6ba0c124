"""What cartography keeps beside or on signalements' tables, as migrations 0002, 0011 and 0015 left
it: the work zones' categories, the public map's tables of counts and the reports' index on
`updated_at` that the map reads (cartography.publicmap.selectors).

Schema only: the triggers that keep the counts (cartography.publicmap.database) and the locating
rules (cartography.database) are installed after every migrate. This migration replaces the three
old ones that depended on signalements, so that no migration of signalements has to wait for it;
cartography's own tables are in 0001."""

from django.db import migrations, models

PUBLIC_MAP_TABLES = """
CREATE TABLE publicmap_district_month (
    district_id bigint NOT NULL,
    category_id bigint NOT NULL,
    status varchar(20) NOT NULL,
    created_month date NOT NULL,
    updated_month date NOT NULL,
    n bigint NOT NULL,
    PRIMARY KEY (district_id, category_id, status, created_month, updated_month)
);
CREATE TABLE publicmap_cell_month (
    level smallint NOT NULL,
    cx integer NOT NULL,
    cy integer NOT NULL,
    category_id bigint NOT NULL,
    status varchar(20) NOT NULL,
    created_month date NOT NULL,
    updated_month date NOT NULL,
    n bigint NOT NULL,
    PRIMARY KEY (level, cx, cy, category_id, status, created_month, updated_month)
);
CREATE INDEX signalement_updated_at ON signalements_signalement (updated_at);
"""
# Back without the tables, the reports stay writable: the count triggers that cartography.publicmap
# .database installed go with their functions (CASCADE). Forward again, the tables start empty.
BACKWARD = """
DROP FUNCTION IF EXISTS publicmap_district_month_apply(), publicmap_cell_month_apply(),
    publicmap_district_month_truncate() CASCADE;
DROP INDEX signalement_updated_at;
DROP TABLE publicmap_cell_month;
DROP TABLE publicmap_district_month;
"""


class Migration(migrations.Migration):
    initial = True

    replaces = [
        ("cartography", "0002_initial"),
        ("cartography", "0011_locate_cells_by_territory"),
        ("cartography", "0015_publicmap_district_months"),
    ]

    dependencies = [
        ("cartography", "0001_squashed_schema"),
        ("signalements", "0001_squashed_0028_schema"),
    ]

    operations = [
        migrations.AddField(
            model_name="workzone",
            name="categories",
            field=models.ManyToManyField(blank=True, related_name="work_zones", to="signalements.category", verbose_name="catégories"),
        ),
        migrations.RunSQL(PUBLIC_MAP_TABLES, BACKWARD),
    ]
