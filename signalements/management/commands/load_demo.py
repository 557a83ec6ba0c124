import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import shapely
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.gis.db.models import Union
from django.contrib.gis.geos import MultiPolygon, Point
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from cartography.models import District, Team, Territory, WorkZone
from cartography.services import territory_relocate
from signalements.bulk import BulkRow, signalements_bulk_load
from signalements.demo import response_templates_load, showcase_load
from signalements.models import Category, CategoryGroup, Signalement
from signalements.roles import ADMINISTRATOR, roles_sync
from signalements.synthetic import generate

FIXTURES = Path(settings.BASE_DIR) / "fixtures"
DEMO_PASSWORD = "demo"  # noqa: S105 - demo accounts only, printed in the README


def categories_load(path: Path = FIXTURES / "categories.json") -> int:
    """Create or update the category catalogue (translations included)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    groups = {}
    for position, group in enumerate(data["groups"]):
        groups[group["slug"]], _ = CategoryGroup.objects.update_or_create(
            slug=group["slug"],
            defaults={"position": position, **{f"name_{lang}": text for lang, text in group["name"].items()}},
        )
    for position, item in enumerate(data["categories"]):
        defaults = {
            "group": groups[item["group"]],
            "position": position,
            "duplicate_radius_m": item["radius"],
            "duplicate_window_days": item["window"],
            "deadline_days": item["deadline"],
            "is_sensitive": item.get("sensitive", False),
            **{f"name_{lang}": text for lang, text in item["name"].items()},
            **{f"hint_{lang}": text for lang, text in item.get("hint", {}).items()},
        }
        Category.objects.update_or_create(slug=item["slug"], defaults=defaults)
    return len(data["categories"])


class Command(BaseCommand):
    help = "Load a demo city from fixtures/cities/CITY.json: boundaries, categories, teams, users, reports."

    def add_arguments(self, parser):
        parser.add_argument(
            "--city", default="liege", help="name of a file in fixtures/cities/ (default: liege)"
        )
        parser.add_argument(
            "--reports", type=int, help="number of synthetic reports (overrides the city file)"
        )
        parser.add_argument("--no-reports", action="store_true")

    def handle(self, *args, **options):
        path = FIXTURES / "cities" / f"{options['city']}.json"
        if not path.exists():
            known = ", ".join(p.stem for p in (FIXTURES / "cities").glob("*.json"))
            raise CommandError(f"no city {options['city']!r} (known: {known})")
        city = json.loads(path.read_text(encoding="utf-8"))
        spec = city["territory"]
        call_command(
            "import_territory",
            str(FIXTURES / spec["file"]),
            slug=spec["slug"],
            name=spec["name"],
            code=spec.get("code", ""),
            stdout=self.stdout,
        )
        territory = Territory.objects.get(slug=spec["slug"])
        for layer in city["layers"]:
            extra = {"names": str(FIXTURES / layer["names"])} if "names" in layer else {}
            if "layer_name" in layer:
                extra["layer_name"] = layer["layer_name"]
            call_command(
                "import_districts",
                str(FIXTURES / layer["file"]),
                territory=territory.slug,
                layer=layer["layer"],
                name_field=layer["name_field"],
                code_field=layer["code_field"],
                title_case=layer.get("title_case", False),
                stdout=self.stdout,
                **extra,
            )
        self.stdout.write(f"{categories_load()} categories")
        if "holidays" in city:
            # Before the reports: their deadlines skip these days.
            this_year = timezone.localdate().year
            call_command(
                "load_holidays",
                territory=territory.slug,
                country=city["holidays"]["country"],
                subdivision=city["holidays"].get("subdivision", ""),
                years=f"{this_year - reports_years(city)}-{this_year + 1}",
                stdout=self.stdout,
            )
        with transaction.atomic():
            self.teams_load(territory, city.get("teams", []))
            self.users_load(city.get("users", []))
            moved = territory_relocate(territory_id=territory.pk)
        if moved:
            self.stdout.write(f"{moved} report(s) routed again after the teams changed")
        reports = city.get("reports", {})
        if not options["no_reports"]:
            self.reports_load(territory, reports, options)
            self.showcase_load(city)
        if "addresses" in city:
            call_command(
                "import_addresses",
                str(FIXTURES / city["addresses"]["file"]),
                territory=territory.slug,
                format=city["addresses"].get("format"),
                map=city["addresses"].get("map", ""),
                numbers=True,
                stdout=self.stdout,
            )
        call_command("build_gazetteer", territory=territory.slug, stdout=self.stdout)

    def reports_load(self, territory: Territory, reports: dict, options: dict) -> None:
        if "import" in reports:
            call_command(
                "import_reports",
                str(FIXTURES / reports["import"]),
                mapping=str(FIXTURES / reports["mapping"]),
                stdout=self.stdout,
                stderr=self.stderr,
            )
        else:
            self.reports_generate(
                territory,
                options["reports"] or reports.get("generate", 0),
                years=reports.get("years", 3),
                seed=reports.get("seed", 1),
                centre=reports.get("centre"),
            )

    def showcase_load(self, city: dict) -> None:
        """Replies for the desk and a few reports with photos and a history: only with the reports,
        so that --no-reports stays quick."""
        self.stdout.write(
            f"{response_templates_load(FIXTURES / 'response_templates.json')} response templates added"
        )
        if "showcase" in city:
            created = showcase_load(
                FIXTURES / city["showcase"], agent_username=city.get("showcase_agent", "agent")
            )
            self.stdout.write(f"{created} showcase reports with photos and history added")

    def teams_load(self, territory: Territory, teams: list[dict]) -> None:
        for item in teams:
            team, _ = Team.objects.update_or_create(
                slug=item["slug"],
                defaults={
                    "name": item["name"],
                    "territory": territory,
                    "public_phone": item.get("phone", ""),
                    "public_email": item.get("email", ""),
                    "depot": Point(*item["depot"], srid=4326) if item.get("depot") else None,
                },
            )
            default_for = Category.objects.filter(slug__in=item.get("default_for", []))
            # The first city loaded gives the categories their global fallback team; every city
            # routes its own through a territory-wide zone of lowest priority.
            default_for.filter(default_team__isnull=True).update(default_team=team)
            if default_for:
                whole, _ = WorkZone.objects.update_or_create(
                    team=team,
                    name=f"{territory.name} (par défaut)",
                    defaults={"geom": territory.geom, "priority": -100},
                )
                whole.categories.set(default_for)
            for zone in item.get("zones", []):
                districts = District.objects.filter(
                    territory=territory, layer=territory.locating_layer, code__in=zone["districts"]
                )
                if districts.count() != len(zone["districts"]):
                    raise CommandError(
                        f"team {team.slug}: zone {zone['name']!r} names unknown district codes"
                    )
                geom = districts.aggregate(union=Union("geom"))["union"]
                if geom.geom_type == "Polygon":
                    geom = MultiPolygon(geom, srid=4326)
                work_zone, _ = WorkZone.objects.update_or_create(
                    team=team, name=zone["name"], defaults={"geom": geom, "priority": zone.get("priority", 0)}
                )
                work_zone.categories.set(Category.objects.filter(slug__in=zone.get("categories", [])))
        self.stdout.write(f"{len(teams)} teams")

    def users_load(self, users: list[dict]) -> None:
        groups = roles_sync()
        User = get_user_model()
        admin, created = User.objects.get_or_create(
            username="admin", defaults={"is_staff": True, "is_superuser": True}
        )
        if created:
            admin.set_password(DEMO_PASSWORD)
            admin.save()
        admin.groups.add(groups[ADMINISTRATOR])
        for item in users:
            user, created = User.objects.get_or_create(username=item["username"], defaults={"is_staff": True})
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
            user.groups.add(groups[item["role"]])
            for slug in item.get("teams", []):
                Team.objects.get(slug=slug).members.add(user)
        self.stdout.write(f"{len(users) + 1} demo users (password: {DEMO_PASSWORD!r})")

    def reports_generate(
        self, territory: Territory, count: int, *, years: int, seed: int, centre: tuple[float, float] | None
    ) -> None:
        source = f"demo-{territory.slug}"
        if count <= 0:
            return
        if Signalement.objects.filter(source=source).exists():
            self.stdout.write(f"demo reports already loaded for {territory.slug}")
            return
        end = datetime.now(UTC)
        batch = generate(
            area_wgs84=shapely.from_wkb(bytes(territory.geom.wkb)),
            metric_srid=settings.METRIC_SRID,
            count=count,
            start=end - timedelta(days=365 * years),
            end=end,
            categories=list(Category.objects.values_list("slug", flat=True)),
            now=end,
            seed=seed,
            centre_wgs84=centre,
        )
        result = signalements_bulk_load(synthetic_rows(batch), source=source)
        self.stdout.write(f"{result.inserted} demo reports generated")


def reports_years(city: dict) -> int:
    return city.get("reports", {}).get("years", 3)


def synthetic_rows(batch) -> list[BulkRow]:
    categories = dict(Category.objects.values_list("slug", "id"))
    created = batch.created_at.astype("datetime64[us]").astype(datetime)
    return [
        BulkRow(
            row=i + 1,
            lon=float(batch.lon[i]),
            lat=float(batch.lat[i]),
            category_id=categories[str(batch.category[i])],
            created_at=created[i].replace(tzinfo=UTC),
            status=str(batch.status[i]),
            priority=str(batch.priority[i]),
            channel=str(batch.channel[i]),
        )
        for i in range(len(batch))
    ]
