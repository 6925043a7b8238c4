"""Shared objects of the API tests: customer A's and B's data, built through the
service functions so the rows are what the API would find in production."""

import datetime as dt
from decimal import Decimal

import pytest

from core.times import business_today
from credits import services as credit_services
from tests import factories as f


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The personas' passwords are hashed with PBKDF2 (~0.5 s each on these machines);
    # the API tests never log in with a password.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fresh_throttle_counts():
    # Throttle counts live in the cache (Redis in CI): start every test from zero.
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def rate_workshops(db):
    return f.RateFactory(service=f.service("workshops"), credits_per_unit=Decimal("10"))


@pytest.fixture
def credits_a(work_order_a, staff):
    """100 proactive credits on A's work order (a proactive-credits line grants them)."""
    from contracts import services as contract_services

    contract_services.work_order_line_add(
        work_order=work_order_a,
        service=f.service("proactive-credits"),
        quantity=Decimal("100"),
        by=staff,
    )
    return work_order_a


@pytest.fixture
def incident_a(work_order_a, contact_a, staff):
    return f.open_incident(
        work_order=work_order_a,
        contact=contact_a,
        title="A's database is down",
        external_reference="ACME-1",
        by=staff,
    )


@pytest.fixture
def incident_b(work_order_b, contact_b, staff):
    return f.open_incident(
        work_order=work_order_b,
        contact=contact_b,
        title="B's secret outage",
        external_reference="GLOBEX-1",
        by=staff,
    )


@pytest.fixture
def redemption_a(credits_a, rate_workshops, staff):
    return credit_services.credits_redeem(
        work_order=credits_a,
        service=f.service("workshops"),
        quantity=Decimal("2"),
        scheduled_for=business_today() + dt.timedelta(days=30),
        delivery_mode="per_participant",
        by=staff,
    )


@pytest.fixture
def webhook_a(customer_a):
    return f.WebhookSubscriptionFactory(
        customer=customer_a, url="http://127.0.0.1:9/acme", secret="acme-secret-0123456789"
    )


@pytest.fixture
def webhook_b(customer_b):
    return f.WebhookSubscriptionFactory(
        customer=customer_b, url="http://127.0.0.1:9/globex", secret="globex-secret-0123456789"
    )


@pytest.fixture
def attachment_a(incident_a, user_a):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from incidents import services as incident_services

    return incident_services.incident_attach(
        incident=incident_a,
        file=SimpleUploadedFile("acme-trace.pcap", b"A's database trace"),
        by=user_a,
    )


@pytest.fixture
def severity_request_a(work_order_a, contact_a, user_a):
    """An open severity request (R3) on a second incident of A's (the first is asked
    about by the persona matrix's own `severity` row)."""
    from incidents import services as incident_services

    other = f.open_incident(
        work_order=work_order_a, contact=contact_a, title="Printer queue", by=user_a
    )
    event = incident_services.incident_request_severity_change(
        incident=other, severity="critical", reason="A's database is critical", by=user_a
    )
    return event.severity_request
