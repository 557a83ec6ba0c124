"""The reports' tables as migrations 0001 to 0028 left them, in one step (generated from the models,
with the columns in the order the old chain gave them).

Schema only: the history's triggers (signalements.history) are installed after every migrate, and
0021's backfill of public texts had rows to fill only in databases that have long applied it.
Every database must have applied the old 0001 to 0028 before this replaces them; their files are
gone, and so is the way back to one of them."""

import django.contrib.gis.db.models.fields
import django.contrib.gis.db.models.functions
import django.contrib.postgres.indexes
import django.contrib.postgres.operations
import django.contrib.postgres.search
import django.db.models.deletion
import django.db.models.functions.comparison
import django.db.models.functions.datetime
import django.db.models.functions.text
import signalements.models.photo
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    replaces = [('signalements', '0001_initial'), ('signalements', '0002_append_only_history'), ('signalements', '0003_reportercontact_language_and_more'), ('signalements', '0004_address_defaults'), ('signalements', '0005_desk'), ('signalements', '0006_work_list_positions'), ('signalements', '0007_lighter_indexes'), ('signalements', '0008_open_deadline_index'), ('signalements', '0009_one_spatial_index'), ('signalements', '0010_duplicate_group_signature_hash'), ('signalements', '0011_holidays_per_territory'), ('signalements', '0012_merge_notifications'), ('signalements', '0013_response_template_placeholders'), ('signalements', '0014_open_reports_spatial_index'), ('signalements', '0015_crew_updates'), ('signalements', '0016_open_reports_index_by_category'), ('signalements', '0017_bulk_load_friendlier_keys'), ('signalements', '0018_open_reports_indexes'), ('signalements', '0019_tracking_token_split'), ('signalements', '0020_field_labels'), ('signalements', '0021_moderation'), ('signalements', '0022_idempotency_scope'), ('signalements', '0023_history_refuse_delete'), ('signalements', '0024_retention'), ('signalements', '0025_email_confirmation'), ('signalements', '0026_crew_cannot_reason'), ('signalements', '0027_queue_search'), ('signalements', '0028_search_word_columns')]

    initial = True

    dependencies = [
        ('cartography', '0001_squashed_schema'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunSQL(
            sql='CREATE SEQUENCE IF NOT EXISTS signalements_reference_seq',
            reverse_sql='DROP SEQUENCE IF EXISTS signalements_reference_seq',
        ),
        django.contrib.postgres.operations.BtreeGistExtension(
        ),
        migrations.CreateModel(
            name='CategoryGroup',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('slug', models.SlugField(unique=True, verbose_name='identifiant')),
                ('name', models.CharField(max_length=120, verbose_name='nom')),
                ('name_fr', models.CharField(max_length=120, null=True, verbose_name='nom')),
                ('name_en', models.CharField(max_length=120, null=True, verbose_name='nom')),
                ('name_nl', models.CharField(max_length=120, null=True, verbose_name='nom')),
                ('position', models.PositiveSmallIntegerField(default=0, verbose_name='ordre')),
            ],
            options={
                'verbose_name': 'groupe de catégories',
                'verbose_name_plural': 'groupes de catégories',
                'ordering': ['position', 'slug'],
            },
        ),
        migrations.CreateModel(
            name='Category',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('slug', models.SlugField(unique=True, verbose_name='identifiant')),
                ('name', models.CharField(max_length=120, verbose_name='nom')),
                ('name_fr', models.CharField(max_length=120, null=True, verbose_name='nom')),
                ('name_en', models.CharField(max_length=120, null=True, verbose_name='nom')),
                ('name_nl', models.CharField(max_length=120, null=True, verbose_name='nom')),
                ('hint', models.TextField(blank=True, verbose_name='conseil affiché au citoyen')),
                ('hint_fr', models.TextField(blank=True, null=True, verbose_name='conseil affiché au citoyen')),
                ('hint_en', models.TextField(blank=True, null=True, verbose_name='conseil affiché au citoyen')),
                ('hint_nl', models.TextField(blank=True, null=True, verbose_name='conseil affiché au citoyen')),
                ('duplicate_radius_m', models.PositiveIntegerField(default=50, verbose_name='rayon des doublons (m)')),
                ('duplicate_window_days', models.PositiveIntegerField(default=30, verbose_name='fenêtre des doublons (jours)')),
                ('deadline_days', models.PositiveSmallIntegerField(default=10, verbose_name='délai de traitement (jours ouvrables)')),
                ('is_sensitive', models.BooleanField(default=False, help_text='Jamais montré sur la carte publique ni dans les exports.', verbose_name='sensible')),
                ('is_active', models.BooleanField(default=True, verbose_name='active')),
                ('position', models.PositiveSmallIntegerField(default=0, verbose_name='ordre')),
                ('default_team', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='default_for_categories', to='cartography.team', verbose_name='équipe par défaut')),
                ('group', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='categories', to='signalements.categorygroup', verbose_name='groupe')),
            ],
            options={
                'verbose_name': 'catégorie',
                'verbose_name_plural': 'catégories',
                'ordering': ['group__position', 'position', 'slug'],
            },
        ),
        migrations.CreateModel(
            name='PublicHoliday',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('date', models.DateField(verbose_name='date')),
                ('name', models.CharField(max_length=120, verbose_name='nom')),
                ('country', models.CharField(blank=True, default='', help_text='Code ISO 3166-1 du calendrier importé ; vide pour un jour saisi à la main.', max_length=2, verbose_name='pays')),
                ('subdivision', models.CharField(blank=True, default='', max_length=10, verbose_name='subdivision')),
                ('territory', models.ForeignKey(blank=True, help_text='Vide : le jour est férié dans tous les territoires.', null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='cartography.territory', verbose_name='territoire')),
            ],
            options={
                'verbose_name': 'jour férié',
                'verbose_name_plural': 'jours fériés',
                'ordering': ['date'],
            },
        ),
        migrations.CreateModel(
            name='ResponseTemplate',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('title', models.CharField(max_length=120, verbose_name='titre')),
                ('text', models.TextField(help_text="Ces champs sont remplacés à l'insertion dans la réponse : {reference} (référence du signalement), {category} (catégorie), {status} (statut actuel), {address} (adresse), {district} (quartier), {team} (équipe responsable), {team_phone} (téléphone public de l'équipe), {team_email} (e-mail public de l'équipe).", verbose_name='texte')),
                ('status', models.CharField(blank=True, choices=[('new', 'Nouveau'), ('acknowledged', 'Pris en compte'), ('planned', 'Planifié'), ('in_progress', 'En cours'), ('resolved', 'Résolu'), ('closed', 'Clôturé'), ('rejected', 'Refusé'), ('duplicate', 'Doublon')], help_text='Proposé pour un signalement dans ce statut ou qui peut y passer ; vide : toujours.', max_length=20, verbose_name='statut')),
                ('category', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='response_templates', to='signalements.category', verbose_name='catégorie')),
            ],
            options={
                'verbose_name': 'modèle de réponse',
                'verbose_name_plural': 'modèles de réponse',
                'ordering': ['title'],
            },
        ),
        migrations.CreateModel(
            name='Signalement',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('reference', models.CharField(db_default=django.db.models.functions.text.Concat(models.Value('S'), models.Func(models.Func(models.Value('signalements_reference_seq'), function='nextval', output_field=models.BigIntegerField()), models.Value('FM999999999990000000'), function='to_char', output_field=models.TextField())), editable=False, max_length=20, verbose_name='référence')),
                ('location', django.contrib.gis.db.models.fields.PointField(spatial_index=False, srid=4326, verbose_name='lieu')),
                ('location_metric', models.GeneratedField(db_persist=True, expression=django.contrib.gis.db.models.functions.Transform('location', 3035), output_field=django.contrib.gis.db.models.fields.PointField(spatial_index=False, srid=3035), verbose_name='lieu (coordonnées métriques)')),
                ('address', models.CharField(blank=True, db_default='', default='', max_length=300, verbose_name='adresse')),
                ('team_is_manual', models.BooleanField(default=False, help_text="Une équipe choisie par un agent n'est pas recalculée quand les zones changent.", verbose_name='équipe choisie à la main')),
                ('status', models.CharField(choices=[('new', 'Nouveau'), ('acknowledged', 'Pris en compte'), ('planned', 'Planifié'), ('in_progress', 'En cours'), ('resolved', 'Résolu'), ('closed', 'Clôturé'), ('rejected', 'Refusé'), ('duplicate', 'Doublon')], db_default='new', default='new', max_length=20, verbose_name='statut')),
                ('priority', models.CharField(choices=[('low', 'Basse'), ('normal', 'Normale'), ('high', 'Haute'), ('urgent', 'Urgente')], db_default='normal', default='normal', max_length=10, verbose_name='priorité')),
                ('channel', models.CharField(choices=[('web', 'Site web'), ('app', 'Application mobile'), ('api', 'API'), ('phone', 'Téléphone'), ('email', 'E-mail'), ('counter', 'Guichet'), ('back_office', 'Agent de la ville'), ('import', 'Import')], default='web', max_length=20, verbose_name='canal')),
                ('description', models.TextField(blank=True, verbose_name='description')),
                ('support_count', models.PositiveIntegerField(db_default=0, default=0, verbose_name='soutiens')),
                ('tracking_secret', models.CharField(db_default=django.db.models.functions.text.Replace(django.db.models.functions.comparison.Cast(models.Func(function='gen_random_uuid', output_field=models.UUIDField()), models.TextField()), models.Value('-'), models.Value('')), editable=False, max_length=64, verbose_name='secret de suivi')),
                ('idempotency_key', models.CharField(blank=True, editable=False, max_length=128, null=True, verbose_name="clé d'idempotence")),
                ('source', models.CharField(blank=True, db_default='', default='', max_length=50, verbose_name="source d'import")),
                ('external_id', models.CharField(blank=True, max_length=100, null=True, verbose_name='identifiant externe')),
                ('created_at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now(), db_index=True, verbose_name='créé le')),
                ('updated_at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now(), verbose_name='modifié le')),
                ('processed_at', models.DateTimeField(blank=True, editable=False, help_text='Quand le traitement en arrière-plan (vignettes des photos) a tourné ; un balayage périodique relance ceux qui attendent.', null=True, verbose_name='traité le')),
                ('category', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='signalements', to='signalements.category', verbose_name='catégorie')),
                ('district', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='cartography.district', verbose_name='quartier')),
                ('duplicate_of', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='duplicates', to='signalements.signalement', verbose_name='doublon de')),
                ('team', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='signalements', to='cartography.team', verbose_name='équipe')),
                ('territory', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='cartography.territory', verbose_name='territoire')),
                ('location_is_approximate', models.BooleanField(db_default=False, default=False, verbose_name='lieu approximatif')),
                ('place_description', models.CharField(blank=True, db_default='', default='', help_text="Donnée par le citoyen quand il n'a pas placé le point lui-même.", max_length=300, verbose_name='description du lieu')),
                ('deadline_at', models.DateTimeField(blank=True, null=True, verbose_name='échéance')),
                ('status_open', models.GeneratedField(db_persist=True, expression=models.Q(('status__in', ('new', 'acknowledged', 'planned', 'in_progress'))), output_field=models.BooleanField(), verbose_name='ouvert')),
                ('description_moderation', models.CharField(choices=[('published', 'Publié'), ('flagged', 'Coordonnées masquées, à revoir'), ('pending', 'En attente de modération'), ('approved', 'Approuvé'), ('redacted', 'Modifié par la modération'), ('hidden', 'Masqué par la modération')], db_default='published', default='published', max_length=10, verbose_name='modération de la description')),
                ('public_description', models.TextField(blank=True, db_default='', default='', verbose_name='description publique')),
                ('idempotency_fingerprint', models.CharField(blank=True, db_default='', default='', editable=False, max_length=64, verbose_name='empreinte de la soumission')),
                ('idempotency_scope', models.CharField(blank=True, db_default='', default='', editable=False, max_length=64, verbose_name="portée de la clé d'idempotence")),
                ('anonymised_at', models.DateTimeField(blank=True, editable=False, null=True, verbose_name='anonymisé le')),
            ],
            options={
                'verbose_name': 'signalement',
                'verbose_name_plural': 'signalements',
                'ordering': ['-created_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='CrewUpdate',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('outcome', models.CharField(blank=True, choices=[('start', 'je commence'), ('done', 'fait'), ('cannot', 'impossible à faire')], max_length=10)),
                ('note', models.TextField(blank=True)),
                ('status', models.CharField(choices=[('new', 'Nouveau'), ('acknowledged', 'Pris en compte'), ('planned', 'Planifié'), ('in_progress', 'En cours'), ('resolved', 'Résolu'), ('closed', 'Clôturé'), ('rejected', 'Refusé'), ('duplicate', 'Doublon')], max_length=20)),
                ('idempotency_key', models.CharField(blank=True, editable=False, max_length=128, null=True)),
                ('created_at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now())),
                ('author', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('signalement', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='crew_updates', to='signalements.signalement')),
                ('team', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='cartography.team')),
                ('cannot_reason', models.CharField(blank=True, choices=[('parked', 'Un véhicule est garé dessus'), ('equipment', 'Il faut un autre matériel ou une autre équipe'), ('not_found', 'Rien trouvé à cet endroit'), ('private', 'Terrain privé'), ('danger', 'Dangereux : il faut une signalisation ou la police'), ('other', 'Autre raison (précisez dans la note)')], default='', max_length=20, verbose_name='raison')),
            ],
            options={
                'verbose_name': 'mise à jour de terrain',
                'verbose_name_plural': 'mises à jour de terrain',
                'ordering': ['created_at', 'id'],
            },
        ),
        migrations.AddField(
            model_name='signalement',
            name='crew_return',
            field=models.ForeignKey(blank=True, db_index=False, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='signalements.crewupdate', verbose_name="renvoyé par l'équipe"),
        ),
        migrations.AddField(
            model_name='signalement',
            name='private_words',
            field=models.GeneratedField(db_persist=True, expression=django.contrib.postgres.search.SearchVector('description', config='simple'), output_field=django.contrib.postgres.search.SearchVectorField(), verbose_name='mots de la description'),
        ),
        migrations.AddField(
            model_name='signalement',
            name='public_words',
            field=models.GeneratedField(db_persist=True, expression=django.contrib.postgres.search.SearchVector('address', 'public_description', config='simple'), output_field=django.contrib.postgres.search.SearchVectorField(), verbose_name="mots de l'adresse et de la description publique"),
        ),
        migrations.CreateModel(
            name='Satisfaction',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('solved', models.BooleanField(verbose_name='problème résolu')),
                ('rating', models.PositiveSmallIntegerField(verbose_name='note')),
                ('text', models.TextField(blank=True, verbose_name='commentaire')),
                ('created_at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now())),
                ('signalement', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='satisfaction', to='signalements.signalement')),
            ],
            options={
                'verbose_name': 'avis',
                'verbose_name_plural': 'avis',
            },
        ),
        migrations.CreateModel(
            name='ReporterContact',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(blank=True, max_length=200, verbose_name='nom')),
                ('email', models.EmailField(blank=True, db_index=True, max_length=254, verbose_name='e-mail')),
                ('phone', models.CharField(blank=True, db_index=True, max_length=40, verbose_name='téléphone')),
                ('show_name', models.BooleanField(default=False, verbose_name='nom visible publiquement')),
                ('wants_updates', models.BooleanField(default=True, verbose_name='reçoit les mises à jour')),
                ('anonymised_at', models.DateTimeField(blank=True, null=True, verbose_name='anonymisé le')),
                ('signalement', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='reporter', to='signalements.signalement', verbose_name='signalement')),
                ('language', models.CharField(default='fr', max_length=8, verbose_name='langue')),
                ('email_confirmed_at', models.DateTimeField(blank=True, null=True, verbose_name='e-mail confirmé le')),
            ],
            options={
                'verbose_name': 'coordonnées du déclarant',
                'verbose_name_plural': 'coordonnées des déclarants',
            },
        ),
        migrations.CreateModel(
            name='Photo',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('image', models.ImageField(upload_to=signalements.models.photo.photo_path, verbose_name='image')),
                ('thumbnail', models.ImageField(blank=True, upload_to=signalements.models.photo.photo_path, verbose_name='vignette')),
                ('is_public', models.BooleanField(default=True, verbose_name='publique')),
                ('created_at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now(), verbose_name='ajoutée le')),
                ('signalement', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='photos', to='signalements.signalement', verbose_name='signalement')),
                ('moderation', models.CharField(choices=[('published', 'Publié'), ('flagged', 'Coordonnées masquées, à revoir'), ('pending', 'En attente de modération'), ('approved', 'Approuvé'), ('redacted', 'Modifié par la modération'), ('hidden', 'Masqué par la modération')], db_default='published', default='published', max_length=10, verbose_name='modération')),
            ],
            options={
                'verbose_name': 'photo',
                'verbose_name_plural': 'photos',
                'ordering': ['created_at', 'id'],
            },
        ),
        migrations.CreateModel(
            name='DuplicateGroup',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('state', models.CharField(choices=[('proposed', 'Proposé'), ('merged', 'Fusionné'), ('dismissed', 'Écarté')], default='proposed', max_length=20)),
                ('signature', models.CharField(max_length=64, unique=True)),
                ('created_at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now())),
                ('category', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='signalements.category')),
                ('members', models.ManyToManyField(related_name='duplicate_groups', to='signalements.signalement')),
            ],
            options={
                'verbose_name': 'groupe de doublons',
                'verbose_name_plural': 'groupes de doublons',
                'ordering': ['-created_at'],
            },
        ),
        migrations.CreateModel(
            name='DuplicateCandidate',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('distance_m', models.FloatField()),
                ('candidate', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='signalements.signalement')),
                ('signalement', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='duplicate_candidates', to='signalements.signalement')),
            ],
        ),
        migrations.CreateModel(
            name='Comment',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('from_citizen', models.BooleanField(default=False)),
                ('is_internal', models.BooleanField(default=False, verbose_name='note interne')),
                ('text', models.TextField(verbose_name='message')),
                ('created_at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now())),
                ('author', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('signalement', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='comments', to='signalements.signalement')),
                ('moderation', models.CharField(choices=[('published', 'Publié'), ('flagged', 'Coordonnées masquées, à revoir'), ('pending', 'En attente de modération'), ('approved', 'Approuvé'), ('redacted', 'Modifié par la modération'), ('hidden', 'Masqué par la modération')], db_default='published', default='published', max_length=10, verbose_name='modération')),
                ('public_text', models.TextField(blank=True, db_default='', default='', verbose_name='message public')),
            ],
            options={
                'verbose_name': 'commentaire',
                'verbose_name_plural': 'commentaires',
                'ordering': ['created_at', 'id'],
            },
        ),
        migrations.CreateModel(
            name='StatusChange',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('from_status', models.CharField(blank=True, choices=[('new', 'Nouveau'), ('acknowledged', 'Pris en compte'), ('planned', 'Planifié'), ('in_progress', 'En cours'), ('resolved', 'Résolu'), ('closed', 'Clôturé'), ('rejected', 'Refusé'), ('duplicate', 'Doublon')], max_length=20, verbose_name='ancien statut')),
                ('to_status', models.CharField(choices=[('new', 'Nouveau'), ('acknowledged', 'Pris en compte'), ('planned', 'Planifié'), ('in_progress', 'En cours'), ('resolved', 'Résolu'), ('closed', 'Clôturé'), ('rejected', 'Refusé'), ('duplicate', 'Doublon')], max_length=20, verbose_name='nouveau statut')),
                ('text', models.TextField(blank=True, verbose_name='message')),
                ('is_public', models.BooleanField(default=True, verbose_name='public')),
                ('created_at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now(), verbose_name='date')),
                ('author', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='auteur')),
                ('signalement', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='history', to='signalements.signalement', verbose_name='signalement')),
            ],
            options={
                'verbose_name': 'changement de statut',
                'verbose_name_plural': 'historique',
                'ordering': ['created_at', 'id'],
            },
        ),
        migrations.CreateModel(
            name='Notification',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('submitted', 'Signalement reçu'), ('status', 'Changement de statut'), ('reply', 'Réponse publique'), ('merged', 'Fusionné dans un autre signalement'), ('unmerged', 'Fusion annulée'), ('confirm', "Confirmation de l'adresse e-mail")], max_length=20)),
                ('recipient', models.EmailField(max_length=254)),
                ('language', models.CharField(default='fr', max_length=8)),
                ('created_at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now())),
                ('sent_at', models.DateTimeField(blank=True, null=True)),
                ('comment', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='signalements.comment')),
                ('signalement', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='notifications', to='signalements.signalement')),
                ('status_change', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='signalements.statuschange')),
            ],
        ),
        migrations.CreateModel(
            name='Support',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('email', models.EmailField(blank=True, max_length=254, verbose_name='e-mail')),
                ('wants_updates', models.BooleanField(default=True, verbose_name='reçoit les mises à jour')),
                ('language', models.CharField(default='fr', max_length=8, verbose_name='langue')),
                ('supporter_key', models.CharField(max_length=64)),
                ('unsubscribe_token', models.CharField(db_default=django.db.models.functions.text.Replace(django.db.models.functions.comparison.Cast(models.Func(function='gen_random_uuid', output_field=models.UUIDField()), models.TextField()), models.Value('-'), models.Value('')), editable=False, max_length=64)),
                ('created_at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now())),
                ('signalement', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='supports', to='signalements.signalement')),
                ('merged_from', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='signalements.signalement')),
                ('email_confirmed_at', models.DateTimeField(blank=True, null=True, verbose_name='e-mail confirmé le')),
            ],
            options={
                'verbose_name': 'soutien',
                'verbose_name_plural': 'soutiens',
            },
        ),
        migrations.CreateModel(
            name='WorkListPosition',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('position', models.PositiveIntegerField()),
                ('signalement', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='signalements.signalement')),
                ('team', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='cartography.team')),
            ],
            options={
                'ordering': ['team', 'position'],
            },
        ),
        migrations.AddConstraint(
            model_name='category',
            constraint=models.CheckConstraint(condition=models.Q(('duplicate_radius_m__lte', 5000)), name='category_radius_bounded'),
        ),
        migrations.AddConstraint(
            model_name='publicholiday',
            constraint=models.UniqueConstraint(condition=models.Q(('territory__isnull', False)), fields=('territory', 'date'), name='holiday_once_per_territory'),
        ),
        migrations.AddConstraint(
            model_name='publicholiday',
            constraint=models.UniqueConstraint(condition=models.Q(('territory__isnull', True)), fields=('date',), name='holiday_once_everywhere'),
        ),
        migrations.AddIndex(
            model_name='signalement',
            index=django.contrib.postgres.indexes.GistIndex(fields=['location_metric'], name='signalement_loc_metric_gist'),
        ),
        migrations.AddIndex(
            model_name='signalement',
            index=django.contrib.postgres.indexes.GistIndex(condition=models.Q(('status_open', True)), fields=['category', 'location_metric'], name='signalement_open_cat_loc_gist'),
        ),
        migrations.AddIndex(
            model_name='signalement',
            index=models.Index(condition=models.Q(('status__in', ('new', 'acknowledged', 'planned', 'in_progress'))), fields=['category', 'status', 'created_at'], name='signalement_open_cat_date'),
        ),
        migrations.AddIndex(
            model_name='signalement',
            index=models.Index(condition=models.Q(('status__in', ('new', 'acknowledged', 'planned', 'in_progress'))), fields=['district', 'status'], name='signalement_open_district'),
        ),
        migrations.AddIndex(
            model_name='signalement',
            index=models.Index(condition=models.Q(('status__in', ('new', 'acknowledged', 'planned', 'in_progress'))), fields=['team', 'status'], name='signalement_open_team'),
        ),
        migrations.AddIndex(
            model_name='signalement',
            index=models.Index(condition=models.Q(('crew_return__isnull', False)), fields=['crew_return'], name='signalement_crew_return'),
        ),
        migrations.AddIndex(
            model_name='signalement',
            index=models.Index(condition=models.Q(('duplicate_of__isnull', False)), fields=['duplicate_of'], name='signalement_duplicates'),
        ),
        migrations.AddIndex(
            model_name='signalement',
            index=models.Index(condition=models.Q(('status__in', ('new', 'acknowledged', 'planned', 'in_progress'))), fields=['deadline_at'], name='signalement_open_deadline'),
        ),
        migrations.AddIndex(
            model_name='signalement',
            index=models.Index(condition=models.Q(('processed_at__isnull', True)), fields=['processed_at'], name='signalement_unprocessed'),
        ),
        migrations.AddIndex(
            model_name='signalement',
            index=models.Index(condition=models.Q(('description_moderation__in', ('flagged', 'pending'))), fields=['created_at'], name='signalement_moderation_due'),
        ),
        migrations.AddIndex(
            model_name='signalement',
            index=django.contrib.postgres.indexes.GinIndex(fields=['public_words'], name='signalement_public_words'),
        ),
        migrations.AddIndex(
            model_name='signalement',
            index=django.contrib.postgres.indexes.GinIndex(fields=['private_words'], name='signalement_private_words'),
        ),
        migrations.AddConstraint(
            model_name='signalement',
            constraint=models.UniqueConstraint(fields=('reference',), name='signalement_unique_reference'),
        ),
        migrations.AddConstraint(
            model_name='signalement',
            constraint=models.UniqueConstraint(condition=models.Q(('idempotency_key__isnull', False)), fields=('idempotency_scope', 'idempotency_key'), name='signalement_unique_scoped_idempotency_key'),
        ),
        migrations.AddConstraint(
            model_name='signalement',
            constraint=models.CheckConstraint(condition=models.Q(('status__in', ['new', 'acknowledged', 'planned', 'in_progress', 'resolved', 'closed', 'rejected', 'duplicate'])), name='signalement_status_valid'),
        ),
        migrations.AddConstraint(
            model_name='signalement',
            constraint=models.CheckConstraint(condition=models.Q(('channel__in', ['web', 'app', 'api', 'phone', 'email', 'counter', 'back_office', 'import'])), name='signalement_channel_valid'),
        ),
        migrations.AddConstraint(
            model_name='signalement',
            constraint=models.CheckConstraint(condition=models.Q(('priority__in', ['low', 'normal', 'high', 'urgent'])), name='signalement_priority_valid'),
        ),
        migrations.AddConstraint(
            model_name='signalement',
            constraint=models.CheckConstraint(condition=models.Q(('description_moderation__in', ['published', 'flagged', 'pending', 'approved', 'redacted', 'hidden'])), name='signalement_description_moderation_valid'),
        ),
        migrations.AddConstraint(
            model_name='signalement',
            constraint=models.UniqueConstraint(condition=models.Q(('external_id__isnull', False)), fields=('source', 'external_id'), name='signalement_unique_external_id'),
        ),
        migrations.AddConstraint(
            model_name='signalement',
            constraint=models.CheckConstraint(condition=models.Q(('duplicate_of', models.F('id')), _negated=True), name='signalement_not_own_duplicate'),
        ),
        migrations.AddConstraint(
            model_name='satisfaction',
            constraint=models.CheckConstraint(condition=models.Q(('rating__gte', 1), ('rating__lte', 5)), name='satisfaction_rating_1_5'),
        ),
        migrations.AddIndex(
            model_name='reportercontact',
            index=models.Index(django.db.models.functions.text.Upper('email'), name='reportercontact_email_upper'),
        ),
        migrations.AddIndex(
            model_name='photo',
            index=models.Index(condition=models.Q(('moderation__in', ('flagged', 'pending'))), fields=['signalement'], name='photo_moderation_due'),
        ),
        migrations.AddConstraint(
            model_name='photo',
            constraint=models.CheckConstraint(condition=models.Q(('moderation__in', ['published', 'flagged', 'pending', 'approved', 'redacted', 'hidden'])), name='photo_moderation_valid'),
        ),
        migrations.AddConstraint(
            model_name='duplicatecandidate',
            constraint=models.UniqueConstraint(fields=('signalement', 'candidate'), name='duplicate_candidate_once'),
        ),
        migrations.AddConstraint(
            model_name='crewupdate',
            constraint=models.UniqueConstraint(condition=models.Q(('idempotency_key__isnull', False)), fields=('idempotency_key',), name='crewupdate_unique_idempotency_key'),
        ),
        migrations.AddConstraint(
            model_name='crewupdate',
            constraint=models.CheckConstraint(condition=models.Q(('outcome__in', ['', 'start', 'done', 'cannot'])), name='crewupdate_outcome_valid'),
        ),
        migrations.AddConstraint(
            model_name='crewupdate',
            constraint=models.CheckConstraint(condition=models.Q(('cannot_reason', ''), models.Q(('cannot_reason__in', ['parked', 'equipment', 'not_found', 'private', 'danger', 'other']), ('outcome', 'cannot')), _connector='OR'), name='crewupdate_cannot_reason_valid'),
        ),
        migrations.AddIndex(
            model_name='comment',
            index=models.Index(condition=models.Q(('moderation__in', ('flagged', 'pending'))), fields=['signalement'], name='comment_moderation_due'),
        ),
        migrations.AddConstraint(
            model_name='comment',
            constraint=models.CheckConstraint(condition=models.Q(('from_citizen', True), ('is_internal', True), _negated=True), name='comment_citizen_never_internal'),
        ),
        migrations.AddConstraint(
            model_name='comment',
            constraint=models.CheckConstraint(condition=models.Q(('moderation__in', ['published', 'flagged', 'pending', 'approved', 'redacted', 'hidden'])), name='comment_moderation_valid'),
        ),
        migrations.AddIndex(
            model_name='statuschange',
            index=models.Index(condition=models.Q(('author__isnull', False)), fields=['author'], name='statuschange_author'),
        ),
        migrations.AddConstraint(
            model_name='statuschange',
            constraint=models.CheckConstraint(condition=models.Q(('to_status__in', ['new', 'acknowledged', 'planned', 'in_progress', 'resolved', 'closed', 'rejected', 'duplicate'])), name='statuschange_to_valid'),
        ),
        migrations.AddIndex(
            model_name='notification',
            index=models.Index(condition=models.Q(('sent_at__isnull', True)), fields=['created_at'], name='notification_pending'),
        ),
        migrations.AddConstraint(
            model_name='notification',
            constraint=models.UniqueConstraint(condition=models.Q(('kind', 'submitted')), fields=('signalement', 'recipient'), name='notification_submitted_once'),
        ),
        migrations.AddConstraint(
            model_name='notification',
            constraint=models.UniqueConstraint(condition=models.Q(('kind', 'confirm')), fields=('signalement', 'recipient'), name='notification_confirm_once'),
        ),
        migrations.AddConstraint(
            model_name='notification',
            constraint=models.UniqueConstraint(fields=('status_change', 'recipient'), name='notification_status_once'),
        ),
        migrations.AddConstraint(
            model_name='notification',
            constraint=models.UniqueConstraint(fields=('comment', 'recipient'), name='notification_reply_once'),
        ),
        migrations.AddConstraint(
            model_name='support',
            constraint=models.UniqueConstraint(fields=('signalement', 'supporter_key'), name='support_once_per_person'),
        ),
        migrations.AddConstraint(
            model_name='support',
            constraint=models.UniqueConstraint(fields=('unsubscribe_token',), name='support_unique_token'),
        ),
        migrations.AddConstraint(
            model_name='worklistposition',
            constraint=models.UniqueConstraint(fields=('team', 'signalement'), name='worklist_position_once'),
        ),
    ]
