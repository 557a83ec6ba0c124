import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from signalements.trust.retention import citizen_data_erase, citizen_data_export


class Command(BaseCommand):
    help = (
        "A citizen's data on request, for the desk or the data protection officer: export "
        "everything tied to an e-mail address (--export FILE, JSON), and/or erase it (--erase: the "
        "reports stay, anonymised, with their history). Erasing again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True)
        parser.add_argument("--export", metavar="FILE", help="write the person's data there, as JSON")
        parser.add_argument("--erase", action="store_true", help="anonymise everything tied to the address")

    def handle(self, *args, email: str, export: str | None, erase: bool, **options):
        email = email.strip()
        try:
            validate_email(email)
        except ValidationError as exc:
            raise CommandError(f"--email: {email!r} is not an e-mail address") from exc
        if not export and not erase:
            raise CommandError("say what to do: --export FILE, --erase, or both")
        if export:
            data = citizen_data_export(email=email)
            Path(export).write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
            self.stdout.write(
                f"{len(data['reports'])} report(s), {len(data['supports'])} support(s), "
                f"{len(data['notifications'])} e-mail(s) written to {export}"
            )
        if erase:
            done = citizen_data_erase(email=email)
            self.stdout.write(
                f"Erased: {done.reports} report(s) anonymised, {done.supports} support(s), "
                f"{done.notifications} queued e-mail(s), {done.texts} free text(s) scrubbed"
            )
            if done.history_mentions:
                self.stderr.write(
                    f"{done.history_mentions} history row(s) mention the address: the history is "
                    "append-only and cannot be changed; ask an administrator."
                )
