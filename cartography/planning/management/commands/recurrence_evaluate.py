from django.core.management.base import BaseCommand, CommandError

from cartography.models import Territory
from cartography.planning.models import Season
from cartography.planning.recurrence import TOP_AREA_SHARE, recurrence_evaluate, territory_cell_count
from signalements.models import Category


class Command(BaseCommand):
    help = (
        "Judge the recurring places of a category and season on a held-out last season: hit rate and "
        "prediction accuracy index of the top 5 % of the area, against last season's counts alone."
    )

    def add_arguments(self, parser):
        parser.add_argument("--territory", help="territory slug (default: the only one)")
        parser.add_argument("--category", action="append", help="category slug (repeat; default: all)")
        parser.add_argument("--season", action="append", choices=Season.values, help="default: all")
        parser.add_argument("--held-out", type=int, help="season year held out (default: the last one)")
        parser.add_argument("--top-share", type=float, default=TOP_AREA_SHARE)

    def handle(self, *args, **options):
        territories = Territory.objects.all()
        if options["territory"]:
            territories = territories.filter(slug=options["territory"])
        if territories.count() != 1:
            raise CommandError("name one territory with --territory")
        territory = territories.get()
        categories = Category.objects.order_by("slug")
        if options["category"]:
            categories = categories.filter(slug__in=options["category"])
            if not categories:
                raise CommandError(f"no category {options['category']!r}")
        area_cells = territory_cell_count(territory)
        self.stdout.write(
            "category\tseason\theld_out\ttraining\treports\ttop_cells/area_cells\t"
            "hit_rate\tPAI\tnaive_hit_rate\tnaive_PAI\trecurring_places"
        )
        for category in categories:
            for season in options["season"] or Season.values:
                result = recurrence_evaluate(
                    territory=territory,
                    category_id=category.pk,
                    season=season,
                    held_out_year=options["held_out"],
                    top_share=options["top_share"],
                    area_cells=area_cells,
                )
                if result is None:
                    continue
                naive = (
                    f"{result.naive_hit_rate:.3f}\t{result.naive_pai:.2f}"
                    if result.naive_hit_rate is not None
                    else "-\t-"
                )
                self.stdout.write(
                    f"{result.category}\t{season}\t{result.held_out_year}\t"
                    f"{','.join(map(str, result.training_years)) or '-'}\t{result.held_out_reports}\t"
                    f"{result.top_cells}/{result.area_cells}\t{result.hit_rate:.3f}\t{result.pai:.2f}\t"
                    f"{naive}\t{result.recurring_places}"
                )
