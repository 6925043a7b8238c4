"""API.md's rate card, credits and redemptions: customers read their own rates (and the
defaults), a redemption returns the `credits` charged at the rate (R10), and a
cancellation refunds as R16 says."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from credits import services as credit_services
from tests import factories as f


def in_days(n: int) -> str:
    return (timezone.localdate() + dt.timedelta(days=n)).isoformat()


def test_a_customer_key_reads_the_default_rates_and_its_own_never_another_s(
    api_a, api_b, customer_a, customer_b
):  # R10
    f.RateFactory(service=f.service("workshops"), credits_per_unit=Decimal("10"))
    f.RateFactory(service=f.service("workshops"), customer=customer_a, credits_per_unit=9)
    f.RateFactory(service=f.service("workshops"), customer=customer_b, credits_per_unit=8)

    def card(client):
        rows = client.get("/api/v1/rates/").json()["results"]
        return sorted((r["customer"] or "", r["credits_per_unit"]) for r in rows)

    assert card(api_a) == [("", "10.0000"), ("acme", "9.0000")]
    assert card(api_b) == [("", "10.0000"), ("globex", "8.0000")]


def test_a_redemption_returns_the_credits_charged_at_the_customer_s_rate(
    api_a, credits_a, rate_workshops, customer_a
):  # R10
    f.RateFactory(
        service=f.service("workshops"),
        customer=customer_a,
        credits_per_unit=Decimal("7.4"),
        valid_from=timezone.localdate() - dt.timedelta(days=1),
    )
    response = api_a.post(
        f"/api/v1/work-orders/{credits_a.pk}/redemptions/",
        {
            "service": "workshops",
            "quantity": "3",
            "scheduled_for": in_days(40),
            "delivery_mode": "per_participant",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["credits"] == 22  # 3 x 7.4 = 22.2, rounded to whole credits
    balance = api_a.get(f"/api/v1/work-orders/{credits_a.pk}/credits/").json()
    assert balance["balance"] == 78
    assert balance["entries"][-1]["kind"] == "redemption"
    assert balance["entries"][-1]["amount"] == -22


@pytest.mark.midnight
def test_cancelling_early_refunds_in_full(api_a, redemption_a):  # R16
    response = api_a.post(f"/api/v1/redemptions/{redemption_a.pk}/cancel/", {}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"
    credits = api_a.get(f"/api/v1/work-orders/{redemption_a.work_order_id}/credits/").json()
    assert credits["balance"] == 100
    assert credits["entries"][-1]["kind"] == "refund"


@pytest.mark.midnight
def test_cancelling_late_costs_the_work_order_s_fee(api_a, credits_a, rate_workshops):  # R16
    credits_a.cancellation_fee_percent = 50
    credits_a.save()
    late = credit_services.credits_redeem(
        work_order=credits_a,
        service=f.service("workshops"),
        quantity=Decimal("2"),
        scheduled_for=timezone.localdate() + dt.timedelta(days=5),
        delivery_mode="per_participant",
    )
    response = api_a.post(f"/api/v1/redemptions/{late.pk}/cancel/", {}, format="json")
    assert response.status_code == 200, response.content
    credits = api_a.get(f"/api/v1/work-orders/{credits_a.pk}/credits/").json()
    assert [e["kind"] for e in credits["entries"][-2:]] == ["refund", "cancellation_fee"]
    assert credits["balance"] == 100 - 10  # 20 refunded, then half of them charged


def test_cancelling_a_cancelled_redemption_is_a_409_conflict(api_a, redemption_a):
    api_a.post(f"/api/v1/redemptions/{redemption_a.pk}/cancel/", {}, format="json")
    again = api_a.post(f"/api/v1/redemptions/{redemption_a.pk}/cancel/", {}, format="json")
    assert again.status_code == 409
    assert (
        api_a.get(f"/api/v1/work-orders/{redemption_a.work_order_id}/credits/").json()["balance"]
        == 100
    )
