"""python manage.py hotspot_report --category feuilles-mortes --season autumn --out report.html"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.http import QueryDict

from ...forms import PlanningFilterForm, selection_query
from ...models import Season
from ...report import report_html


class Command(BaseCommand):
    help = (
        "Write the planners' standalone folium report (district choropleth, hotspot classes, recurring "
        "places, early-warning clusters) of one category and season, from the precomputed analyses."
    )

    def add_arguments(self, parser):
        parser.add_argument("--category", help="category slug (default: every category)")
        parser.add_argument("--group", help="category group slug, when no category is given")
        parser.add_argument("--season", required=True, help=f"one of {', '.join(Season.values)}")
        parser.add_argument("--territory", help="territory slug (default: the first one)")
        parser.add_argument("--layer", help="district layer (default: the territory's locating layer)")
        parser.add_argument("--year", type=int, action="append", dest="years", help="year(s); default: all")
        parser.add_argument("--measure", default="per_km2", help="per_km2, per_1000 or count")
        parser.add_argument("--out", required=True, help="the HTML file to write")

    def handle(self, *args, **options):
        query = QueryDict(mutable=True)
        for name in ("category", "group", "season", "territory", "layer", "measure"):
            if options.get(name):
                query[name] = options[name]
        if options.get("years"):
            query.setlist("years", [str(y) for y in options["years"]])
        form = PlanningFilterForm(query)
        if options.get("territory") and form.territory.slug != options["territory"]:
            raise CommandError(f"Unknown territory: {options['territory']}")
        if not form.is_valid():
            problems = "; ".join(f"--{name}: {' '.join(errors)}" for name, errors in form.errors.items())
            raise CommandError(f"Bad arguments: {problems}")
        selection = form.selection()
        if selection is None:
            raise CommandError("No territory is loaded.")
        out = Path(options["out"])
        out.write_text(report_html(selection), encoding="utf-8")
        self.stdout.write(f"Report of {selection_query(selection)} written to {out}")
