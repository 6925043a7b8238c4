"""The deadline sweep (incidents/sweep.py) with frozen time: warnings, breaches,
catch-up, idempotence, poison rows, escalation, customer-side misses (R4-R8)."""

import datetime as dt

import pytest
import time_machine
from django.db import transaction

from incidents.models import DeadlineEvent, Incident, IncidentEvent
from incidents.selectors import sweep_health
from incidents.sweep import run_deadline_sweep
from notifications.models import OutboxMessage, SweepRun
from tests import factories as f

UTC = dt.UTC
T0 = dt.datetime(2026, 3, 3, 9, 0, tzinfo=UTC)  # a Tuesday, 10:00 in Amsterdam
WARNING = T0 + dt.timedelta(hours=3)
DUE = T0 + dt.timedelta(hours=4)


def incident(work_order, contact, **kwargs):
    fields = dict(
        work_order=work_order,
        contact=contact,
        opened_at=T0,
        response_warning_at=WARNING,
        response_due_at=DUE,
        next_deadline_at=WARNING,
    )
    fields.update(kwargs)
    return f.IncidentFactory(**fields)


def sweep_at(when, **kwargs):
    with time_machine.travel(when, tick=False):
        return run_deadline_sweep(**kwargs)


def events_of(inc):
    return {
        (e.deadline, e.threshold): e.occurred_at for e in DeadlineEvent.objects.filter(incident=inc)
    }


def outbox(event=None):
    rows = OutboxMessage.objects.all()
    return rows.filter(event=event) if event else rows


@pytest.fixture
def inc(work_order_a, contact_a):
    return incident(work_order_a, contact_a)


def test_nothing_happens_before_the_warning_time(inc):
    result = sweep_at(WARNING - dt.timedelta(seconds=1))
    assert result.incidents == 0
    assert DeadlineEvent.objects.count() == 0
    assert outbox().count() == 0


def test_warning_at_75_percent_then_breach_each_recorded_once_with_true_time(
    inc, staff, contact_a
):  # R4
    sweep_at(WARNING + dt.timedelta(seconds=20))
    assert events_of(inc) == {("response", "warning"): WARNING}
    warning_rows = outbox("incident.response_warning")
    assert {r.recipient for r in warning_rows} == {
        staff.email,
        contact_a.email,
        "",
    }  # "" is the webhook row
    assert all(r.occurred_at == WARNING for r in warning_rows)
    hook = next(r for r in warning_rows if r.recipient == "")
    assert hook.payload["data"]["language"] == "en"  # R22, as in the API
    assert hook.payload["data"]["response_due_at"].endswith("Z")  # API.md: UTC, Z
    assert hook.payload["detail"]["occurred_at"].endswith("Z")
    inc.refresh_from_db()
    assert inc.next_deadline_at == DUE and not inc.response_breached

    sweep_at(DUE + dt.timedelta(seconds=20))
    assert events_of(inc) == {("response", "warning"): WARNING, ("response", "breach"): DUE}
    inc.refresh_from_db()
    assert inc.response_breached
    assert inc.next_deadline_at is None
    assert {r.recipient for r in outbox("incident.response_breached")} == {
        staff.email,
        contact_a.email,
        "",
    }
    # A breach escalates to the account manager (R8).
    assert [r.recipient for r in outbox("incident.escalated")] == [staff.email]
    assert (
        IncidentEvent.objects.filter(
            incident=inc, kind="escalation", data__action="breach_escalation"
        ).count()
        == 1
    )


def test_catch_up_after_an_hour_long_outage_records_each_threshold_once_at_its_true_time(inc):
    # The worker was down from before the warning until an hour after the breach.
    result = sweep_at(DUE + dt.timedelta(hours=1))
    assert result.events == 2
    assert events_of(inc) == {("response", "warning"): WARNING, ("response", "breach"): DUE}
    assert (
        outbox("incident.response_warning").filter(channel="webhook").get().occurred_at == WARNING
    )
    assert outbox("incident.response_breached").filter(channel="webhook").get().occurred_at == DUE
    assert IncidentEvent.objects.get(incident=inc, kind="breach").created_at == DUE


def test_running_the_sweep_twice_records_and_notifies_nothing_twice(inc):
    sweep_at(DUE + dt.timedelta(minutes=1))
    events, rows, timeline = (
        DeadlineEvent.objects.count(),
        outbox().count(),
        IncidentEvent.objects.count(),
    )
    second = sweep_at(DUE + dt.timedelta(minutes=2))
    assert second.incidents == 0
    assert (DeadlineEvent.objects.count(), outbox().count(), IncidentEvent.objects.count()) == (
        events,
        rows,
        timeline,
    )


def test_a_stale_next_deadline_is_tolerated_without_duplicates(inc):
    # Someone left next_deadline_at in the past although the warning is recorded:
    # the unique key refuses a second event and nothing is notified twice.
    sweep_at(WARNING + dt.timedelta(minutes=1))
    Incident.objects.filter(pk=inc.pk).update(next_deadline_at=WARNING)
    DeadlineEvent.objects.filter(incident=inc)  # still recorded
    rows = outbox().count()
    sweep_at(WARNING + dt.timedelta(minutes=2))
    assert DeadlineEvent.objects.filter(incident=inc).count() == 1
    assert outbox().count() == rows
    inc.refresh_from_db()
    assert inc.next_deadline_at == DUE


def test_a_poison_row_is_skipped_and_recorded_and_the_others_are_handled(
    work_order_a, contact_a, monkeypatch
):
    good = [incident(work_order_a, contact_a) for _ in range(3)]
    poison = incident(work_order_a, contact_a)
    import incidents.sweep_plan as sweep

    real = sweep._consequences

    def explode_for_poison(inc, *args, **kwargs):
        if inc.pk == poison.pk:
            raise ValueError("corrupt row")
        return real(inc, *args, **kwargs)

    monkeypatch.setattr(sweep, "_consequences", explode_for_poison)
    result = sweep_at(WARNING + dt.timedelta(minutes=1))
    assert result.failed == 1 and result.incidents == 3
    assert all(events_of(i) == {("response", "warning"): WARNING} for i in good)
    assert events_of(poison) == {}
    run = SweepRun.objects.get(job="deadline_sweep")
    assert run.failed == 1 and run.handled == 3
    assert run.detail["poison"][0]["incident"] == poison.pk
    # Still due: the next run tries it again (and here succeeds).
    monkeypatch.setattr(sweep, "_consequences", real)
    sweep_at(WARNING + dt.timedelta(minutes=2))
    assert events_of(poison) == {("response", "warning"): WARNING}


def test_a_row_that_fails_to_write_rolls_back_alone(work_order_a, contact_a, monkeypatch):
    good = [incident(work_order_a, contact_a) for _ in range(3)]
    poison = incident(work_order_a, contact_a)
    import incidents.sweep_plan as sweep

    real = sweep._payload

    def unserialisable_for_poison(inc, **extra):
        data = real(inc, **extra)
        if inc.pk == poison.pk:
            data["bad"] = object()  # fails in the bulk INSERT of the outbox
        return data

    monkeypatch.setattr(sweep, "_payload", unserialisable_for_poison)
    result = sweep_at(WARNING + dt.timedelta(minutes=1))
    assert result.failed == 1 and result.incidents == 3
    assert all(events_of(i) == {("response", "warning"): WARNING} for i in good)
    # Nothing half-written for the poison row: no event, no outbox row, same deadline.
    assert events_of(poison) == {}
    assert not outbox().filter(key__startswith=f"incident:{poison.pk}:").exists()
    poison.refresh_from_db()
    assert poison.next_deadline_at == WARNING


def test_outbox_rows_are_written_in_the_sweeps_transaction(inc):
    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        sweep_at(DUE + dt.timedelta(minutes=1))
        assert outbox().exists() and DeadlineEvent.objects.exists()
        raise Abort
    assert not outbox().exists()
    assert not DeadlineEvent.objects.exists()
    inc.refresh_from_db()
    assert inc.next_deadline_at == WARNING and not inc.response_breached


def test_closed_incidents_are_not_notified(inc):
    Incident.objects.filter(pk=inc.pk).update(status="closed")
    sweep_at(DUE + dt.timedelta(minutes=1))
    assert DeadlineEvent.objects.count() == 0 and not outbox().exists()
    inc.refresh_from_db()
    assert inc.next_deadline_at is None


def test_customer_miss_on_a_normal_incident_tells_the_account_manager_in_business_hours(
    work_order_a, contact_a, staff
):
    # Due Friday 2026-03-06 20:00 UTC (21:00 Amsterdam): the account manager hears of
    # it on Monday at 09:00 Amsterdam, not in the night.
    due = dt.datetime(2026, 3, 6, 20, 0, tzinfo=UTC)
    inc = incident(
        work_order_a,
        contact_a,
        status="awaiting_customer",
        responded_at=T0,
        customer_due_at=due,
        next_deadline_at=due,
    )
    sweep_at(due + dt.timedelta(minutes=1))
    assert events_of(inc) == {("customer_response", "due"): due}
    row = outbox("incident.customer_overdue").get()
    assert row.recipient == staff.email and row.urgency == "business_hours"
    assert row.deliver_after == dt.datetime(2026, 3, 9, 8, 0, tzinfo=UTC)
    # Not a 24x7 incident: no R6 proposal.
    assert not IncidentEvent.objects.filter(incident=inc, data__action="r6_proposal").exists()


def test_customer_miss_on_a_24x7_incident_proposes_lowering_severity_without_doing_it(
    work_order_a, contact_a, staff
):  # R6
    due = dt.datetime(2026, 3, 6, 20, 0, tzinfo=UTC)
    inc = incident(
        work_order_a,
        contact_a,
        status="awaiting_customer",
        responded_at=T0,
        around_the_clock=True,
        customer_due_at=due,
        next_deadline_at=due,
    )
    sweep_at(due + dt.timedelta(minutes=1))
    proposal = IncidentEvent.objects.get(incident=inc, data__action="r6_proposal")
    assert proposal.data["options"] == ["lower_severity", "drop_24x7"]
    inc.refresh_from_db()
    assert inc.severity == "normal" and inc.around_the_clock is True  # nothing done silently
    row = outbox("incident.customer_overdue").get()
    assert row.urgency == "immediate" and row.deliver_after <= due + dt.timedelta(minutes=1)


def test_performance_critical_incident_escalates_at_once(customer_a, staff):  # R7, R8
    wo = f.WorkOrderFactory(customer=customer_a, package="performance", account_manager=staff)
    contact = f.NamedContactFactory(work_order=wo, email="lead@acme.example", is_lead=True)
    inc = incident(
        wo,
        contact,
        severity="critical",
        target_minutes=30,
        target_clock="24x7",
        response_warning_at=T0 + dt.timedelta(minutes=22, seconds=30),
        response_due_at=T0 + dt.timedelta(minutes=30),
        critical_situation_due_at=T0,
        escalated_at=T0,
        next_status_update_at=T0 + dt.timedelta(hours=2),
        next_deadline_at=T0,
    )
    sweep_at(T0 + dt.timedelta(seconds=30))
    assert events_of(inc) == {("critical_situation", "due"): T0}
    actions = set(
        IncidentEvent.objects.filter(incident=inc, kind="escalation").values_list(
            "data__action", flat=True
        )
    )
    assert actions == {"escalation_started", "critical_situation_requested"}
    announced = outbox("incident.escalated").filter(key__startswith=f"incident:{inc.pk}:escalated:")
    assert {r.recipient for r in announced} == {staff.email, contact.email, ""}
    inc.refresh_from_db()
    assert inc.next_deadline_at == T0 + dt.timedelta(minutes=22, seconds=30)
    # Status-update cadence (R8): the reminder comes when it is due, once.
    sweep_at(T0 + dt.timedelta(hours=2, seconds=5))
    assert ("status_update", "due") in events_of(inc)
    assert IncidentEvent.objects.filter(incident=inc, data__action="status_update_due").count() == 1
    assert (
        IncidentEvent.objects.filter(incident=inc, data__action="escalation_started").count() == 1
    )


def test_escalation_is_announced_once_when_incidents_did_not_start_it(customer_a, staff):  # R8
    wo = f.WorkOrderFactory(customer=customer_a, package="advanced", account_manager=staff)
    contact = f.NamedContactFactory(work_order=wo)
    inc = incident(wo, contact, severity="critical", next_deadline_at=WARNING)
    sweep_at(WARNING + dt.timedelta(seconds=5))
    sweep_at(DUE + dt.timedelta(seconds=5))
    inc.refresh_from_db()
    assert inc.escalated_at == T0
    assert (
        IncidentEvent.objects.filter(incident=inc, data__action="escalation_started").count() == 1
    )
    assert (
        outbox("incident.escalated")
        .filter(key__startswith=f"incident:{inc.pk}:escalated:", channel="webhook")
        .count()
        == 1
    )


def test_the_sweep_records_its_run_and_the_dead_man_check_sees_a_backlog(inc, settings):
    settings.SWEEP_INTERVAL_SECONDS = 30
    late = WARNING + dt.timedelta(seconds=61)
    health = sweep_health(now=late)
    assert health["overdue"] is True and health["backlog_age_seconds"] == 61.0
    assert health["last_run_at"] is None
    sweep_at(late)
    run = SweepRun.objects.get(job="deadline_sweep")
    assert run.handled == 1 and run.failed == 0 and run.detail["deadline_events"] == 1
    health = sweep_health(now=late)
    assert health["overdue"] is False and health["backlog_age_seconds"] == 0
    assert health["last_run_at"] is not None


def test_the_dead_man_check_logs_an_error_when_the_backlog_is_older_than_two_intervals(
    inc, settings, caplog, monkeypatch
):
    settings.SWEEP_INTERVAL_SECONDS = 30
    import incidents.sweep_plan as sweep

    # A sweep that cannot handle the row (it stays due): the backlog is reported.
    monkeypatch.setattr(
        sweep, "_consequences", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("stuck"))
    )
    with caplog.at_level("ERROR", logger="incidents.sweep"):
        sweep_at(WARNING + dt.timedelta(minutes=5))
    assert any("deadline sweep is behind" in r.getMessage() for r in caplog.records)


def test_many_due_incidents_are_handled_across_batches(work_order_a, contact_a):
    incidents = [incident(work_order_a, contact_a) for _ in range(7)]
    result = sweep_at(DUE + dt.timedelta(minutes=1), batch_size=3)
    assert result.batches == 3 and result.incidents == 7 and result.events == 14
    assert all(len(events_of(i)) == 2 for i in incidents)


def test_an_escalation_announced_when_opened_is_not_repeated_by_the_sweep(customer_a, staff):  # R8
    from incidents.sweep import announce_escalation

    wo = f.WorkOrderFactory(customer=customer_a, package="performance", account_manager=staff)
    contact = f.NamedContactFactory(work_order=wo)
    inc = incident(
        wo,
        contact,
        severity="critical",
        escalated_at=T0,
        critical_situation_due_at=T0,
        next_deadline_at=T0,
    )
    with time_machine.travel(T0, tick=False):
        assert announce_escalation(incident=inc) is True
        assert announce_escalation(incident=inc) is False
    sweep_at(T0 + dt.timedelta(seconds=10))
    assert (
        IncidentEvent.objects.filter(incident=inc, data__action="escalation_started").count() == 1
    )
    assert (
        outbox("incident.escalated").filter(key__startswith=f"incident:{inc.pk}:escalated:").count()
        == 3
    )
