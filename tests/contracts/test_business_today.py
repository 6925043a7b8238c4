""" "Today" for a work order (#22): contracts.times.work_order_today, the date in the
work order's support location's zone (BUSINESS_TIME_ZONE when it has none), whichever
door asks and whichever zone is active. Tests marked `midnight` run at 23:58 and 00:02
UTC with the locations in Amsterdam, Los Angeles and Tokyo (tests/conftest.py)."""

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.utils import timezone

from contracts.models import WorkOrder
from contracts.times import local_today_expression, work_order_today, work_order_zone
from core.times import business_today, zone_today
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.mark.midnight
def test_today_is_the_business_zones_date_whatever_zone_is_active(midnight):
    _instant, zone = midnight
    expected = timezone.now().astimezone(zoneinfo.ZoneInfo(zone)).date()
    for active in ("UTC", "Pacific/Auckland", "America/Los_Angeles"):
        with timezone.override(zoneinfo.ZoneInfo(active)):
            assert business_today() == expected


def _at(zone: str):
    return f.SupportLocationFactory(timezone=zone)


# 23:58 UTC on 30 June: 1 July in Tokyo, still 30 June in Los Angeles.
AT = dt.datetime(2026, 6, 30, 23, 58, tzinfo=dt.UTC)


def test_each_work_order_counts_in_its_own_locations_zone(settings):  # R14
    settings.BUSINESS_TIME_ZONE = "Europe/Amsterdam"
    tokyo = f.WorkOrderFactory(support_location=_at("Asia/Tokyo"))
    la = f.WorkOrderFactory(support_location=_at("America/Los_Angeles"))
    assert work_order_zone(tokyo) == "Asia/Tokyo"
    assert work_order_today(tokyo, now=AT) == dt.date(2026, 7, 1)
    assert work_order_today(la, now=AT) == dt.date(2026, 6, 30)


def test_without_a_location_the_business_zone_counts(settings):  # R14
    settings.BUSINESS_TIME_ZONE = "Asia/Tokyo"
    loose = f.WorkOrderFactory(support_location=None)
    assert work_order_zone(loose) == "Asia/Tokyo"
    assert work_order_today(loose, now=AT) == dt.date(2026, 7, 1)


def test_an_unknown_zone_falls_back_to_the_business_zone_and_never_raises(settings):
    settings.BUSINESS_TIME_ZONE = "America/Los_Angeles"
    assert zone_today("Mars/Olympus_Mons", AT) == dt.date(2026, 6, 30)
    assert zone_today("", AT) == dt.date(2026, 6, 30)


def test_a_term_ending_today_in_la_is_expired_in_tokyo_at_the_same_instant(settings):  # R14
    settings.BUSINESS_TIME_ZONE = "Europe/Amsterdam"
    term = {"start_date": dt.date(2025, 7, 1), "end_date": dt.date(2026, 6, 30)}
    tokyo = f.WorkOrderFactory(support_location=_at("Asia/Tokyo"), **term)
    la = f.WorkOrderFactory(support_location=_at("America/Los_Angeles"), **term)
    with time_machine.travel(AT, tick=False):
        assert tokyo.status == "expired"
        assert la.status == "active"
        # The list's SQL status is the same per row (contracts.times.local_today_expression).
        codes = dict(
            WorkOrder.objects.filter(pk__in=[tokyo.pk, la.pk])
            .with_status()
            .values_list("pk", "status_code")
        )
        assert codes == {tokyo.pk: "expired", la.pk: "active"}
        assert list(WorkOrder.objects.filter(pk__in=[tokyo.pk, la.pk]).current()) == [la]


def test_the_sql_today_matches_the_python_today_for_every_zone(settings):  # R14
    settings.BUSINESS_TIME_ZONE = "Europe/Amsterdam"
    orders = [
        f.WorkOrderFactory(support_location=_at(z))
        for z in ("Asia/Tokyo", "America/Los_Angeles", "Europe/Amsterdam", "Pacific/Kiritimati")
    ] + [f.WorkOrderFactory(support_location=None)]
    rows = dict(
        WorkOrder.objects.filter(pk__in=[o.pk for o in orders])
        .annotate(day=local_today_expression(now=AT))
        .values_list("pk", "day")
    )
    assert rows == {o.pk: work_order_today(o, now=AT) for o in orders}


@pytest.mark.midnight
def test_r13_dse_is_refused_on_a_work_order_that_ended_yesterday(
    midnight, api_staff, customer_a
):  # R13
    today = business_today()
    ended = f.WorkOrderFactory(
        customer=customer_a,
        number="WO-ENDED",
        package="advanced",
        start_date=today - dt.timedelta(days=400),
        end_date=today - dt.timedelta(days=1),
    )
    assert work_order_today(ended) == today
    assert ended.status == "expired"
    response = api_staff.patch(
        f"/api/v1/work-orders/{ended.pk}/",
        {"lines": [{"service": "dse", "quantity": "10"}]},
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["rule"] == "R13"


@pytest.mark.midnight
def test_a_work_order_ending_today_is_still_active_on_every_door(
    midnight, api_staff, client_staff, customer_a
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
    listed = api_staff.get("/api/v1/work-orders/", {"status": "active"}).json()
    assert "WO-TODAY" in [row["number"] for row in listed["results"]]
    response = api_staff.patch(
        f"/api/v1/work-orders/{current.pk}/",
        {"lines": [{"service": "dse", "quantity": "10"}]},
        format="json",
    )
    assert response.status_code == 200, response.content
