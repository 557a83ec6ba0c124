import re

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from cartography.models import Territory
from signalements.deadlines import public_holidays_load


def years_parse(text: str) -> range:
    match = re.fullmatch(r"(\d{4})(?:-(\d{4}))?", text.strip())
    if match is None:
        raise CommandError(f"--years: expected YYYY or YYYY-YYYY, got {text!r}")
    first = int(match[1])
    last = int(match[2] or first)
    if last < first or last - first > 50:
        raise CommandError(f"--years: {text!r} is not a range of at most 50 years")
    return range(first, last + 1)


class Command(BaseCommand):
    help = (
        "Load a territory's public holidays from the holidays library (country and optional "
        "subdivision), for a range of years. Running it again gives the same rows; days typed in "
        "the admin are kept. The yearly beat job then tops up the next year."
    )

    def add_arguments(self, parser):
        parser.add_argument("--territory", required=True, help="territory slug")
        parser.add_argument("--country", required=True, help="ISO 3166-1 alpha-2 code, e.g. BE, FR")
        parser.add_argument("--subdivision", default="", help="e.g. BE: BRU, VLG, WAL; FR: 57, 67, 68")
        parser.add_argument("--years", help="YYYY or YYYY-YYYY (default: this year and the next two)")

    def handle(self, *args, **options):
        territory = Territory.objects.filter(slug=options["territory"]).first()
        if territory is None:
            known = ", ".join(Territory.objects.values_list("slug", flat=True)) or "none"
            raise CommandError(f"no territory {options['territory']!r} (known: {known})")
        this_year = timezone.localdate().year
        years = years_parse(options["years"]) if options["years"] else range(this_year, this_year + 3)
        try:
            count = public_holidays_load(
                territory=territory,
                country=options["country"],
                subdivision=options["subdivision"],
                years=years,
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(
            f"{count} public holidays for {territory.slug} ({options['country'].upper()}"
            f"{'-' + options['subdivision'] if options['subdivision'] else ''}), {years[0]}–{years[-1]}"
        )
