"""incidents.deadlines (what is pending, next_deadline_at) and the recomputation of
open incidents when a calendar (R5) or a response target (R4) changes."""

import datetime as dt

import pytest
import time_machine

from contracts.models import SupportLocation
from contracts.signals import calendar_changed
from incidents import services as s
from incidents.deadlines import pending_deadlines, refresh_next_deadline
from incidents.models import DeadlineRecomputation, Incident, IncidentEvent, ResponseTarget
from tests import factories as f
from tests.incidents.support import ams, open_incident, work_order

FRI_1600 = ams(2026, 3, 6, 16, 0)


@pytest.fixture
def wo(customer_a, staff):
    return work_order(customer=customer_a, account_manager=staff)


def assert_next_is_min_pending(incident: Incident):
    incident.refresh_from_db()
    pending = pending_deadlines(incident)
    assert incident.next_deadline_at == (min(d[2] for d in pending) if pending else None)
    return pending


class TestPending:
    def test_an_unresponded_normal_incident_waits_for_warning_then_breach(self, wo, user_a):
        wo_, contact = wo
        with time_machine.travel(FRI_1600, tick=False):
            incident = open_incident(wo_, contact, by=user_a)
        assert [(k, t) for k, t, _ in pending_deadlines(incident)] == [
            ("response", "warning"),
            ("response", "breach"),
        ]
        assert incident.next_deadline_at == ams(2026, 3, 9, 10, 30)

    def test_a_recorded_threshold_is_no_longer_pending(self, wo, user_a):
        wo_, contact = wo
        incident = open_incident(wo_, contact, by=user_a)
        f.DeadlineEventFactory(
            incident=incident,
            deadline="response",
            threshold="warning",
            occurred_at=incident.response_warning_at,
        )
        refresh_next_deadline(incident)
        assert [(k, t) for k, t, _ in pending_deadlines(incident)] == [("response", "breach")]
        assert Incident.objects.get(pk=incident.pk).next_deadline_at == incident.response_due_at

    def test_an_advanced_critical_incident_has_every_kind_pending(self, wo, user_a):  # R7, R8
        wo_, contact = wo
        incident = open_incident(wo_, contact, by=user_a, severity="critical")
        kinds = {k for k, _, _ in pending_deadlines(incident)}
        assert kinds == {"response", "critical_situation", "change_control", "status_update"}

    def test_resolved_and_closed_incidents_have_nothing_pending(self, wo, user_a, staff):
        wo_, contact = wo
        incident = open_incident(wo_, contact, by=user_a, severity="critical")
        s.incident_set_status(incident=incident, status="resolved", by=staff)
        assert pending_deadlines(incident) == [] and incident.next_deadline_at is None

    def test_next_deadline_at_is_always_the_earliest_pending_deadline(
        self, customer_a, user_a, staff
    ):
        # Property-ish: after every operation that touches deadlines, the row agrees.
        wo_, contact = work_order(customer=customer_a, account_manager=staff)
        t = FRI_1600
        steps = [
            lambda i: None,
            lambda i: s.incident_set_status(incident=i, status="awaiting_customer", by=staff),
            lambda i: s.incident_comment(incident=i, body="Here are the logs", by=user_a),
            lambda i: s.incident_change_severity(
                incident=i, severity="critical", reason="Outage", by=staff
            ),
            lambda i: (
                f.DeadlineEventFactory(
                    incident=i, deadline="response", threshold="warning", occurred_at=t
                )
                and refresh_next_deadline(i)
            ),
            lambda i: s.incident_update(incident=i, by=user_a, around_the_clock=True),
            lambda i: s.incident_assign_critical_situation(incident=i, by=staff),
            lambda i: s.incident_comment(incident=i, body="Status: failover done", by=staff),
            lambda i: s.incident_respond(incident=i, by=staff),
            lambda i: s.incident_grant_change_control(incident=i, by=user_a),
            lambda i: s.incident_change_severity(
                incident=i, severity="normal", reason="Stable", by=staff
            ),
            lambda i: s.incident_set_status(incident=i, status="awaiting_customer", by=staff),
            lambda i: s.incident_set_status(incident=i, status="resolved", by=staff),
            lambda i: s.incident_set_status(incident=i, status="in_progress", by=staff),
        ]
        with time_machine.travel(t, tick=False):
            incident = open_incident(wo_, contact, by=user_a)
        seen = []
        for n, step in enumerate(steps):
            with time_machine.travel(t + dt.timedelta(minutes=5 * n), tick=False):
                step(incident)
            seen.append(len(assert_next_is_min_pending(incident)))
        assert max(seen) >= 3  # the walk really went through several pending kinds


class TestTargetEdits:
    def test_editing_a_target_row_does_not_move_an_open_incident(self, wo, user_a):  # R4
        wo_, contact = wo
        with time_machine.travel(FRI_1600, tick=False):
            incident = open_incident(wo_, contact, by=user_a)
        row = ResponseTarget.objects.get(
            package="advanced", severity="normal", rapid_response=False
        )
        row.minutes = 120
        row.save()
        incident.refresh_from_db()
        assert (
            incident.response_due_at == ams(2026, 3, 9, 11, 30) and incident.target_minutes == 240
        )

    def test_staff_may_apply_an_edited_target_explicitly(self, wo, user_a, staff):  # R4
        wo_, contact = wo
        with time_machine.travel(FRI_1600, tick=False):
            incident = open_incident(wo_, contact, by=user_a)
            other = open_incident(wo_, contact, by=user_a, severity="critical")
            row = ResponseTarget.objects.get(
                package="advanced", severity="normal", rapid_response=False
            )
            row.minutes = 120
            row.save()
            changed = s.incidents_recompute_deadlines(target=row, by=staff)
        assert changed == 1
        incident.refresh_from_db()
        assert incident.response_due_at == ams(2026, 3, 9, 9, 30)
        assert incident.target_rule == "R4 Advanced normal: 2 business hours"
        assert Incident.objects.get(pk=other.pk).response_due_at == other.response_due_at
        run = DeadlineRecomputation.objects.get()
        assert (run.target, run.changed, run.by) == (row, 1, staff) and run.finished_at


class TestCalendarChanges:
    def test_a_new_closure_day_recomputes_open_incidents_after_commit_and_records_the_run(
        self, wo, user_a, staff, django_capture_on_commit_callbacks
    ):  # R5
        wo_, contact = wo
        with time_machine.travel(FRI_1600, tick=False):
            incident = open_incident(wo_, contact, by=user_a)
            responded = open_incident(wo_, contact, by=user_a)
            s.incident_respond(incident=responded, by=staff)
            location = wo_.support_location
            f.ClosureDayFactory(location=location, date=dt.date(2026, 3, 9), name="Extra closure")
            with django_capture_on_commit_callbacks(execute=True) as callbacks:
                calendar_changed.send(sender=SupportLocation, location=location, by=staff)
        assert len(callbacks) == 1
        incident.refresh_from_db()
        assert incident.response_due_at == ams(2026, 3, 10, 11, 30)
        assert incident.response_warning_at == ams(2026, 3, 10, 10, 30)
        assert incident.next_deadline_at == incident.response_warning_at
        # A responded incident's history does not move.
        assert Incident.objects.get(pk=responded.pk).response_due_at == ams(2026, 3, 9, 11, 30)
        event = IncidentEvent.objects.get(incident=incident, kind="deadline")
        assert "Extra" not in event.body and location.name in event.body
        run = DeadlineRecomputation.objects.get()
        assert (run.location, run.changed, run.examined) == (location, 1, 1)

    def test_closure_day_set_in_contracts_moves_the_deadline_end_to_end(
        self, wo, user_a, staff, django_capture_on_commit_callbacks
    ):  # R5
        from contracts.services import closure_day_set

        wo_, contact = wo
        with time_machine.travel(FRI_1600, tick=False):
            incident = open_incident(wo_, contact, by=user_a)
            with django_capture_on_commit_callbacks(execute=True):
                closure_day_set(
                    location=wo_.support_location, date=dt.date(2026, 3, 9), name="Strike", by=staff
                )
        incident.refresh_from_db()
        assert incident.response_due_at == ams(2026, 3, 10, 11, 30)
        assert DeadlineRecomputation.objects.get().by == staff

    def test_nothing_runs_before_commit(
        self, wo, user_a, staff, django_capture_on_commit_callbacks
    ):
        wo_, contact = wo
        open_incident(wo_, contact, by=user_a)
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            calendar_changed.send(sender=SupportLocation, location=wo_.support_location, by=staff)
        assert len(callbacks) == 1 and DeadlineRecomputation.objects.count() == 0

    def test_an_unchanged_calendar_changes_nothing_but_still_records_the_run(self, wo, user_a):
        wo_, contact = wo
        open_incident(wo_, contact, by=user_a)
        assert s.incidents_recompute_deadlines(location=wo_.support_location) == 0
        assert DeadlineRecomputation.objects.get().changed == 0
        assert not IncidentEvent.objects.filter(kind="deadline").exists()

    def test_it_works_in_batches(self, wo, user_a, monkeypatch):
        from incidents.services import recompute

        monkeypatch.setattr(recompute, "RECOMPUTE_BATCH_SIZE", 2)
        wo_, contact = wo
        with time_machine.travel(FRI_1600, tick=False):
            for _ in range(5):
                open_incident(wo_, contact, by=user_a)
            f.ClosureDayFactory(
                location=wo_.support_location, date=dt.date(2026, 3, 9), name="Closed"
            )
            assert s.incidents_recompute_deadlines(location=wo_.support_location) == 5
        assert set(Incident.objects.values_list("response_due_at", flat=True)) == {
            ams(2026, 3, 10, 11, 30)
        }
