from datetime import date

from django.core.management.base import BaseCommand, CommandError

from cartography.models import Territory
from cartography.planning.digest import early_warning_digest
from cartography.planning.early_warning import REPLICAS
from cartography.planning.models import EarlyWarningCluster
from cartography.planning.services import early_warning_scan


class Command(BaseCommand):
    help = (
        "Run the early-warning space-time scan of a territory up to a day and list its clusters "
        "(`planning_compute --only early_warning` runs it as the beat job does, up to yesterday)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--territory", help="territory slug (default: every territory)")
        parser.add_argument(
            "--end-date", type=date.fromisoformat, help="last day scanned (default: yesterday)"
        )
        parser.add_argument("--replicas", type=int, default=REPLICAS)
        parser.add_argument("--digest", action="store_true", help="then e-mail the planners the new clusters")

    def handle(self, *args, **options):
        territories = Territory.objects.all()
        if options["territory"]:
            territories = territories.filter(slug=options["territory"])
            if not territories:
                raise CommandError(f"no territory {options['territory']!r}")
        for territory in territories:
            run = early_warning_scan(
                territory=territory, end_date=options["end_date"], replicas=options["replicas"]
            )
            self.stdout.write(f"{territory.slug}: {run.rows} cluster(s) to {run.parameters['end_date']}")
            for c in EarlyWarningCluster.objects.filter(run=run).select_related("category", "district"):
                self.stdout.write(
                    f"  {c.category.slug}\t{c.district.name if c.district else '-'}\t"
                    f"{c.start_date}..{c.end_date}\t{c.radius_m:.0f} m\t{c.observed} for {c.expected:.2f}\t"
                    f"p={c.p_value:.3f}\t{c.centre.y:.5f},{c.centre.x:.5f}"
                )
        if options["digest"]:
            self.stdout.write(f"{early_warning_digest()} digest e-mail(s) sent")
