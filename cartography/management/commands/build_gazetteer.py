from django.core.management.base import BaseCommand, CommandError

from cartography.models import Territory
from cartography.services import places_rebuild


class Command(BaseCommand):
    help = "Fill the local geocoder of a territory from its districts and the streets named in its reports."

    def add_arguments(self, parser):
        parser.add_argument("--territory", required=True)

    def handle(self, *args, **options):
        territory = Territory.objects.filter(slug=options["territory"]).first()
        if territory is None:
            raise CommandError(f"no territory {options['territory']!r}")
        self.stdout.write(f"{places_rebuild(territory=territory)} named places for {territory.slug}")
