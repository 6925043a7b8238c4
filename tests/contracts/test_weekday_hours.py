"""R5: a support location's business hours per weekday (e.g. Mon-Thu 08:30-17:30, Fri
08:30-16:00), in the model, the portal's location form, the API and the SLA clock."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from contracts.models import SupportLocation
from contracts.services import support_location_create, support_location_update
from core.errors import RuleViolation
from incidents.explain import describe_hours
from tests import factories as f
from tests.incidents.support import ams, open_incident, work_order

pytestmark = pytest.mark.django_db

T = dt.time
#: Monday to Thursday 08:30-17:30, Friday 08:30-16:00.
SHORT_FRIDAY = {**{d: (T(8, 30), T(17, 30)) for d in range(4)}, 4: (T(8, 30), T(16, 0))}


@pytest.fixture
def location(customer_a, staff):
    return support_location_create(
        customer=customer_a,
        name="Utrecht",
        country="NL",
        timezone="Europe/Amsterdam",
        weekday_hours=SHORT_FRIDAY,
        by=staff,
    )


def test_each_weekday_keeps_its_own_hours(location):  # R5
    location = SupportLocation.objects.get(pk=location.pk)
    assert location.hours_by_weekday() == SHORT_FRIDAY
    assert location.hours_text == "Mon–Thu 08:30–17:30, Fri 08:30–16:00"
    # The simple shape summarises it for its older readers.
    assert (location.opens_at, location.closes_at, location.weekdays) == (
        T(8, 30),
        T(17, 30),
        "0,1,2,3,4",
    )


def test_a_row_from_before_per_weekday_hours_reads_the_simple_shape(customer_a):  # R5
    old = f.SupportLocationFactory(
        customer=customer_a, opens_at=T(8), closes_at=T(12), weekdays="0,1,2,3,4,5"
    )
    assert old.weekday_hours is None
    assert old.hours_by_weekday() == {d: (T(8), T(12)) for d in range(6)}


def test_bad_hours_are_refused_in_plain_words(customer_a, location, staff):  # R5
    with pytest.raises(RuleViolation, match="on Fri the location must close after it opens"):
        support_location_update(location=location, weekday_hours={4: (T(16), T(8, 30))}, by=staff)
    with pytest.raises(RuleViolation, match="at least one weekday"):
        support_location_update(location=location, weekday_hours={}, by=staff)
    assert SupportLocation.objects.get(pk=location.pk).hours_by_weekday() == SHORT_FRIDAY


def test_the_simple_shape_still_sets_the_same_hours_every_open_day(location, staff):  # R5
    before = location.calendar_version
    support_location_update(location=location, opens_at=T(9), closes_at=T(17), by=staff)
    location = SupportLocation.objects.get(pk=location.pk)
    assert location.hours_by_weekday() == {d: (T(9), T(17)) for d in range(5)}
    assert location.calendar_version > before


class TestTheSlaClockUsesEachWeekdaysHours:
    @pytest.fixture
    def wo(self, customer_a, location):
        return work_order(customer=customer_a, support_location=location)

    def test_a_friday_afternoon_incident_runs_until_four_then_on_monday(self, wo, user_a):  # R4, R5
        wo_, contact = wo
        # Fri 6 March 2026 14:00: 2 h left on Friday (until 16:00, not 17:30), the other
        # 2 h of the 4 business hours from Monday 08:30.
        with time_machine.travel(ams(2026, 3, 6, 14, 0), tick=False):
            incident = open_incident(wo_, contact, by=user_a)
        assert incident.response_due_at == ams(2026, 3, 9, 10, 30)

    def test_a_thursday_afternoon_incident_runs_until_half_past_five(self, wo, user_a):  # R4, R5
        wo_, contact = wo
        # Thu 5 March 14:00: 3.5 h on Thursday (until 17:30), 0.5 h on Friday from 08:30.
        with time_machine.travel(ams(2026, 3, 5, 14, 0), tick=False):
            incident = open_incident(wo_, contact, by=user_a)
        assert incident.response_due_at == ams(2026, 3, 6, 9, 0)

    def test_the_explanation_shows_the_hours_per_weekday(self, wo):  # R5
        wo_, _contact = wo
        assert describe_hours(wo_)["text"] == (
            "Mon–Thu 08:30–17:30, Fri 08:30–16:00 (Europe/Amsterdam)"
        )


def test_the_api_takes_different_hours_per_weekday_and_returns_them(api_staff, customer_a):  # R5
    hours = {d: {"open": "08:30", "close": "17:30"} for d in ("mon", "tue", "wed", "thu")}
    hours["fri"] = {"open": "08:30", "close": "16:00"}
    body = {"name": "Utrecht", "country": "NL", "timezone": "Europe/Amsterdam"}
    r = api_staff.post(
        f"/api/v1/customers/{customer_a.code}/locations/",
        {**body, "business_hours": hours},
        format="json",
    )
    assert r.status_code == 201, r.json()
    assert r.json()["business_hours"] == hours
    location = SupportLocation.objects.get(pk=r.json()["id"])
    assert location.hours_by_weekday()[4] == (T(8, 30), T(16))
    bad = api_staff.patch(
        f"/api/v1/locations/{location.pk}/",
        {"business_hours": {"fri": {"open": "16:00", "close": "08:30"}}},
        format="json",
    )
    assert bad.status_code == 400 and "fri" in str(bad.json())


def test_the_portals_location_form_saves_a_short_friday(client_staff, customer_a):  # R5
    location = f.SupportLocationFactory(customer=customer_a)
    wo = f.WorkOrderFactory(customer=customer_a, support_location=location)
    data = {
        "loc-name": "Utrecht",
        "loc-country": "NL",
        "loc-timezone": "Europe/Amsterdam",
        **{f"loc-opens_{d}": "08:30" for d in range(5)},
        **{f"loc-closes_{d}": "17:30" for d in range(4)},
        "loc-closes_4": "16:00",
    }
    url = reverse("contracts:location_update", args=[wo.pk])
    assert client_staff.post(url, data).status_code == 302
    location.refresh_from_db()
    assert location.hours_by_weekday() == SHORT_FRIDAY
    page = client_staff.get(reverse("contracts:work_order_edit", args=[wo.pk])).content.decode()
    assert 'name="loc-closes_4" value="16:00"' in page
    # A weekday with one time only is a form error, nothing saved.
    r = client_staff.post(url, {**data, "loc-closes_4": ""})
    assert r.status_code == 200 and "Give both times for Friday" in r.content.decode()
    location.refresh_from_db()
    assert location.hours_by_weekday() == SHORT_FRIDAY
