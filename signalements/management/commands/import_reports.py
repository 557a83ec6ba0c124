import csv

from django.core.management.base import BaseCommand, CommandError

from signalements.bulk import signalements_bulk_load
from signalements.importing import Mapping, MappingError, Rejected, read_reports

SHOWN = 20


class Command(BaseCommand):
    help = (
        "Load reports in bulk from a CSV (optionally .gz) or GeoJSON file through a JSON mapping of columns, "
        "categories and channels. Rows that do not fit are counted and listed, never dropped silently; "
        "loading the same file again adds nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--mapping", required=True, help="JSON mapping file (see fixtures/paris/)")
        parser.add_argument("--rejects", help="write every rejected row number and reason to this CSV file")

    def handle(self, *args, **options):
        try:
            mapping = Mapping.load(options["mapping"])
            rows, rejected = read_reports(options["file"], mapping)
        except (MappingError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        result = signalements_bulk_load(rows, source=mapping.source)
        rejected += [Rejected(row, "point outside every territory") for row in result.outside]
        rejected.sort(key=lambda r: r.row)
        for item in rejected[:SHOWN]:
            self.stderr.write(f"{options['file']}: {item}")
        if len(rejected) > SHOWN:
            self.stderr.write(
                f"… and {len(rejected) - SHOWN} more rejected row(s)"
                + ("" if options["rejects"] else " (use --rejects FILE for the full list)")
            )
        if options["rejects"]:
            with open(options["rejects"], "w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(["row", "reason"])
                writer.writerows((item.row, item.reason) for item in rejected)
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.inserted} report(s) loaded, {result.already_loaded} already present, "
                f"{len(rejected)} rejected ({len(result.outside)} outside the territory)"
            )
        )
