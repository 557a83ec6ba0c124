from django.core.management.base import BaseCommand, CommandError

from cartography.models import LocateCell
from cartography.services import locate_cells_refresh


class Command(BaseCommand):
    help = (
        "Build the locate cells again (after a failed build, or --force): one report is then located "
        "by one probe of them instead of the rules."
    )

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="build them even if they are fresh")

    def handle(self, *args, **options):
        if not locate_cells_refresh(force=options["force"]):
            raise CommandError(
                "the locate cells could not be built: see the database log; locating uses the rules"
            )
        self.stdout.write(f"{LocateCell.objects.count()} locate cells, fresh")
