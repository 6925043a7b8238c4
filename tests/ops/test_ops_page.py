"""The staff ops page: recent sweeps, outbox backlog, webhook deliveries."""

import datetime as dt

import pytest
from django.utils import timezone

from tests import factories as f

pytestmark = pytest.mark.django_db


def test_staff_see_sweeps_backlog_and_deliveries(client_staff, customer_a):
    now = timezone.now()
    f.SweepRunFactory(
        job="deadline_sweep", started_at=now - dt.timedelta(seconds=30), finished_at=now, handled=7
    )
    f.OutboxMessageFactory(state="pending", created_at=now - dt.timedelta(minutes=10))
    f.OutboxMessageFactory(state="pending")
    f.OutboxMessageFactory(state="sent")
    sub = f.WebhookSubscriptionFactory(customer=customer_a, url="http://127.0.0.1:9/acme-hook")
    f.WebhookDeliveryFactory(
        subscription=sub, event="incident.created", state="retrying", attempts=3
    )
    response = client_staff.get("/ops/")
    assert response.status_code == 200
    ctx = response.context
    assert ctx["backlog"]["pending"] == 2
    assert 590 <= ctx["backlog"]["oldest_age_seconds"] <= 700
    assert [run.job for run in ctx["sweeps"]] == ["deadline_sweep"]
    html = response.content.decode()
    assert "deadline_sweep" in html and "acme-hook" in html and "Retrying" in html


def test_customers_and_anonymous_visitors_cannot_see_the_ops_page(client_a, client):
    assert client_a.get("/ops/").status_code == 403
    response = client.get("/ops/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_ops_page_runs_a_bounded_number_of_queries(
    client_staff, customer_a, django_assert_max_num_queries
):
    sub = f.WebhookSubscriptionFactory(customer=customer_a)
    for _ in range(10):
        f.WebhookDeliveryFactory(subscription=sub)
        f.SweepRunFactory()
    with django_assert_max_num_queries(20):
        assert client_staff.get("/ops/").status_code == 200
