"""`manage.py create_api_key --name NAME [--customer CODE]`: prints the new key alone on stdout."""

from django.core.management.base import BaseCommand, CommandError

from accounts.services import api_key_create
from contracts.models import Customer
from core.errors import DomainError


class Command(BaseCommand):
    # A script tool whose stdout is read: system-check output has no place there.
    requires_system_checks = []
    help = "Create an API key and print the raw key (alone, on stdout). Without --customer it acts as staff."

    def add_arguments(self, parser):
        parser.add_argument(
            "--name", required=True, help="What the key is for, e.g. the ticketing tool."
        )
        parser.add_argument(
            "--customer", help="Customer code: the key sees and acts for that customer only."
        )

    def handle(self, *args, name, customer=None, **options):
        owner = None
        if customer:
            owner = Customer.objects.filter(code=customer.strip().lower()).first()
            if owner is None:
                raise CommandError(f"No customer with code {customer!r}.")
        try:
            _key, raw = api_key_create(name=name, customer=owner)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        # Scripts read stdout: the key and nothing else.
        self.stdout.write(raw)
