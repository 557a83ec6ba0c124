"""The public map's counts per day of the recently resolved reports: "resolved in the last N days"
starts in the middle of a month, and the counts of that partial month come from these tables rather
than from the reports (tens of thousands of rows read at a million reports).

The tables hold the reports resolved or closed whose last change is within the last 100 days, per
district or per cell of the grids of zooms 13 to 15, category, status, month of creation and day of
last change (in the site's time zone, as the monthly counts); indexes that let a tile read the
counts of its cells. The triggers that keep them are declared in cartography.publicmap.database and
installed after migrate; this migration fills them once."""

from django.conf import settings
from django.db import migrations

ZONE = settings.TIME_ZONE.replace("'", "")
WORLD = 20037508.342789244
CELL_LEVELS = "(16), (17), (18)"
DAYS_KEPT = 100
RECENTLY_RESOLVED = f"""
    status IN ('resolved', 'closed')
    AND (updated_at AT TIME ZONE '{ZONE}')::date >= (now() AT TIME ZONE '{ZONE}')::date - {DAYS_KEPT}
"""
CREATED_MONTH = f"date_trunc('month', created_at AT TIME ZONE '{ZONE}')::date"
UPDATED_DAY = f"(updated_at AT TIME ZONE '{ZONE}')::date"

FORWARD = f"""
CREATE TABLE publicmap_district_day (
    updated_day date NOT NULL,
    district_id bigint NOT NULL,
    category_id bigint NOT NULL,
    status varchar(20) NOT NULL,
    created_month date NOT NULL,
    n bigint NOT NULL,
    PRIMARY KEY (updated_day, district_id, category_id, status, created_month)
);
INSERT INTO publicmap_district_day
SELECT {UPDATED_DAY}, district_id, category_id, status, {CREATED_MONTH}, count(*)
  FROM signalements_signalement
 WHERE district_id IS NOT NULL AND {RECENTLY_RESOLVED}
 GROUP BY 1, 2, 3, 4, 5;

CREATE TABLE publicmap_cell_day (
    level smallint NOT NULL,
    cx integer NOT NULL,
    cy integer NOT NULL,
    updated_day date NOT NULL,
    category_id bigint NOT NULL,
    status varchar(20) NOT NULL,
    created_month date NOT NULL,
    n bigint NOT NULL,
    PRIMARY KEY (level, cx, cy, updated_day, category_id, status, created_month)
);
INSERT INTO publicmap_cell_day
SELECT l.level, floor((ST_X(r.p) + {WORLD}) / (2 * {WORLD} / 2 ^ l.level))::int,
       floor((ST_Y(r.p) + {WORLD}) / (2 * {WORLD} / 2 ^ l.level))::int,
       r.updated_day, r.category_id, r.status, r.created_month, count(*)
  FROM (SELECT ST_Transform(location, 3857) AS p, {UPDATED_DAY} AS updated_day, category_id, status,
               {CREATED_MONTH} AS created_month
          FROM signalements_signalement WHERE {RECENTLY_RESOLVED}) r
 CROSS JOIN (VALUES {CELL_LEVELS}) AS l(level)
 GROUP BY 1, 2, 3, 4, 5, 6, 7;

-- A tile reads the counts of its cells by these indexes, not by the primary keys: with the filters'
-- categories and statuses in the index conditions, a scan of the primary key descends it once per
-- combination of category, status and column of cells (hundreds), and that of the monthly counts
-- reads every month of every report resolved long ago.
CREATE INDEX publicmap_cell_day_tile ON publicmap_cell_day (level, cx, cy, updated_day);
CREATE INDEX publicmap_cell_month_open ON publicmap_cell_month (level, status, cx, cy);
CREATE INDEX publicmap_cell_month_resolved ON publicmap_cell_month (level, updated_month, cx, cy);
CREATE INDEX publicmap_district_month_stage ON publicmap_district_month (status, updated_month);
"""

# The triggers and functions that cartography.publicmap.database installs for these tables.
BACKWARD = """
DROP TRIGGER IF EXISTS publicmap_district_day_insert ON signalements_signalement;
DROP TRIGGER IF EXISTS publicmap_district_day_update ON signalements_signalement;
DROP TRIGGER IF EXISTS publicmap_district_day_delete ON signalements_signalement;
DROP TRIGGER IF EXISTS publicmap_cell_day_insert ON signalements_signalement;
DROP TRIGGER IF EXISTS publicmap_cell_day_update ON signalements_signalement;
DROP TRIGGER IF EXISTS publicmap_cell_day_delete ON signalements_signalement;
DROP TRIGGER IF EXISTS publicmap_day_counts_truncate ON signalements_signalement;
DROP FUNCTION IF EXISTS publicmap_district_day_apply();
DROP FUNCTION IF EXISTS publicmap_cell_day_apply();
DROP FUNCTION IF EXISTS publicmap_day_counts_truncate();
DROP FUNCTION IF EXISTS publicmap_days_forget();
DROP INDEX IF EXISTS publicmap_cell_month_open;
DROP INDEX IF EXISTS publicmap_cell_month_resolved;
DROP INDEX IF EXISTS publicmap_district_month_stage;
DROP TABLE IF EXISTS publicmap_district_day;
DROP TABLE IF EXISTS publicmap_cell_day;
"""


class Migration(migrations.Migration):
    dependencies = [("cartography", "0002_squashed_schema_on_signalements")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
