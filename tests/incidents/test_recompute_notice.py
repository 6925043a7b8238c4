"""A calendar change that moves open incidents' deadlines (R5) tells the account
manager and the customer's webhooks (incident.updated), once per recomputation run;
a warning already sent is sent again for the moved deadline (issue #5)."""

import datetime as dt

import pytest
import time_machine

from contracts.models import SupportLocation
from contracts.signals import calendar_changed
from core.times import utc_iso
from incidents import services as s
from incidents.models import DeadlineRecomputation
from incidents.sweep import run_deadline_sweep
from notifications.models import OutboxMessage
from tests import factories as f
from tests.incidents.support import ams, open_incident, work_order

FRI_1600 = ams(2026, 3, 6, 16, 0)


@pytest.fixture
def wo(customer_a, staff):
    return work_order(customer=customer_a, account_manager=staff)


def updated(incident):
    return OutboxMessage.objects.filter(
        event="incident.updated", key__startswith=f"incident:{incident.pk}:recomputed:"
    )


def close_monday(location, staff, capture):
    f.ClosureDayFactory(location=location, date=dt.date(2026, 3, 9), name="Extra closure")
    with capture(execute=True):
        calendar_changed.send(sender=SupportLocation, location=location, by=staff)


def test_a_calendar_change_notifies_each_moved_incident_once_per_run(
    wo, user_a, staff, django_capture_on_commit_callbacks
):  # R5
    wo_, contact = wo
    with time_machine.travel(FRI_1600, tick=False):
        moved = open_incident(wo_, contact, by=user_a)
        responded = open_incident(wo_, contact, by=user_a)
        s.incident_respond(incident=responded, by=staff)
        close_monday(wo_.support_location, staff, django_capture_on_commit_callbacks)
    run = DeadlineRecomputation.objects.get()
    rows = updated(moved)
    assert {(r.channel, r.recipient) for r in rows} == {("webhook", ""), ("email", staff.email)}
    assert {r.key.rsplit(":", 1)[0] for r in rows if r.channel == "webhook"} == {
        f"incident:{moved.pk}:recomputed:{run.pk}"
    }
    webhook = rows.get(channel="webhook")
    moved.refresh_from_db()
    assert webhook.payload["data"]["response_due_at"] == utc_iso(moved.response_due_at)  # API.md: Z
    assert webhook.payload["detail"]["deadlines_recomputed"] == run.pk
    assert "recomputed" in rows.get(channel="email").body
    assert not updated(responded).exists()  # its deadlines did not move

    # A second run that moves nothing notifies nothing.
    with time_machine.travel(FRI_1600 + dt.timedelta(minutes=5), tick=False):
        assert s.incidents_recompute_deadlines(location=wo_.support_location, by=staff) == 0
    assert updated(moved).count() == 2


def test_a_warning_already_sent_is_sent_again_for_the_moved_deadline(
    wo, user_a, staff, django_capture_on_commit_callbacks
):  # R4, R5
    wo_, contact = wo
    with time_machine.travel(FRI_1600, tick=False):
        incident = open_incident(wo_, contact, by=user_a)
    assert incident.response_warning_at == ams(2026, 3, 9, 10, 30)
    with time_machine.travel(ams(2026, 3, 9, 10, 35), tick=False):
        run_deadline_sweep()
        close_monday(wo_.support_location, staff, django_capture_on_commit_callbacks)
    incident.refresh_from_db()
    assert incident.response_warning_at == ams(2026, 3, 10, 10, 30)
    with time_machine.travel(ams(2026, 3, 10, 10, 31), tick=False):
        run_deadline_sweep()
        run_deadline_sweep()
    warnings = OutboxMessage.objects.filter(event="incident.response_warning", channel="webhook")
    assert sorted(w.occurred_at for w in warnings) == [
        ams(2026, 3, 9, 10, 30),
        ams(2026, 3, 10, 10, 30),
    ]
