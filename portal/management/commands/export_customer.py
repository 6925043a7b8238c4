"""`manage.py export_customer CODE [--output FILE]`: one customer's data as JSON.

For a customer's request for its data, or to move one customer elsewhere. Includes
the customer, its support locations and closure days, work orders with their lines
and named contacts, the credit ledger and balance, redemptions, time entries, R18
shortfall invoices, and incidents with their timeline events. Secrets stay out:
webhook secrets and API key hashes are never exported. Read in one REPEATABLE READ
snapshot, so a ledger and its balance agree even while the portal is busy.
"""

import datetime as dt
import json
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.forms.models import model_to_dict
from django.utils import timezone

from contracts.models import (
    ClosureDay,
    Customer,
    NamedContact,
    SupportLocation,
    WorkOrder,
    WorkOrderLine,
)
from credits.models import (
    CreditAccount,
    CreditEntry,
    EntitlementAnniversary,
    HourBlockLapse,
    Redemption,
    ShortfallInvoice,
    TimeEntry,
    VendorConsent,
)
from incidents.models import DeadlineEvent, Incident, IncidentEvent

FORMAT_VERSION = 1


def _row(obj, *, exclude=(), extra=None) -> dict:
    """A model row as a flat dict: every concrete field, foreign keys as ids."""
    data = {"id": obj.pk}
    for field in obj._meta.concrete_fields:
        if field.name in exclude or field.primary_key:
            continue
        data[field.name] = getattr(obj, field.attname)
    data.update(extra or {})
    return data


class ExportEncoder(DjangoJSONEncoder):
    def default(self, o):
        if isinstance(o, Decimal):
            return str(o)
        if isinstance(o, dt.time):
            return o.isoformat()
        return super().default(o)


def export_customer(code: str) -> dict:
    """Everything the portal holds about one customer, as plain JSON-ready data."""
    try:
        customer = Customer.objects.get(code=code)
    except Customer.DoesNotExist:
        raise CommandError(f"No customer with code {code!r}.") from None
    work_orders = WorkOrder.objects.filter(customer=customer).order_by("start_date", "number")
    incidents = Incident.objects.filter(customer=customer).order_by("opened_at", "id")
    events_by_incident: dict[int, list] = {}
    for event in IncidentEvent.objects.filter(incident__customer=customer).order_by(
        "created_at", "id"
    ):
        events_by_incident.setdefault(event.incident_id, []).append(_row(event))
    deadlines_by_incident: dict[int, list] = {}
    for event in DeadlineEvent.objects.filter(incident__customer=customer).order_by(
        "occurred_at", "id"
    ):
        deadlines_by_incident.setdefault(event.incident_id, []).append(_row(event))
    return {
        "format": "support-portal.customer-export",
        "format_version": FORMAT_VERSION,
        "exported_at": timezone.now(),
        "customer": model_to_dict(customer)
        | {"id": customer.pk, "created_at": customer.created_at},
        "locations": [
            _row(x) for x in SupportLocation.objects.filter(customer=customer).order_by("id")
        ],
        "closure_days": [
            _row(x)
            for x in ClosureDay.objects.filter(location__customer=customer).order_by(
                "location_id", "date"
            )
        ],
        "work_orders": [_row(x) for x in work_orders],
        "lines": [
            _row(x, extra={"service_code": x.service.code})
            for x in WorkOrderLine.objects.filter(work_order__customer=customer)
            .select_related("service")
            .order_by("id")
        ],
        "contacts": [
            _row(x)
            for x in NamedContact.objects.filter(work_order__customer=customer).order_by("id")
        ],
        "credit_accounts": [
            _row(x)
            for x in CreditAccount.objects.filter(work_order__customer=customer).order_by("id")
        ],
        "ledger": [
            _row(x)
            for x in CreditEntry.objects.filter(work_order__customer=customer).order_by(
                "created_at", "id"
            )
        ],
        "redemptions": [
            _row(x, exclude=("request_fingerprint",), extra={"service_code": x.service.code})
            for x in Redemption.objects.filter(work_order__customer=customer)
            .select_related("service")
            .order_by("id")
        ],
        "time_entries": [
            _row(x)
            for x in TimeEntry.objects.filter(line__work_order__customer=customer).order_by("id")
        ],
        "hour_block_lapses": [
            _row(x)
            for x in HourBlockLapse.objects.filter(line__work_order__customer=customer).order_by(
                "id"
            )
        ],
        "anniversaries": [
            _row(x)
            for x in EntitlementAnniversary.objects.filter(work_order__customer=customer).order_by(
                "id"
            )
        ],
        "vendor_consents": [
            _row(x)
            for x in VendorConsent.objects.filter(work_order__customer=customer).order_by("id")
        ],
        "shortfall_invoices": [
            _row(x)
            for x in ShortfallInvoice.objects.filter(work_order__customer=customer).order_by("id")
        ],
        "incidents": [
            _row(
                x,
                extra={
                    "events": events_by_incident.get(x.pk, []),
                    "deadline_events": deadlines_by_incident.get(x.pk, []),
                },
            )
            for x in incidents
        ],
    }


class Command(BaseCommand):
    help = "Write one customer's data (contracts, ledger, redemptions, incidents) as JSON."

    def add_arguments(self, parser):
        parser.add_argument("code", help="The customer's code.")
        parser.add_argument("--output", "-o", help="Write to this file instead of stdout.")
        parser.add_argument("--indent", type=int, default=2)

    def handle(self, *args, code, output=None, indent=2, **options):
        outermost = not connection.in_atomic_block
        with transaction.atomic():
            if outermost:
                # One consistent snapshot for every query of the export.
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            data = export_customer(code)
        text = json.dumps(data, cls=ExportEncoder, indent=indent or None, ensure_ascii=False)
        if output:
            with open(output, "w", encoding="utf-8") as fh:
                fh.write(text + "\n")
            self.stderr.write(f"Exported customer {code} to {output}.")
        else:
            self.stdout.write(text)
