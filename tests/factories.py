"""factory-boy factories for every model. Personas live in tests/conftest.py."""

import datetime as dt
from decimal import Decimal

import factory
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from accounts.choices import Role
from accounts.models import ApiKey, User
from contracts.models import (
    ClosureDay,
    Customer,
    NamedContact,
    SupportLocation,
    WorkOrder,
    WorkOrderLine,
)
from core.times import business_today, business_zone_name
from credits.models import (
    CreditAccount,
    CreditEntry,
    Rate,
    Redemption,
    ShortfallInvoice,
    TimeEntry,
    VendorConsent,
)
from incidents.models import DeadlineEvent, Incident, IncidentEvent, ResponseTarget
from notifications.models import OutboxMessage, SweepRun, WebhookDelivery, WebhookSubscription
from notifications.services import outbox_rows, outbox_write
from services.models import Service


def today():
    """The business date (core.times.business_today); a factory location's zone is the
    same (default_location_zone), so it is also every factory work order's own today."""
    return business_today()


def default_location_zone() -> str:
    """BUSINESS_TIME_ZONE: the `midnight` fixture (tests/conftest.py) moves both."""
    return business_zone_name()


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"svc-{n}")
    name = factory.LazyAttribute(lambda o: o.code.replace("-", " ").title())
    category = "maintenance"
    unit = "units"
    availability_core = "add_on"
    availability_advanced = "add_on"
    availability_performance = "add_on"


def service(code: str) -> Service:
    """A catalogue service by code (seeded by migration)."""
    return Service.objects.get(code=code)


def open_incident(*, work_order, contact, by, title: str, severity: str = "normal", **extra):
    """An incident opened through incident_open, so it has its deadlines and events (R2)."""
    from incidents.services import incident_open

    return incident_open(
        work_order=work_order, contact=contact, title=title, severity=severity, by=by, **extra
    )


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"cust{n}")
    name = factory.LazyAttribute(lambda o: f"Customer {o.code.upper()}")
    country = "NL"
    timezone = factory.LazyFunction(default_location_zone)
    language = "nl"


class SupportLocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SupportLocation

    customer = factory.SubFactory(CustomerFactory)
    name = "Headquarters"
    country = "NL"
    timezone = factory.LazyFunction(default_location_zone)


class ClosureDayFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClosureDay

    location = factory.SubFactory(SupportLocationFactory)
    date = factory.LazyFunction(lambda: today() + dt.timedelta(days=30))
    name = "Company day"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    # Hashed with the test hasher (fast MD5, tests/conftest.py): the raw password is
    # "correct horse battery staple".
    password = factory.LazyFunction(lambda: make_password("correct horse battery staple"))
    role = Role.CUSTOMER_CONTACT


class StaffFactory(UserFactory):
    is_staff = True
    role = Role.ACCOUNT_MANAGER
    username = factory.Sequence(lambda n: f"am{n}")


class WorkOrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkOrder
        skip_postgeneration_save = True

    number = factory.Sequence(lambda n: f"WO-{n:05d}")
    customer = factory.SubFactory(CustomerFactory)
    package = "advanced"
    start_date = factory.LazyFunction(lambda: today() - dt.timedelta(days=100))
    end_date = factory.LazyFunction(lambda: today() + dt.timedelta(days=265))
    named_contact_limit = factory.LazyAttribute(
        lambda o: {"core": 10, "advanced": 50, "performance": None}[o.package]
    )
    support_location = factory.LazyAttribute(lambda o: SupportLocationFactory(customer=o.customer))

    @factory.post_generation
    def workshop_consent(obj, create, extracted, **kwargs):
        """Seed §4.2.1: the vendor's written consent for workshops, recorded as staff would
        before one is booked. `WorkOrderFactory(workshop_consent=False)`: none recorded."""
        if create and extracted is not False:
            VendorConsentFactory(work_order=obj)


class WorkOrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkOrderLine

    work_order = factory.SubFactory(WorkOrderFactory)
    service = factory.LazyFunction(lambda: service("proactive-credits"))
    quantity = Decimal("100")
    unit = factory.LazyAttribute(lambda o: o.service.unit)


class NamedContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NamedContact

    work_order = factory.SubFactory(WorkOrderFactory)
    name = factory.Sequence(lambda n: f"Contact {n}")
    email = factory.Sequence(lambda n: f"contact{n}@customer.example")


class ApiKeyFactory(factory.django.DjangoModelFactory):
    """Build with `ApiKeyFactory(raw="...")` to know the key; the hash is stored."""

    class Meta:
        model = ApiKey
        exclude = ("raw",)

    raw = factory.LazyFunction(ApiKey.generate_raw_key)
    name = factory.Sequence(lambda n: f"tool-{n}")
    key_hash = factory.LazyAttribute(lambda o: ApiKey.hash_key(o.raw))
    prefix = factory.LazyAttribute(lambda o: o.raw[:8])


class RateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Rate

    service = factory.LazyFunction(lambda: service("workshops"))
    customer = None
    credits_per_unit = Decimal("10")
    valid_from = factory.LazyFunction(lambda: today() - dt.timedelta(days=365))


class CreditAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CreditAccount

    work_order = factory.SubFactory(WorkOrderFactory)


class CreditEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CreditEntry

    work_order = factory.SubFactory(WorkOrderFactory)
    kind = "grant"
    amount = 100
    balance_after = 100


class VendorConsentFactory(factory.django.DjangoModelFactory):
    """Seed §4.2.1: the vendor's written consent to schedule workshops on a work order."""

    class Meta:
        model = VendorConsent

    work_order = factory.SubFactory(WorkOrderFactory, workshop_consent=False)
    service = factory.LazyFunction(lambda: service("workshops"))
    reference = "Vendor's mail of consent (test)"


class RedemptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Redemption

    work_order = factory.SubFactory(WorkOrderFactory)
    service = factory.LazyFunction(lambda: service("workshops"))
    quantity = Decimal("1")
    scheduled_for = factory.LazyFunction(lambda: today() + dt.timedelta(days=30))
    credits_per_unit = Decimal("10")
    credits = 10
    consent = factory.LazyAttribute(
        lambda o: o.work_order.vendor_consents.filter(service=o.service).first()
    )


class TimeEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TimeEntry

    line = factory.SubFactory(WorkOrderLineFactory)
    hours = Decimal("2")
    worked_on = factory.LazyFunction(today)


class ShortfallInvoiceFactory(factory.django.DjangoModelFactory):
    """A recorded R18 shortfall in the window at the start of the work order's term."""

    class Meta:
        model = ShortfallInvoice

    work_order = factory.SubFactory(WorkOrderFactory)
    term_year = 0
    window_opens_on = factory.LazyAttribute(lambda o: o.work_order.start_date)
    window_closes_on = factory.LazyAttribute(lambda o: o.window_opens_on + dt.timedelta(days=30))
    invoiced_on = factory.LazyAttribute(lambda o: o.window_opens_on)
    amount = Decimal("1000.00")
    currency = "EUR"
    reference = factory.Sequence(lambda n: f"INV-{n:05d}")


class ResponseTargetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ResponseTarget
        django_get_or_create = ("package", "severity", "rapid_response")

    package = "advanced"
    severity = "normal"
    minutes = 240
    clock = "business_hours"


class IncidentFactory(factory.django.DjangoModelFactory):
    """A raw row; tests of behaviour open incidents through incidents.services."""

    class Meta:
        model = Incident

    number = factory.Sequence(lambda n: f"INC-F{n:06d}")
    work_order = factory.SubFactory(WorkOrderFactory)
    contact = factory.LazyAttribute(lambda o: NamedContactFactory(work_order=o.work_order))
    title = "Something is broken"
    opened_at = factory.LazyFunction(timezone.now)
    target_minutes = 240
    target_clock = "business_hours"
    target_rule = "R4 Advanced normal"
    response_due_at = factory.LazyAttribute(lambda o: o.opened_at + dt.timedelta(hours=4))
    response_warning_at = factory.LazyAttribute(lambda o: o.opened_at + dt.timedelta(hours=3))
    next_deadline_at = factory.LazyAttribute(lambda o: o.response_warning_at)


class IncidentEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IncidentEvent

    incident = factory.SubFactory(IncidentFactory)
    kind = "comment"
    body = "A comment"


class DeadlineEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DeadlineEvent

    incident = factory.SubFactory(IncidentFactory)
    deadline = "response"
    threshold = "breach"
    occurred_at = factory.LazyFunction(timezone.now)


class OutboxMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OutboxMessage

    key = factory.Sequence(lambda n: f"test:{n}")
    event = "incident.created"
    channel = "email"
    recipient = "someone@example.com"


class SweepRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SweepRun

    job = "deadline_sweep"


class WebhookSubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookSubscription

    url = "http://127.0.0.1:9/hook"
    events = factory.LazyFunction(lambda: ["incident.created"])
    secret = "s3cret"


class WebhookDeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookDelivery

    subscription = factory.SubFactory(WebhookSubscriptionFactory)
    event = "incident.created"


class SeverityRequestFactory(factory.django.DjangoModelFactory):
    """A customer's open severity request (R3); usually made by the service instead."""

    class Meta:
        model = "incidents.SeverityRequest"

    incident = factory.SubFactory(IncidentFactory)
    severity = "critical"
    reason = "Production is down"


class SatisfactionRatingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "incidents.SatisfactionRating"

    incident = factory.SubFactory(IncidentFactory)
    score = 4


class SavedQueueViewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "incidents.SavedQueueView"

    user = factory.SubFactory(StaffFactory)
    name = factory.Sequence(lambda n: f"View {n}")
    query = "severity=critical"


def notify(**kwargs):
    """Write one notification's outbox rows as the services do (outbox_rows, outbox_write)."""
    rows = outbox_rows(**kwargs)
    outbox_write(rows)
    return rows
