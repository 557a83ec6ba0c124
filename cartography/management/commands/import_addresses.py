from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cartography.addresses import FORMATS, AddressFileError, addresses_read, mapping_parse
from cartography.models import Territory
from cartography.services import places_import_addresses


class Command(BaseCommand):
    help = (
        "Load a city's open address register (BeST, BAN or any CSV) into the local geocoder: one place "
        "per street, and with --numbers one per address. A second run replaces the first; a bad row "
        "stops the import before anything is written."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV file, optionally gzipped (.csv.gz); comma or semicolon")
        parser.add_argument("--territory", required=True, help="slug of the territory")
        parser.add_argument(
            "--format", choices=sorted(FORMATS), help="column names of a published register: best or ban"
        )
        parser.add_argument(
            "--map",
            default="",
            help="columns, as street=...,number=...,postcode=...,city=...,lon=...,lat=... (WGS84); "
            "overrides --format field by field; col1|col2 takes the first non-empty one",
        )
        parser.add_argument("--numbers", action="store_true", help="also load every house number")

    def handle(self, *args, **options):
        territory = Territory.objects.filter(slug=options["territory"]).first()
        if territory is None:
            raise CommandError(f"no territory {options['territory']!r}")
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"no file {path}")
        try:
            mapping = FORMATS.get(options["format"] or "", {}) | mapping_parse(options["map"])
            result = places_import_addresses(
                territory=territory, rows=addresses_read(path, mapping), numbers=options["numbers"]
            )
        except AddressFileError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{result.streets} streets and {result.addresses} addresses for {territory.slug}"
            + (f" ({result.outside} rows outside the territory skipped)" if result.outside else "")
        )
