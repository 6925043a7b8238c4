"""List endpoints keep a bounded number of SQL queries whatever the page size: an
N+1 fails here (5 rows per page and 100 rows per page get the same bound)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests import factories as f


@pytest.fixture
def many(customer_a, work_order_a, contact_a, staff, credits_a, rate_workshops):
    """A customer with 30 of everything a list shows."""
    from contracts import services as contract_services
    from credits import services as credit_services
    from incidents import services as incident_services

    for i in range(30):
        incident_services.incident_open(
            work_order=work_order_a,
            contact=contact_a,
            title=f"Incident {i}",
            severity="normal",
            by=staff,
        )
        f.NamedContactFactory(work_order=work_order_a, email=f"person{i}@acme.example")
        f.WebhookSubscriptionFactory(customer=customer_a, url=f"https://hooks.example/{i}")
        f.RateFactory(
            service=f.service("workshops"),
            customer=customer_a,
            valid_from=timezone.localdate() - dt.timedelta(days=i),
        )
    for i in range(12):
        # Each with its own account manager: the list names them (issue #20 found one
        # query per work order for it at scale).
        wo = f.WorkOrderFactory(
            customer=customer_a,
            number=f"WO-MANY-{i}",
            account_manager=f.StaffFactory(username=f"am-many-{i}"),
        )
        contract_services.work_order_line_add(
            work_order=wo, service=f.service("dse"), quantity=Decimal("10"), by=staff
        )
        contract_services.work_order_line_add(
            work_order=wo, service=f.service("proactive-credits"), quantity=Decimal("5"), by=staff
        )
    for i in range(8):
        credit_services.credits_redeem(
            work_order=credits_a,
            service=f.service("workshops"),
            quantity=Decimal("1"),
            scheduled_for=timezone.localdate() + dt.timedelta(days=20 + i),
            delivery_mode="per_participant",
            by=staff,
        )
    return work_order_a


LISTS = [
    "/api/v1/services/",
    "/api/v1/customers/",
    "/api/v1/work-orders/",
    "/api/v1/work-orders/{wo}/contacts/",
    "/api/v1/rates/",
    "/api/v1/work-orders/{wo}/credits/",
    "/api/v1/work-orders/{wo}/redemptions/",
    "/api/v1/incidents/",
    "/api/v1/webhooks/",
]


def count_queries(client, url) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    body = response.json()
    rows = len(body["results"]) if "results" in body else len(body["entries"])
    return len(ctx.captured_queries), rows


@pytest.mark.parametrize(
    ("persona", "path"),
    [("api_staff", p) for p in LISTS]
    + [("api_a", p) for p in LISTS if p != "/api/v1/customers/"],  # customers: staff only
)
def test_list_queries_do_not_grow_with_the_page_size(request, many, path, persona):
    client = request.getfixturevalue(persona)
    url = path.format(wo=many.pk)
    sep = "&" if "?" in url else "?"
    client.get(url)  # the key's last_used_at is touched once a minute: not in the count
    # The credits endpoint is one object (balance and ledger), not a page: it knows no
    # page_size, and an unknown query parameter is 400 (API.md Revision 2).
    small_q, large_q = ("", "") if path.endswith("/credits/") else ("page_size=5", "page_size=100")
    small, small_rows = count_queries(client, f"{url}{sep}{small_q}")
    large, large_rows = count_queries(client, f"{url}{sep}{large_q}")
    assert large_rows >= small_rows
    assert large == small, (url, small, large)
    assert large <= 8, (url, large)


def test_list_endpoints_stay_under_the_bound_with_django_assert_max_num_queries(
    api_staff, many, django_assert_max_num_queries
):
    for path in LISTS:
        with django_assert_max_num_queries(8):
            query = "" if path.endswith("/credits/") else "?page_size=200"
            assert api_staff.get(path.format(wo=many.pk) + query).status_code == 200
