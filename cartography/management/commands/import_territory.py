from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from cartography.importing import BoundaryFileError, read_boundaries
from cartography.models import DEFAULT_DISTRICT_LAYER, Territory


class Command(BaseCommand):
    help = "Create or update a territory from a boundary file (all its features are merged)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--slug", required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument(
            "--name-field", default=None, help="any text field of the file (default: first one)"
        )
        parser.add_argument("--code", default="", help="official code, e.g. a NIS or INSEE code")
        parser.add_argument("--locating-layer", default=DEFAULT_DISTRICT_LAYER)

    def handle(self, *args, **options):
        from django.contrib.gis.gdal import DataSource, GDALException

        name_field = options["name_field"]
        if name_field is None:
            try:
                fields = DataSource(options["file"])[0].fields
            except GDALException as exc:
                raise CommandError(f"{options['file']}: GDAL cannot open this file ({exc})") from exc
            if not fields:
                raise CommandError(f"{options['file']}: the file has no attribute field")
            name_field = fields[0]
        try:
            boundaries, errors = read_boundaries(options["file"], name_field=name_field)
        except BoundaryFileError as exc:
            raise CommandError(str(exc)) from exc
        if errors:
            for error in errors:
                self.stderr.write(f"{options['file']}: {error}")
            raise CommandError(f"{len(errors)} bad feature(s), territory not loaded")
        if not boundaries:
            raise CommandError(f"{options['file']}: no polygon in this file")
        geom = boundaries[0].geom
        for boundary in boundaries[1:]:
            geom = geom.union(boundary.geom)
        if geom.geom_type == "Polygon":
            from django.contrib.gis.geos import MultiPolygon

            geom = MultiPolygon(geom, srid=4326)
        with transaction.atomic():
            territory, created = Territory.objects.update_or_create(
                slug=options["slug"],
                defaults={
                    "name": options["name"],
                    "geom": geom,
                    "code": options["code"],
                    "locating_layer": options["locating_layer"],
                },
            )
        self.stdout.write(
            self.style.SUCCESS(f"territory {territory.slug} {'created' if created else 'updated'}")
        )
