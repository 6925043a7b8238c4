"""incident_explain and incident_preview_target: why a deadline is what it is."""

import datetime as dt

import pytest
import time_machine

from incidents.selectors import incident_explain, incident_preview_target
from tests import factories as f
from tests.incidents.support import ams, open_incident, work_order

FRI_1600 = ams(2026, 3, 6, 16, 0)


@pytest.fixture
def wo(customer_a, staff):
    return work_order(customer=customer_a, account_manager=staff)


def test_it_explains_a_business_hours_deadline_and_the_skipped_holiday(wo, user_a):  # R4, R5
    wo_, contact = wo
    f.ClosureDayFactory(
        location=wo_.support_location, date=dt.date(2026, 3, 9), name="Tweede Paasdag"
    )
    with time_machine.travel(FRI_1600, tick=False):
        incident = open_incident(wo_, contact, by=user_a)
    why = incident_explain(incident)
    assert why["package"] == "advanced" and why["severity"] == "normal"
    assert (
        why["rule"] == "R4 Advanced normal: 4 business hours" and why["clock"] == "business_hours"
    )
    assert why["business_hours"]["location"] == "Headquarters"
    assert why["business_hours"]["text"] == "Mon–Fri 09:00–17:30 (Europe/Amsterdam)"
    assert why["response_due_at"] == ams(2026, 3, 10, 11, 30) == incident.response_due_at
    assert why["closed_dates"] == [{"date": dt.date(2026, 3, 9), "name": "Tweede Paasdag"}]
    assert why["pauses"][0]["from"] == ams(2026, 3, 6, 17, 30) and why["pauses"][0]["to"] == ams(
        2026, 3, 10, 9, 0
    )
    assert (
        "Tweede Paasdag" in why["pauses"][0]["reason"]
        and "Sat 07 Mar" in why["pauses"][0]["reason"]
    )
    assert (
        "Tweede Paasdag" in why["text"]
        and "first response due Tue 10 Mar 2026 11:30 CET" in why["text"]
    )


def test_it_explains_a_24x7_target(customer_a, user_a):  # R6
    wo_, contact = work_order(customer=customer_a, package="performance")
    with time_machine.travel(FRI_1600, tick=False):
        incident = open_incident(wo_, contact, by=user_a, severity="critical")
    why = incident_explain(incident)
    assert why["clock"] == "24x7" and why["business_hours"] is None and why["pauses"] == []
    assert why["target"] == "30 minutes 24x7"
    assert "Critical incidents run 24x7 (R6)." in why["sentences"]


def test_it_says_when_the_table_changed_since_opening(wo, user_a):  # R4
    from incidents.models import ResponseTarget

    wo_, contact = wo
    incident = open_incident(wo_, contact, by=user_a)
    ResponseTarget.objects.filter(
        package="advanced", severity="normal", rapid_response=False
    ).update(minutes=120)
    why = incident_explain(incident)
    assert why["target_minutes"] == 240
    assert any("keeps the target it was opened under" in line for line in why["sentences"])


def test_it_explains_why_rapid_response_did_not_apply(customer_a, user_a):  # R9
    wo_, contact = work_order(customer=customer_a, deployment_docs_on_file=False)
    f.WorkOrderLineFactory(work_order=wo_, service=f.service("rapid-response"), quantity=1)
    incident = open_incident(wo_, contact, by=user_a, severity="critical", is_cloud=True)
    why = incident_explain(incident)
    assert any("deployment documentation" in line for line in why["sentences"])


def test_the_preview_shows_the_due_time_the_incident_will_get(wo, user_a):
    wo_, contact = wo
    with time_machine.travel(FRI_1600, tick=False):
        preview = incident_preview_target(
            work_order=wo_, severity="normal", is_cloud=False, around_the_clock=False, product=""
        )
        incident = open_incident(wo_, contact, by=user_a)
    assert preview["response_due_at"] == incident.response_due_at
    assert preview["rule"] == incident.target_rule
    assert preview["opened_at"] == FRI_1600


def test_the_preview_of_24x7_effort_differs(wo):  # R6
    wo_, _ = wo
    preview = incident_preview_target(
        work_order=wo_,
        severity="normal",
        is_cloud=False,
        around_the_clock=True,
        product="",
        opened_at=FRI_1600,
    )
    assert preview["response_due_at"] == ams(2026, 3, 6, 20, 0)
