"""API.md: "Lists are paginated: {count, next, previous, results}, ?page_size= up to 200"
for every list endpoint, not only the catalogue."""

import pytest

from notifications.models import WebhookSubscription

LISTS = [
    "/api/v1/services/",
    "/api/v1/customers/",
    "/api/v1/work-orders/",
    "/api/v1/work-orders/{wo}/contacts/",
    "/api/v1/rates/",
    "/api/v1/work-orders/{wo}/redemptions/",
    "/api/v1/incidents/",
    "/api/v1/webhooks/",
]


@pytest.fixture
def rows(work_order_a, contact_a, redemption_a, incident_a, webhook_a, work_order_b, staff):
    """Two of everything a list shows."""
    import datetime as dt
    from decimal import Decimal

    from django.utils import timezone

    from credits import services as credit_services
    from tests import factories as f

    f.NamedContactFactory(work_order=work_order_a, email="second@acme.example")
    f.WebhookSubscriptionFactory(customer=work_order_a.customer, url="https://hooks.example/2")
    f.RateFactory(service=f.service("workshops"), customer=work_order_a.customer)
    f.open_incident(work_order=work_order_a, contact=contact_a, title="Second", by=staff)
    credit_services.credits_redeem(
        work_order=work_order_a,
        service=f.service("workshops"),
        quantity=Decimal("1"),
        scheduled_for=timezone.localdate() + dt.timedelta(days=31),
        delivery_mode="per_participant",
        by=staff,
    )
    return work_order_a


@pytest.mark.parametrize("path", LISTS)
def test_every_list_has_the_paginated_shape_and_honours_page_size(api_staff, rows, path):
    url = path.format(wo=rows.pk)
    body = api_staff.get(url).json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["previous"] is None
    assert body["count"] >= 2, body  # so that a page of one has a next page
    one = api_staff.get(f"{url}?page_size=1").json()
    assert len(one["results"]) == 1 and one["count"] == body["count"]
    assert one["next"] and "page=2" in one["next"] and "page_size=1" in one["next"]
    second = api_staff.get(one["next"]).json()
    assert len(second["results"]) == 1 and second["previous"]
    assert second["results"] != one["results"]


def test_page_size_is_honoured_up_to_200_and_capped_there(api_staff, customer_a):
    WebhookSubscription.objects.bulk_create(
        WebhookSubscription(
            customer=customer_a,
            url=f"https://hooks.example/{i}",
            events=["incident.created"],
            secret="s" * 20,
        )
        for i in range(205)
    )
    exactly = api_staff.get("/api/v1/webhooks/?page_size=200").json()
    assert exactly["count"] == 205 and len(exactly["results"]) == 200
    capped = api_staff.get("/api/v1/webhooks/?page_size=201").json()
    assert len(capped["results"]) == 200
    assert capped["next"]
