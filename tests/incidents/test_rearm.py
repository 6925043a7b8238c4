"""Re-armed deadlines are notified again, once (issue #5): the sweep's outbox keys
carry the deadline's due instant, so a deadline moved to a new time is a new
notification, while a re-run of the same sweep still writes nothing twice."""

import datetime as dt

import pytest
import time_machine

from incidents import services as s
from incidents.models import DeadlineEvent
from incidents.sweep import run_deadline_sweep
from notifications.models import OutboxMessage
from tests.incidents.support import ams, open_incident, work_order

OPENED = ams(2026, 3, 3, 10, 0)  # a Tuesday
CRITICAL_WARNING = ams(2026, 3, 3, 10, 45)  # Core critical: 1 hour 24x7, warned at 75%
# Core normal: 8 business hours from 10:00 Tuesday (09:00-17:30): due Wednesday 09:30,
# warned after 6 business hours, Tuesday 16:00.
NORMAL_WARNING = ams(2026, 3, 3, 16, 0)
NORMAL_DUE = ams(2026, 3, 4, 9, 30)


def sweep_at(when):
    with time_machine.travel(when, tick=False):
        return run_deadline_sweep()


def webhooks(event, incident):
    return OutboxMessage.objects.filter(
        event=event, channel="webhook", key__startswith=f"incident:{incident.pk}:"
    )


@pytest.fixture
def core(customer_a, staff):
    return work_order(customer=customer_a, package="core", account_manager=staff)


@pytest.fixture
def critical(core, user_a):
    wo, contact = core
    with time_machine.travel(OPENED, tick=False):
        return open_incident(wo, contact, by=user_a, severity="critical")


def test_severity_change_before_response_rearms_the_warning_and_notifies_it_once_more(
    critical, staff
):  # R3, R4
    sweep_at(CRITICAL_WARNING + dt.timedelta(minutes=5))
    assert webhooks("incident.response_warning", critical).count() == 1
    with time_machine.travel(CRITICAL_WARNING + dt.timedelta(minutes=10), tick=False):
        s.incident_change_severity(
            incident=critical, severity="normal", reason="Workaround found", by=staff
        )
    critical.refresh_from_db()
    assert (critical.response_warning_at, critical.response_due_at) == (
        NORMAL_WARNING,
        NORMAL_DUE,
    )
    assert not DeadlineEvent.objects.filter(incident=critical).exists()  # re-armed

    sweep_at(NORMAL_WARNING + dt.timedelta(minutes=1))
    rows = webhooks("incident.response_warning", critical)
    assert rows.count() == 2
    assert sorted(r.occurred_at for r in rows) == [CRITICAL_WARNING, NORMAL_WARNING]
    # The re-armed warning reaches the account manager by e-mail again too.
    assert (
        OutboxMessage.objects.filter(
            event="incident.response_warning", recipient=staff.email
        ).count()
        == 2
    )


def test_a_rearmed_deadline_swept_twice_is_still_notified_once(critical, staff):  # R3, R4
    sweep_at(CRITICAL_WARNING + dt.timedelta(minutes=5))
    with time_machine.travel(CRITICAL_WARNING + dt.timedelta(minutes=10), tick=False):
        s.incident_change_severity(
            incident=critical, severity="normal", reason="Workaround found", by=staff
        )
    sweep_at(NORMAL_DUE + dt.timedelta(minutes=1))
    total = OutboxMessage.objects.count()
    second = sweep_at(NORMAL_DUE + dt.timedelta(minutes=2))
    assert second.events == 0 and second.notifications == 0
    assert OutboxMessage.objects.count() == total
    assert webhooks("incident.response_warning", critical).count() == 2
    assert webhooks("incident.response_breached", critical).count() == 1
    # The breach is recorded once, at its true (re-armed) time.
    assert DeadlineEvent.objects.get(incident=critical, threshold="breach").occurred_at == (
        NORMAL_DUE
    )


def test_a_new_wait_on_the_customer_is_notified_again_when_missed(core, user_a, staff):
    # The customer's side (DOMAIN.md): each wait has its own 24 hours.
    wo, contact = core
    with time_machine.travel(OPENED, tick=False):
        incident = open_incident(wo, contact, by=user_a)
        s.incident_respond(incident=incident, by=staff)
        s.incident_set_status(incident=incident, status="awaiting_customer", by=staff)
    sweep_at(OPENED + dt.timedelta(hours=25))

    def overdue():
        return OutboxMessage.objects.filter(
            event="incident.customer_overdue", recipient=staff.email
        )

    assert overdue().count() == 1
    later = OPENED + dt.timedelta(hours=26)
    with time_machine.travel(later, tick=False):
        s.incident_set_status(incident=incident, status="in_progress", by=staff)
        s.incident_set_status(incident=incident, status="awaiting_customer", by=staff)
    sweep_at(later + dt.timedelta(hours=25))
    sweep_at(later + dt.timedelta(hours=25, minutes=1))  # a re-run adds nothing
    assert overdue().count() == 2
    assert sorted(r.occurred_at for r in overdue()) == [
        OPENED + dt.timedelta(hours=24),
        later + dt.timedelta(hours=24),
    ]
