"""Run the entitlement sweep by hand (it also runs daily on the beat schedule)."""

import datetime as dt

from django.core.management.base import BaseCommand

from credits.entitlements import run_entitlement_sweep


class Command(BaseCommand):
    help = "Send due R15 reminders and expiry notices, expire ended terms (R14), warn on low credit. Safe to rerun."

    def add_arguments(self, parser):
        parser.add_argument(
            "--today",
            type=dt.date.fromisoformat,
            default=None,
            help="Run as of this date (YYYY-MM-DD).",
        )

    def handle(self, *args, today=None, **options):
        result = run_entitlement_sweep(today=today)
        self.stdout.write(
            f"notices={result.notices} expired={result.expired} low_credit={result.low_credit} failed={len(result.failed)}"
        )
        for failure in result.failed:
            self.stderr.write(f"failed: {failure}")
