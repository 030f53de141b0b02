"""Remove provisioned sandboxes nobody has used for a while (SANDBOX_EXPIRE_DAYS, or --days).

Run it daily (the chart can run it as a CronJob). Each removal, and each failure, is in the audit trail
(admin: Provisioning events). The exit status is 1 when any removal failed, so a scheduler shows it.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from journeys.sandbox.expiry import expire

MAX_DAYS = 36500  # as SANDBOX_EXPIRE_DAYS allows; more overflows a date


class Command(BaseCommand):
    help = "Remove learners' sandboxes that have been idle for SANDBOX_EXPIRE_DAYS days (or --days)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--days", type=int, help="Idle days before a sandbox expires (default: SANDBOX_EXPIRE_DAYS)."
        )
        parser.add_argument("--dry-run", action="store_true", help="List what would be removed; change nothing.")

    def handle(self, *args, days=None, dry_run=False, **options):
        days = settings.SANDBOX_EXPIRE_DAYS if days is None else days
        if days is None or days < 1:
            raise CommandError("Sandboxes do not expire: set SANDBOX_EXPIRE_DAYS (or pass --days) to 1 or more.")
        if days > MAX_DAYS:
            raise CommandError(f"--days may be at most {MAX_DAYS} (a hundred years), not {days}.")
        removed, failed = expire(days, dry_run=dry_run)
        verb = "Would remove" if dry_run else "Removed"
        for item in removed:
            self.stdout.write(f"{verb} {item.sandbox.namespace} ({item.why}).")
        for item in failed:
            self.stderr.write(
                self.style.WARNING(f"Could not remove {item.sandbox.namespace}: {item.sandbox.last_error}")
            )
        summary = f"{verb} {len(removed)} sandbox{'es' if len(removed) != 1 else ''} idle for {days}+ days."
        self.stdout.write(self.style.SUCCESS(summary))
        if failed:
            raise CommandError(f"{len(failed)} could not be removed; they are kept and will be tried again next run.")
