from django.core.management.base import BaseCommand, CommandError

from cartography.models import Territory
from cartography.planning.services import ANALYSES, analysis_run


class Command(BaseCommand):
    help = "Recompute the planners' analyses now (what the Celery beat jobs do), for one or every territory."

    def add_arguments(self, parser):
        parser.add_argument("--territory", help="slug of the territory (default: every territory)")
        parser.add_argument(
            "--only", choices=sorted(ANALYSES), action="append", help="one analysis (repeatable)"
        )

    def handle(self, *args, **options):
        territories = Territory.objects.order_by("slug")
        if options["territory"]:
            territories = territories.filter(slug=options["territory"])
            if not territories.exists():
                known = ", ".join(Territory.objects.values_list("slug", flat=True)) or "none"
                raise CommandError(f"no territory {options['territory']!r} (known: {known})")
        for territory in territories:
            for kind in options["only"] or list(ANALYSES):
                run = analysis_run(territory=territory, kind=kind)
                seconds = (run.finished_at - run.started_at).total_seconds()
                self.stdout.write(f"{territory.slug}: {kind}, {run.rows} row(s) in {seconds:.1f} s")
