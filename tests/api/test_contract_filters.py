"""API.md: lists "filter with query parameters named after the fields" (and incidents
by `external_reference`). Each filter is tried with a value that keeps some rows and
drops others."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from credits import services as credit_services
from tests import factories as f


def results(client, url):
    response = client.get(url)
    assert response.status_code == 200, (url, response.content[:300])
    return response.json()["results"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("code=dse", {"dse"}),
        ("unit=credits", {"proactive-credits"}),
    ],
)
def test_services_filter_by_their_fields(api_a, query, expected):
    assert {r["code"] for r in results(api_a, f"/api/v1/services/?{query}")} == expected


def test_services_filter_by_category(api_a):
    rows = results(api_a, "/api/v1/services/?category=enhanced&page_size=200")
    assert rows and {r["category"] for r in rows} == {"enhanced"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [("code=acme", ["acme"]), ("country=US", ["initech"]), ("language=en", ["initech"])],
)
def test_customers_filter_by_their_fields(api_staff, customer_a, customer_b, query, expected):
    f.CustomerFactory(code="initech", country="US", timezone="America/Chicago", language="en")
    assert [r["code"] for r in results(api_staff, f"/api/v1/customers/?{query}")] == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("customer=acme", {"WO-A-1", "WO-A-CORE"}),
        ("package=core", {"WO-A-CORE"}),
        ("number=WO-B-1", {"WO-B-1"}),
        ("status=active", {"WO-A-1", "WO-A-CORE", "WO-B-1"}),
        ("status=expired", set()),
    ],
)
def test_work_orders_filter_by_their_fields(api_staff, work_order_a, work_order_b, query, expected):
    f.WorkOrderFactory(customer=work_order_a.customer, number="WO-A-CORE", package="core")
    assert {r["number"] for r in results(api_staff, f"/api/v1/work-orders/?{query}")} == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("active=true", {"bob@acme.example"}),
        ("active=false", {"gone@acme.example"}),
        ("email=GONE@acme.example", {"gone@acme.example"}),
    ],
)
def test_named_contacts_filter_by_their_fields(api_a, work_order_a, contact_a, query, expected):
    f.NamedContactFactory(work_order=work_order_a, email="gone@acme.example", active=False)
    url = f"/api/v1/work-orders/{work_order_a.pk}/contacts/?{query}"
    assert {r["email"] for r in results(api_a, url)} == expected


def test_rates_filter_by_service_customer_and_valid_from(api_staff, customer_a):
    today = timezone.localdate()
    f.RateFactory(service=f.service("workshops"), valid_from=today - dt.timedelta(days=10))
    f.RateFactory(service=f.service("workshops"), customer=customer_a, valid_from=today)
    f.RateFactory(service=f.service("onsite-support"), valid_from=today)

    def keys(query):
        return sorted(
            (r["service"], r["customer"] or "")
            for r in results(api_staff, f"/api/v1/rates/?{query}")
        )

    assert keys("service=onsite-support") == [("onsite-support", "")]
    assert keys("customer=acme") == [("workshops", "acme")]
    assert keys(f"valid_from={today}") == [("onsite-support", ""), ("workshops", "acme")]


def test_redemptions_filter_by_status_service_scheduled_for_and_delivery_mode(
    api_a, credits_a, redemption_a, rate_workshops, staff
):
    f.RateFactory(service=f.service("onsite-support"), credits_per_unit=Decimal("5"))
    later = timezone.localdate() + dt.timedelta(days=70)
    onsite = credit_services.credits_redeem(
        work_order=credits_a,
        service=f.service("onsite-support"),
        quantity=Decimal("1"),
        scheduled_for=later,
        delivery_mode="onsite",
        by=staff,
    )
    credit_services.redemption_cancel(redemption=onsite, by=staff)
    url = f"/api/v1/work-orders/{credits_a.pk}/redemptions/"

    def ids(query):
        return {r["id"] for r in results(api_a, f"{url}?{query}")}

    assert ids("service=onsite-support") == {onsite.pk}
    assert ids("status=cancelled") == {onsite.pk}
    assert ids("status=scheduled") == {redemption_a.pk}
    assert ids(f"scheduled_for={later}") == {onsite.pk}
    assert ids("delivery_mode=per_participant") == {redemption_a.pk}


@pytest.fixture
def two_incidents(work_order_a, contact_a, incident_a, staff):
    other = f.NamedContactFactory(work_order=work_order_a, email="carol@acme.example")
    second = f.open_incident(
        work_order=work_order_a,
        contact=other,
        title="Cloud",
        severity="critical",
        is_cloud=True,
        around_the_clock=True,
        external_reference="ACME-2",
        language="nl",
        by=staff,
    )
    return incident_a, second


@pytest.mark.parametrize(
    ("query", "which"),
    [
        ("external_reference=ACME-2", "second"),
        ("severity=critical", "second"),
        ("status=new", "both"),
        ("contact=carol@acme.example", "second"),
        ("is_cloud=true", "second"),
        ("is_cloud=false", "first"),
        ("around_the_clock=true", "second"),
        ("language=nl", "second"),
        ("response_breached=false", "both"),
        ("response_breached=true", "none"),
    ],
)
def test_incidents_filter_by_their_fields(api_a, two_incidents, query, which):
    first, second = two_incidents
    expected = {
        "first": {first.pk},
        "second": {second.pk},
        "both": {first.pk, second.pk},
        "none": set(),
    }[which]
    assert {r["id"] for r in results(api_a, f"/api/v1/incidents/?{query}")} == expected


def test_incidents_filter_by_number_and_work_order(api_a, two_incidents, work_order_a):
    first, second = two_incidents
    rows = results(api_a, f"/api/v1/incidents/?number={second.number}")
    assert [r["id"] for r in rows] == [second.pk]
    rows = results(api_a, f"/api/v1/incidents/?work_order={work_order_a.pk}")
    assert {r["id"] for r in rows} == {first.pk, second.pk}


def test_webhooks_filter_by_url_and_active(api_a, webhook_a, customer_a):
    f.WebhookSubscriptionFactory(customer=customer_a, url="https://b.example/h", active=False)
    assert [r["url"] for r in results(api_a, "/api/v1/webhooks/?url=https://b.example/h")] == [
        "https://b.example/h"
    ]
    assert [r["url"] for r in results(api_a, "/api/v1/webhooks/?active=true")] == [webhook_a.url]
