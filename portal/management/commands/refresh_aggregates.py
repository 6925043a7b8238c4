"""Recompute the worker's precomputed aggregates now (what its beat does every few
minutes): after a bulk load, a restore, or to see a dashboard up to date at once."""

from django.core.management.base import BaseCommand

from incidents.services import attainment_refresh


class Command(BaseCommand):
    help = "Recompute the precomputed aggregates (monthly first-response attainment)."

    def handle(self, *args, **options):
        rows = attainment_refresh()
        self.stdout.write(f"attainment: {rows} work-order-month rows")
