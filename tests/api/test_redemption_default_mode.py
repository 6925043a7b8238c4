"""API.md Revision 2, "Entitlements": "Redemptions: `delivery_mode` is optional.
Workshops default to per participant (quantity = participants) and On-demand
Assessment to remote." (R20, R21)"""

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from tests import factories as f


def _in_days(days: int) -> str:
    return (timezone.localdate() + dt.timedelta(days=days)).isoformat()


def test_a_workshop_without_a_mode_is_per_participant(api_staff, credits_a, rate_workshops):  # R20
    response = api_staff.post(
        f"/api/v1/work-orders/{credits_a.pk}/redemptions/",
        {"service": "workshops", "quantity": "3", "scheduled_for": _in_days(40)},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["delivery_mode"] == "per_participant"
    assert response.json()["credits"] == 30  # 3 participants x 10


def test_the_on_demand_assessment_without_a_mode_is_remote(api_staff, credits_a, staff):  # R21
    credits_a.cloud_subscription_active = True
    credits_a.save()
    f.RateFactory(service=f.service("on-demand-assessment"), credits_per_unit=Decimal("5"))
    url = f"/api/v1/work-orders/{credits_a.pk}/redemptions/"
    body = {"service": "on-demand-assessment", "quantity": "1", "scheduled_for": _in_days(40)}
    response = api_staff.post(url, body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["delivery_mode"] == "remote"
    # Remote is at most one day (R21): two days without a mode are refused as remote.
    response = api_staff.post(url, {**body, "quantity": "2"}, format="json")
    assert response.status_code == 400 and "quantity" in response.json()


def test_a_named_mode_still_counts(api_staff, credits_a, rate_workshops):  # R20
    response = api_staff.post(
        f"/api/v1/work-orders/{credits_a.pk}/redemptions/",
        {
            "service": "workshops",
            "quantity": "1",
            "scheduled_for": _in_days(40),
            "delivery_mode": "standard",
        },
        format="json",
    )
    assert response.status_code == 400 and "delivery_mode" in response.json()
