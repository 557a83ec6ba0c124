# A tracking token is now the report's reference and a secret compared in constant time: the
# unique index on whole tokens goes. Stored tokens become the secrets of their reports, so links
# sent before this migration (the token alone) no longer open; the platform was not released.

import django.db.models.functions.comparison
import django.db.models.functions.text
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("signalements", "0018_open_reports_indexes"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="signalement",
            name="signalement_unique_tracking_token",
        ),
        migrations.RenameField(
            model_name="signalement",
            old_name="tracking_token",
            new_name="tracking_secret",
        ),
        migrations.AlterField(
            model_name="signalement",
            name="tracking_secret",
            field=models.CharField(
                db_default=django.db.models.functions.text.Replace(
                    django.db.models.functions.comparison.Cast(
                        models.Func(function="gen_random_uuid", output_field=models.UUIDField()),
                        models.TextField(),
                    ),
                    models.Value("-"),
                    models.Value(""),
                ),
                editable=False,
                max_length=64,
            ),
        ),
    ]
