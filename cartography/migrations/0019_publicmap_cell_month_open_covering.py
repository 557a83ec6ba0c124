"""The index by which a tile reads the open reports' cells (and, over many years, the resolved
ones) carries the columns the read filters on and adds up: an index-only scan, without visiting the
table's pages, where the rows of a tile's cells are scattered among every other cell's (appended
as the reports came). A z13 tile of ten years at 1M reports read 38,000 rows on 11,800 pages: 38 →
20 ms p95 (benchmarks/results/FINDINGS.md, public map counts)."""

from django.db import migrations

FORWARD = """
DROP INDEX publicmap_cell_month_open;
CREATE INDEX publicmap_cell_month_open ON publicmap_cell_month (level, status, cx, cy)
    INCLUDE (category_id, created_month, updated_month, n);
"""
BACKWARD = """
DROP INDEX publicmap_cell_month_open;
CREATE INDEX publicmap_cell_month_open ON publicmap_cell_month (level, status, cx, cy);
"""


class Migration(migrations.Migration):
    dependencies = [("cartography", "0018_publicmap_counts_appended")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
