"""One "today" for a contract (#22): core.times.business_today, counted in the
support location's zone (settings.BUSINESS_TIME_ZONE), whichever door asks and in
whichever zone the caller's clock is. Each test runs on both sides of midnight, in
several zones, so the suite passes at every hour."""

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.utils import timezone

from core.times import business_today
from tests import factories as f

# (business zone, instant): just before and just after midnight in the business zone,
# and UTC's midnight, which is 01:00/02:00 in Amsterdam (the 23:58 UTC case).
MOMENTS = [
    ("Europe/Amsterdam", "2026-12-05T23:58:00+00:00"),
    ("Europe/Amsterdam", "2026-12-05T22:58:00+00:00"),
    ("Europe/Amsterdam", "2026-12-05T23:02:00+00:00"),
    ("Europe/Amsterdam", "2026-06-30T21:59:00+00:00"),
    ("America/New_York", "2026-12-06T04:58:00+00:00"),
    ("America/New_York", "2026-12-06T05:02:00+00:00"),
    ("Australia/Sydney", "2026-12-05T12:58:00+00:00"),
    ("Australia/Sydney", "2026-12-05T13:02:00+00:00"),
    ("Pacific/Kiritimati", "2026-12-05T09:59:00+00:00"),
]


@pytest.fixture(params=MOMENTS, ids=[f"{z}@{t[:16]}" for z, t in MOMENTS])
def around_midnight(request, settings):
    zone, instant = request.param
    settings.BUSINESS_TIME_ZONE = zone
    with time_machine.travel(dt.datetime.fromisoformat(instant), tick=False):
        yield zoneinfo.ZoneInfo(zone)


def test_today_is_the_business_zones_date_whatever_zone_is_active(around_midnight):
    expected = timezone.now().astimezone(around_midnight).date()
    for active in ("UTC", "Pacific/Auckland", "America/Los_Angeles"):
        with timezone.override(zoneinfo.ZoneInfo(active)):
            assert business_today() == expected


def test_r13_dse_is_refused_on_a_work_order_that_ended_yesterday(
    around_midnight, api_staff, customer_a
):  # R13
    today = business_today()
    ended = f.WorkOrderFactory(
        customer=customer_a,
        number="WO-ENDED",
        package="advanced",
        start_date=today - dt.timedelta(days=400),
        end_date=today - dt.timedelta(days=1),
    )
    assert ended.status == "expired"
    response = api_staff.patch(
        f"/api/v1/work-orders/{ended.pk}/",
        {"lines": [{"service": "dse", "quantity": "10"}]},
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["rule"] == "R13"


def test_a_work_order_ending_today_is_still_active_on_every_door(
    around_midnight, api_staff, customer_a
):  # R13
    today = business_today()
    current = f.WorkOrderFactory(
        customer=customer_a,
        number="WO-TODAY",
        package="advanced",
        start_date=today - dt.timedelta(days=300),
        end_date=today,
    )
    assert current.status == "active"
    assert api_staff.get(f"/api/v1/work-orders/{current.pk}/").json()["status"] == "active"
