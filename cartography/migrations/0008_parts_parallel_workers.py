# The subdivided part tables are a few hundred kilobytes: below min_parallel_table_scan_size, the
# planner would never share them out among workers. Set-based locating (bulk loads, relocation)
# joins each part to the points in its box, and two workers halve that (cartography.selectors).
from django.db import migrations

TABLES = ("cartography_districtpart", "cartography_workzonepart")


class Migration(migrations.Migration):
    dependencies = [("cartography", "0007_territory_relocation_requested_at")]

    operations = [
        migrations.RunSQL(
            [f"ALTER TABLE {table} SET (parallel_workers = 2)" for table in TABLES],
            [f"ALTER TABLE {table} RESET (parallel_workers)" for table in TABLES],
        )
    ]
