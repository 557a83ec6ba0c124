"""Cartography's tables as migrations 0001 to 0014 left them (0002 and 0011 aside), in one step.

Schema only: the functions and triggers that the old migrations created are declared in
cartography.database and installed after every migrate. Columns keep the order and the database
defaults the old chain gave them, so that a new database and an old one have the same schema.

The tables that need signalements' (work zones' categories, the public map's counts) are in 0002:
signalements' first migration needs Territory, District and Team, so one migration cannot hold both.
Every database must have applied the old 0001 to 0015 before this replaces them; their files are
gone, and so is the way back to one of them."""

import django.contrib.gis.db.models.fields
import django.contrib.postgres.fields
import django.contrib.postgres.indexes
import django.db.models.deletion
from django.conf import settings
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

# Set by the old chain's raw SQL (0006, 0011); the functions insert every column anyway.
DATABASE_DEFAULTS = [
    "ALTER TABLE cartography_districtpart ALTER COLUMN locating SET DEFAULT false",
    "ALTER TABLE cartography_workzonepart ALTER COLUMN category_ids SET DEFAULT '{}'",
    "ALTER TABLE cartography_locatecellsstate"
    " ALTER COLUMN everywhere SET DEFAULT true, ALTER COLUMN territory_ids SET DEFAULT '{}'",
]
# The subdivided tables and the cells are a few hundred kilobytes, below
# min_parallel_table_scan_size: without this the planner never shares a set-based locate (bulk
# load, relocation) out among two workers (cartography.selectors).
PARALLEL_TABLES = ("cartography_districtpart", "cartography_workzonepart", "cartography_locatecell")
# The cells of an empty map are up to date: no territory, no cell. An edit marks them stale.
CELLS_STATE = "INSERT INTO cartography_locatecellsstate (id, stale, everywhere, territory_ids) VALUES (1, false, false, '{}')"


class Migration(migrations.Migration):
    initial = True

    replaces = [
        ("cartography", "0001_initial"),
        ("cartography", "0003_subdivision_triggers"),
        ("cartography", "0004_team_members"),
        ("cartography", "0005_place"),
        ("cartography", "0006_locate_without_joins"),
        ("cartography", "0007_territory_relocation_requested_at"),
        ("cartography", "0008_parts_parallel_workers"),
        ("cartography", "0009_locate_cells"),
        ("cartography", "0010_locate_cells_parallel_workers"),
        ("cartography", "0012_field_labels"),
        ("cartography", "0013_place_address_kind"),
        ("cartography", "0014_district_population"),
    ]

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        TrigramExtension(),
        migrations.CreateModel(
            name="Territory",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("slug", models.SlugField(unique=True, verbose_name="identifiant")),
                ("name", models.CharField(max_length=200, verbose_name="nom")),
                ("code", models.CharField(blank=True, max_length=50, verbose_name="code officiel")),
                ("geom", django.contrib.gis.db.models.fields.MultiPolygonField(srid=4326, verbose_name="limite")),
                ("locating_layer", models.SlugField(default="districts", help_text="Couche de découpage dont le quartier est enregistré sur chaque signalement.", verbose_name="couche des quartiers")),
                ("relocation_requested_at", models.DateTimeField(blank=True, editable=False, help_text="Une limite ou une zone de travail a changé depuis : les signalements de ce territoire attendent d'être relocalisés.", null=True, verbose_name="relocalisation demandée le")),
            ],
            options={
                "verbose_name": "territoire",
                "verbose_name_plural": "territoires",
                "ordering": ["name"],
            },
        ),
        migrations.CreateModel(
            name="District",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("layer", models.SlugField(default="districts", verbose_name="couche")),
                ("name", models.CharField(max_length=200, verbose_name="nom")),
                ("code", models.CharField(max_length=50, verbose_name="code")),
                ("geom", django.contrib.gis.db.models.fields.MultiPolygonField(srid=4326, verbose_name="limite")),
                ("territory", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="districts", to="cartography.territory", verbose_name="territoire")),
                ("population", models.PositiveIntegerField(blank=True, null=True, verbose_name="habitants")),
            ],
            options={
                "verbose_name": "quartier",
                "verbose_name_plural": "quartiers",
                "ordering": ["territory", "layer", "name"],
                "constraints": [models.UniqueConstraint(fields=("territory", "layer", "code"), name="district_unique_code")],
            },
        ),
        migrations.CreateModel(
            name="Team",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("slug", models.SlugField(unique=True, verbose_name="identifiant")),
                ("name", models.CharField(max_length=200, verbose_name="nom")),
                ("public_phone", models.CharField(blank=True, max_length=40, verbose_name="téléphone public")),
                ("public_email", models.EmailField(blank=True, max_length=254, verbose_name="e-mail public")),
                ("depot", django.contrib.gis.db.models.fields.PointField(blank=True, null=True, srid=4326, verbose_name="dépôt")),
                ("is_active", models.BooleanField(default=True, verbose_name="active")),
                ("territory", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="teams", to="cartography.territory", verbose_name="territoire")),
                ("members", models.ManyToManyField(blank=True, related_name="teams", to=settings.AUTH_USER_MODEL, verbose_name="membres")),
            ],
            options={
                "verbose_name": "équipe",
                "verbose_name_plural": "équipes",
                "ordering": ["name"],
            },
        ),
        migrations.CreateModel(
            name="WorkZone",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=200, verbose_name="nom")),
                ("geom", django.contrib.gis.db.models.fields.MultiPolygonField(srid=4326, verbose_name="zone")),
                ("priority", models.SmallIntegerField(default=0, verbose_name="priorité")),
                ("team", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="work_zones", to="cartography.team", verbose_name="équipe")),
            ],
            options={
                "verbose_name": "zone de travail",
                "verbose_name_plural": "zones de travail",
                "ordering": ["team", "name"],
            },
        ),
        migrations.CreateModel(
            name="Place",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("kind", models.CharField(choices=[("street", "rue"), ("place", "lieu"), ("district", "quartier"), ("address", "adresse")], max_length=10)),
                ("name", models.CharField(max_length=200, verbose_name="nom")),
                ("search_name", models.CharField(max_length=200)),
                ("point", django.contrib.gis.db.models.fields.PointField(srid=4326)),
                ("source", models.CharField(blank=True, max_length=50)),
                ("territory", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="places", to="cartography.territory")),
            ],
            options={
                "verbose_name": "lieu nommé",
                "verbose_name_plural": "lieux nommés",
                "indexes": [django.contrib.postgres.indexes.GinIndex(fields=["search_name"], name="place_name_trgm", opclasses=["gin_trgm_ops"])],
                "constraints": [models.UniqueConstraint(fields=("territory", "kind", "search_name"), name="place_unique_name")],
            },
        ),
        migrations.CreateModel(
            name="TerritoryPart",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("geom", django.contrib.gis.db.models.fields.PolygonField(srid=4326)),
                ("territory", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to="cartography.territory")),
            ],
            options={
                "default_permissions": (),
            },
        ),
        migrations.CreateModel(
            name="DistrictPart",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("layer", models.SlugField()),
                ("geom", django.contrib.gis.db.models.fields.PolygonField(srid=4326)),
                ("district", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to="cartography.district")),
                ("territory", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to="cartography.territory")),
                ("locating", models.BooleanField(default=False)),
            ],
            options={
                "default_permissions": (),
                "indexes": [django.contrib.postgres.indexes.GistIndex(condition=models.Q(("locating", True)), fields=["geom"], name="districtpart_locating_gist")],
            },
        ),
        migrations.CreateModel(
            name="WorkZonePart",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("area", models.FloatField(help_text="Area of the whole zone in m², for precedence.")),
                ("geom", django.contrib.gis.db.models.fields.PolygonField(srid=4326)),
                ("work_zone", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to="cartography.workzone")),
                ("team", models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name="+", to="cartography.team")),
                ("priority", models.SmallIntegerField()),
                ("team_active", models.BooleanField()),
                ("category_ids", django.contrib.postgres.fields.ArrayField(base_field=models.BigIntegerField(), default=list, size=None)),
            ],
            options={
                "default_permissions": (),
            },
        ),
        migrations.CreateModel(
            name="LocateCellsState",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("stale", models.BooleanField()),
                ("everywhere", models.BooleanField(default=True)),
                ("territory_ids", django.contrib.postgres.fields.ArrayField(base_field=models.BigIntegerField(), default=list, size=None)),
            ],
            options={
                "default_permissions": (),
            },
        ),
        migrations.CreateModel(
            name="LocateCell",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("category_ids", django.contrib.postgres.fields.ArrayField(base_field=models.BigIntegerField(), size=None)),
                ("team_ids", django.contrib.postgres.fields.ArrayField(base_field=models.BigIntegerField(null=True), size=None)),
                ("geom", django.contrib.gis.db.models.fields.PolygonField(srid=4326)),
                ("catch_all_team", models.ForeignKey(db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name="+", to="cartography.team")),
                ("district", models.ForeignKey(db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name="+", to="cartography.district")),
                ("territory", models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name="+", to="cartography.territory")),
            ],
            options={
                "default_permissions": (),
            },
        ),
        migrations.RunSQL(
            DATABASE_DEFAULTS,
            [
                "ALTER TABLE cartography_districtpart ALTER COLUMN locating DROP DEFAULT",
                "ALTER TABLE cartography_workzonepart ALTER COLUMN category_ids DROP DEFAULT",
                "ALTER TABLE cartography_locatecellsstate"
                " ALTER COLUMN everywhere DROP DEFAULT, ALTER COLUMN territory_ids DROP DEFAULT",
            ],
        ),
        migrations.RunSQL(
            [f"ALTER TABLE {table} SET (parallel_workers = 2)" for table in PARALLEL_TABLES],
            [f"ALTER TABLE {table} RESET (parallel_workers)" for table in PARALLEL_TABLES],
        ),
        migrations.RunSQL(CELLS_STATE, "DELETE FROM cartography_locatecellsstate WHERE id = 1"),
    ]
