import json

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.text import slugify

from cartography.importing import BoundaryFileError, read_boundaries
from cartography.models import DEFAULT_DISTRICT_LAYER, District, Territory
from cartography.services import territory_relocate


class Command(BaseCommand):
    help = (
        "Load district boundaries (GeoJSON, shapefile or any GDAL format) into a territory. "
        "Districts are matched on their code: a re-import updates boundaries, then reports are located again."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--territory", required=True, help="slug of the territory")
        parser.add_argument(
            "--name-field",
            required=True,
            help="field naming each feature; several, comma-separated, are tried in order",
        )
        parser.add_argument("--code-field", help="unique code per feature (default: the name)")
        parser.add_argument(
            "--population-field",
            help="residents of each feature, for rates per 1,000 residents (a re-import without it "
            "keeps the populations already loaded)",
        )
        parser.add_argument(
            "--layer",
            default=DEFAULT_DISTRICT_LAYER,
            help="layer name, e.g. 'districts' or 'sectors' (default: %(default)s)",
        )
        parser.add_argument("--layer-name", help="the layer's name shown to planners, e.g. 'Quartiers'")
        parser.add_argument("--names", help="JSON file {code: display name} overriding names from the file")
        parser.add_argument("--title-case", action="store_true", help="turn UPPER-CASE names into Title Case")
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help="load the good features even when some are bad (they are listed)",
        )

    def handle(self, *args, **options):
        try:
            territory = Territory.objects.get(slug=options["territory"])
        except Territory.DoesNotExist as exc:
            known = ", ".join(Territory.objects.values_list("slug", flat=True)) or "none yet"
            raise CommandError(
                f"no territory {options['territory']!r} (known: {known}); load it with import_territory first"
            ) from exc
        try:
            boundaries, errors = read_boundaries(
                options["file"],
                name_field=options["name_field"],
                code_field=options["code_field"],
                population_field=options["population_field"],
            )
        except BoundaryFileError as exc:
            raise CommandError(str(exc)) from exc
        for error in errors:
            self.stderr.write(f"{options['file']}: {error}")
        if errors and not options["skip_invalid"]:
            raise CommandError(
                f"{len(errors)} bad feature(s), nothing loaded (use --skip-invalid to load the rest)"
            )
        names = {}
        if options["names"]:
            try:
                with open(options["names"], encoding="utf-8") as handle:
                    names = json.load(handle)
            except (OSError, ValueError) as exc:
                raise CommandError(f"{options['names']}: cannot read the names file ({exc})") from exc
        layer = slugify(options["layer"])
        created = updated = 0
        with transaction.atomic():
            for boundary in boundaries:
                name = names.get(boundary.code) or (
                    boundary.name.title() if options["title_case"] else boundary.name
                )
                values = {"name": name, "geom": boundary.geom}
                if options["population_field"]:
                    values["population"] = boundary.population
                _, was_created = District.objects.update_or_create(
                    territory=territory, layer=layer, code=boundary.code, defaults=values
                )
                created += was_created
                updated += not was_created
            if options["layer_name"]:
                territory.layer_names = {**territory.layer_names, layer: options["layer_name"].strip()}
                territory.save(update_fields=["layer_names"])
            # In the import's transaction, without the broker: the reports are located again with
            # the new boundaries, and a relocation still pending from the admin is settled too.
            moved = territory_relocate(territory_id=territory.pk) if layer == territory.locating_layer else 0
        self.stdout.write(
            self.style.SUCCESS(
                f"{territory.slug}/{layer}: {created} created, {updated} updated, {len(errors)} rejected; "
                f"{moved} report(s) located again"
            )
        )
