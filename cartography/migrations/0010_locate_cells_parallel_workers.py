# As the part tables (0008): a bulk load joins the cells to its points, shared out among two workers.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("cartography", "0009_locate_cells")]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE cartography_locatecell SET (parallel_workers = 2)",
            "ALTER TABLE cartography_locatecell RESET (parallel_workers)",
        )
    ]
