"""`manage.py prepare_reviews [--month 2026-03]`: store a month's service reviews and send
the notices that were not sent (catch-up when the monthly job was missed); idempotent."""

import json

from django.core.management.base import BaseCommand, CommandError

from core.errors import RuleViolation
from reviews.periods import PeriodError
from reviews.services import reviews_prepare_month


class Command(BaseCommand):
    help = "Store a month's service reviews (default: last month) and notify, once."

    def add_arguments(self, parser):
        parser.add_argument("--month", help="YYYY-MM (default: the month before this one)")

    def handle(self, *args, month=None, **options):
        try:
            result = reviews_prepare_month(month=month)
        except (PeriodError, RuleViolation) as exc:
            raise CommandError(f"--month must be YYYY-MM, not {month!r}") from exc
        self.stdout.write(json.dumps(result))
