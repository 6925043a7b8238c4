"""`POST /api/v1/redemptions/{id}/reschedule/`: moving a redemption (R16), scoped, idempotent."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.utils import timezone

from credits import services as credit_services
from credits.models import CreditEntry, Redemption
from tests import factories as f


def in_days(n: int) -> str:
    return (timezone.localdate() + dt.timedelta(days=n)).isoformat()


def late_redemption(work_order):
    """Two workshop participants (20 credits) delivered in 5 days: a move costs the fee."""
    return credit_services.credits_redeem(
        work_order=work_order,
        service=f.service("workshops"),
        quantity=Decimal("2"),
        scheduled_for=timezone.localdate() + dt.timedelta(days=5),
        delivery_mode="per_participant",
    )


@pytest.mark.midnight
def test_customer_a_moves_its_redemption_and_a_late_move_costs_the_fee(
    api_a, credits_a, rate_workshops
):  # R16
    r = late_redemption(credits_a)
    url = f"/api/v1/redemptions/{r.pk}/reschedule/"
    response = api_a.post(url, {"scheduled_for": in_days(40)}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["scheduled_for"], body["status"], body["version"]) == (in_days(40), "scheduled", 2)
    credits = api_a.get(f"/api/v1/work-orders/{credits_a.pk}/credits/").json()
    assert credits["balance"] == 100 - 20 - 20  # the redemption, then the R16 fee (100%)
    assert credits["entries"][-1]["kind"] == "cancellation_fee"
    assert "moved" in credits["entries"][-1]["reference"]


def test_a_retried_move_with_the_same_idempotency_key_pays_the_fee_once(
    api_a, credits_a, rate_workshops
):  # R16
    r = late_redemption(credits_a)
    url = f"/api/v1/redemptions/{r.pk}/reschedule/"
    body = {"scheduled_for": in_days(40), "reason": "venue"}
    first = api_a.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="mv-1")
    again = api_a.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="mv-1")
    assert first.status_code == again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert CreditEntry.objects.filter(kind="cancellation_fee").count() == 1
    other = api_a.post(
        url, {"scheduled_for": in_days(41)}, format="json", HTTP_IDEMPOTENCY_KEY="mv-1"
    )
    assert other.status_code == 409


def test_customer_b_gets_404_for_a_redemption_of_a_and_nothing_moves(
    api_b, credits_a, rate_workshops
):
    r = late_redemption(credits_a)
    response = api_b.post(
        f"/api/v1/redemptions/{r.pk}/reschedule/", {"scheduled_for": in_days(40)}, format="json"
    )
    assert response.status_code == 404
    assert "ACME" not in response.content.decode().upper()
    r.refresh_from_db()
    assert (r.scheduled_for, r.version) == (timezone.localdate() + dt.timedelta(days=5), 1)
    assert CreditEntry.objects.filter(work_order=credits_a).count() == 2  # grant, redemption


@pytest.mark.midnight
def test_bad_dates_are_400_and_a_short_balance_for_the_fee_is_409_naming_r16(
    api_a, credits_a, rate_workshops
):  # R14, R16
    r = late_redemption(credits_a)
    url = f"/api/v1/redemptions/{r.pk}/reschedule/"
    assert api_a.post(url, {"scheduled_for": "soon"}, format="json").status_code == 400
    outside = api_a.post(url, {"scheduled_for": in_days(2000)}, format="json")
    assert outside.status_code == 400 and "R14" in json.dumps(outside.json())
    credit_services.credits_redeem(  # spend the rest: 80 credits, balance 0
        work_order=credits_a,
        service=f.service("workshops"),
        quantity=Decimal("8"),
        scheduled_for=timezone.localdate() + dt.timedelta(days=30),
        delivery_mode="per_participant",
    )
    short = api_a.post(url, {"scheduled_for": in_days(40)}, format="json")
    assert short.status_code == 409 and "R16" in json.dumps(short.json())
    assert Redemption.objects.get(pk=r.pk).version == 1


def test_the_schema_documents_reschedule_with_its_idempotency_key(api_anon):
    schema = json.loads(
        api_anon.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").content
    )
    operation = schema["paths"]["/api/v1/redemptions/{id}/reschedule/"]["post"]
    assert "Idempotency-Key" in {p["name"] for p in operation.get("parameters", [])}
    assert {"200", "400", "404", "409"} <= set(operation["responses"])
