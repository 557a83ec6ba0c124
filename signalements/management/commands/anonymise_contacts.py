from django.core.management.base import BaseCommand

from signalements.trust.retention import contacts_anonymise


class Command(BaseCommand):
    help = (
        "Anonymise the contact data of reports closed longer ago than SIGNALEMENT_RETENTION_DAYS "
        "(the nightly beat job does the same). Running it again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="count what would change, change nothing")

    def handle(self, *args, dry_run: bool, **options):
        done = contacts_anonymise(dry_run=dry_run)
        verb = "would be anonymised" if dry_run else "anonymised"
        self.stdout.write(
            f"{done.reports} report(s) {verb}: {done.contacts} reporter contact(s), "
            f"{done.supports} supporter e-mail(s), {done.notifications} queued e-mail(s)"
            + ("" if dry_run else f", {done.texts} free text(s) scrubbed")
        )
