"""The public map's districts and cells from tables of counts, not from a scan of the reports.

`publicmap_district_month` holds the number of reports per district, category, status, month of
creation and month of last change (months of the site's time zone, TIME_ZONE when this migration
ran: the filters' first days are local midnights); `publicmap_cell_month` the same per cell of the
grids of zooms 13 to 15 (8 x 8 cells a tile) instead of the district. Statement-level triggers with
transition tables keep both exact in the transaction of the write: one GROUP BY over the rows a
statement touched, whatever their number (the bulk loader's INSERT ... SELECT of a range of rows
runs them once a range). A count that falls to zero stays, a row of zero (a deletion would cost a
scan of the table on every write). The index on `updated_at` lets the map count the rows of a
filter's partial month ("resolved in the last N days" starts in the middle of one) from the
reports themselves. Changing TIME_ZONE later needs the tables rebuilt (this migration backwards and
forwards)."""

from django.conf import settings
from django.db import migrations

ZONE = settings.TIME_ZONE.replace("'", "")
WORLD = 20037508.342789244  # as cartography.publicmap.selectors.WORLD
CELL_LEVELS = "(16), (17), (18)"  # the cells of zooms 13 to 15: 8 × 8 a tile

DIMENSIONS = f"""
    district_id, category_id, status,
    date_trunc('month', created_at AT TIME ZONE '{ZONE}')::date,
    date_trunc('month', updated_at AT TIME ZONE '{ZONE}')::date
"""

# Counts per cell of the grids of zooms 13 to 15 (the tile's cells at each: see
# cartography.publicmap.selectors, CELLS_PER_TILE), category, status and months, of a set of rows;
# `sign` "-" to take them away. {{rows}} and {{sign}} are filled below.
CELLS_OF = f"""
    l.level, floor((ST_X(r.p) + {WORLD}) / (2 * {WORLD} / 2 ^ l.level))::int,
    floor((ST_Y(r.p) + {WORLD}) / (2 * {WORLD} / 2 ^ l.level))::int,
    r.category_id, r.status, r.cm, r.um, {{sign}}count(*)
      FROM (SELECT ST_Transform(location, 3857) AS p, category_id, status,
                   date_trunc('month', created_at AT TIME ZONE '{ZONE}')::date AS cm,
                   date_trunc('month', updated_at AT TIME ZONE '{ZONE}')::date AS um
              FROM {{rows}}) r
     CROSS JOIN (VALUES {CELL_LEVELS}) AS l(level)
     GROUP BY 1, 2, 3, 4, 5, 6, 7 ORDER BY 1, 2, 3, 4, 5, 6, 7
"""

FORWARD = f"""
CREATE TABLE publicmap_district_month (
    district_id bigint NOT NULL,
    category_id bigint NOT NULL,
    status varchar(20) NOT NULL,
    created_month date NOT NULL,
    updated_month date NOT NULL,
    n bigint NOT NULL,
    PRIMARY KEY (district_id, category_id, status, created_month, updated_month)
);

INSERT INTO publicmap_district_month
SELECT {DIMENSIONS}, count(*) FROM signalements_signalement
 WHERE district_id IS NOT NULL GROUP BY 1, 2, 3, 4, 5;

CREATE FUNCTION publicmap_district_month_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Sorted, so that concurrent statements lock the rows of the counts in one order.
    IF TG_OP = 'INSERT' THEN
        INSERT INTO publicmap_district_month AS m
        SELECT {DIMENSIONS}, count(*) FROM publicmap_new
         WHERE district_id IS NOT NULL GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
        ON CONFLICT (district_id, category_id, status, created_month, updated_month)
        DO UPDATE SET n = m.n + EXCLUDED.n;
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        INSERT INTO publicmap_district_month AS m
        SELECT {DIMENSIONS}, -count(*) FROM publicmap_old
         WHERE district_id IS NOT NULL GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
        ON CONFLICT (district_id, category_id, status, created_month, updated_month)
        DO UPDATE SET n = m.n + EXCLUDED.n;
    ELSE
        INSERT INTO publicmap_district_month AS m
        SELECT d, c, s, cm, um, sum(n) FROM (
            SELECT {DIMENSIONS}, 1 FROM publicmap_new WHERE district_id IS NOT NULL
            UNION ALL
            SELECT {DIMENSIONS}, -1 FROM publicmap_old WHERE district_id IS NOT NULL
        ) AS changes(d, c, s, cm, um, n)
         GROUP BY 1, 2, 3, 4, 5 HAVING sum(n) <> 0 ORDER BY 1, 2, 3, 4, 5
        ON CONFLICT (district_id, category_id, status, created_month, updated_month)
        DO UPDATE SET n = m.n + EXCLUDED.n;
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION publicmap_district_month_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE publicmap_district_month, publicmap_cell_month;
    RETURN NULL;
END $$;

CREATE TRIGGER publicmap_district_month_insert AFTER INSERT ON signalements_signalement
    REFERENCING NEW TABLE AS publicmap_new
    FOR EACH STATEMENT EXECUTE FUNCTION publicmap_district_month_apply();
CREATE TRIGGER publicmap_district_month_update AFTER UPDATE ON signalements_signalement
    REFERENCING OLD TABLE AS publicmap_old NEW TABLE AS publicmap_new
    FOR EACH STATEMENT EXECUTE FUNCTION publicmap_district_month_apply();
CREATE TRIGGER publicmap_district_month_delete AFTER DELETE ON signalements_signalement
    REFERENCING OLD TABLE AS publicmap_old
    FOR EACH STATEMENT EXECUTE FUNCTION publicmap_district_month_apply();
CREATE TRIGGER publicmap_district_month_truncate AFTER TRUNCATE ON signalements_signalement
    FOR EACH STATEMENT EXECUTE FUNCTION publicmap_district_month_truncate();

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

INSERT INTO publicmap_cell_month
SELECT {CELLS_OF.format(rows="signalements_signalement", sign="")}
;

CREATE FUNCTION publicmap_cell_month_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO publicmap_cell_month AS m
        SELECT {CELLS_OF.format(rows="publicmap_old", sign="-")}
        ON CONFLICT (level, cx, cy, category_id, status, created_month, updated_month)
        DO UPDATE SET n = m.n + EXCLUDED.n;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        INSERT INTO publicmap_cell_month AS m
        SELECT {CELLS_OF.format(rows="publicmap_new", sign="")}
        ON CONFLICT (level, cx, cy, category_id, status, created_month, updated_month)
        DO UPDATE SET n = m.n + EXCLUDED.n;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER publicmap_cell_month_insert AFTER INSERT ON signalements_signalement
    REFERENCING NEW TABLE AS publicmap_new
    FOR EACH STATEMENT EXECUTE FUNCTION publicmap_cell_month_apply();
CREATE TRIGGER publicmap_cell_month_update AFTER UPDATE ON signalements_signalement
    REFERENCING OLD TABLE AS publicmap_old NEW TABLE AS publicmap_new
    FOR EACH STATEMENT EXECUTE FUNCTION publicmap_cell_month_apply();
CREATE TRIGGER publicmap_cell_month_delete AFTER DELETE ON signalements_signalement
    REFERENCING OLD TABLE AS publicmap_old
    FOR EACH STATEMENT EXECUTE FUNCTION publicmap_cell_month_apply();

-- Fired under session_replication_role = replica too, which the bulk loader sets to skip the
-- foreign keys' row triggers (signalements.bulk.core.SET_BASED_CHECKS_SQL lets such triggers be).
ALTER TABLE signalements_signalement
    ENABLE ALWAYS TRIGGER publicmap_district_month_insert,
    ENABLE ALWAYS TRIGGER publicmap_district_month_update,
    ENABLE ALWAYS TRIGGER publicmap_district_month_delete,
    ENABLE ALWAYS TRIGGER publicmap_district_month_truncate,
    ENABLE ALWAYS TRIGGER publicmap_cell_month_insert,
    ENABLE ALWAYS TRIGGER publicmap_cell_month_update,
    ENABLE ALWAYS TRIGGER publicmap_cell_month_delete;

CREATE INDEX signalement_updated_at ON signalements_signalement (updated_at);
"""

BACKWARD = """
DROP INDEX IF EXISTS signalement_updated_at;
DROP TRIGGER IF EXISTS publicmap_district_month_insert ON signalements_signalement;
DROP TRIGGER IF EXISTS publicmap_district_month_update ON signalements_signalement;
DROP TRIGGER IF EXISTS publicmap_district_month_delete ON signalements_signalement;
DROP TRIGGER IF EXISTS publicmap_district_month_truncate ON signalements_signalement;
DROP FUNCTION IF EXISTS publicmap_district_month_apply();
DROP FUNCTION IF EXISTS publicmap_district_month_truncate();
DROP TABLE IF EXISTS publicmap_district_month;
DROP TRIGGER IF EXISTS publicmap_cell_month_insert ON signalements_signalement;
DROP TRIGGER IF EXISTS publicmap_cell_month_update ON signalements_signalement;
DROP TRIGGER IF EXISTS publicmap_cell_month_delete ON signalements_signalement;
DROP FUNCTION IF EXISTS publicmap_cell_month_apply();
DROP TABLE IF EXISTS publicmap_cell_month;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("cartography", "0014_district_population"),
        ("signalements", "0028_search_word_columns"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
