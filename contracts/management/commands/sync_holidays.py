"""`manage.py sync_holidays [--years N]`: copy public holidays to every support location (R5).

Idempotent: dates that already have a closure row (including holidays staff reopened)
are left alone. Run yearly, or after upgrading the pinned `holidays` package.
"""

from django.core.management.base import BaseCommand, CommandError

from contracts.models import SupportLocation
from contracts.services import HOLIDAY_YEARS, support_location_sync_holidays
from core.errors import DomainError
from core.times import business_today


class Command(BaseCommand):
    help = "Copy public holidays of this year and the next ones to every support location."

    def add_arguments(self, parser):
        parser.add_argument(
            "--years",
            type=int,
            default=HOLIDAY_YEARS,
            help="How many years from this one (default 3).",
        )

    def handle(self, *args, years, **options):
        if years < 1 or years > 10:
            raise CommandError("--years must be between 1 and 10.")
        first = business_today().year
        total = failed = 0
        for location in SupportLocation.objects.select_related("customer").order_by("pk"):
            try:
                created = support_location_sync_holidays(
                    location=location, years=range(first, first + years)
                )
            except DomainError as exc:
                failed += 1
                self.stderr.write(f"{location.customer.code} / {location.name}: {exc.message}")
                continue
            total += created
            if created:
                self.stdout.write(
                    f"{location.customer.code} / {location.name}: {created} holidays added"
                )
        self.stdout.write(f"{total} closure days added for {first}-{first + years - 1}.")
        if failed:
            raise CommandError(f"{failed} location(s) could not be synced.")
