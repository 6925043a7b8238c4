"""incidents.services after opening: R7/R8 and the customer's side, severity (R3),
statuses and the first response, edits, advisory effort (R23)."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied

from core.errors import Conflict, RuleViolation, StaleVersion
from incidents import services as s
from incidents.choices import EventKind, IncidentStatus
from incidents.models import DeadlineEvent, Incident
from notifications.models import OutboxMessage
from tests import factories as f
from tests.incidents.support import ams, open_incident, work_order

FRI_1600 = ams(2026, 3, 6, 16, 0)  # Friday, CET, no holidays nearby


@pytest.fixture
def wo(customer_a, staff):
    return work_order(customer=customer_a, account_manager=staff)


# --- R7/R8 and the customer's side -------------------------------------------------


class TestCriticalSituations:
    def test_advanced_critical_assigns_after_an_hour_escalates_and_asks_change_control(
        self, wo, user_a
    ):  # R7, R8
        wo_, contact = wo
        opened = ams(2026, 3, 6, 15, 0)
        with time_machine.travel(opened, tick=False):
            incident = open_incident(wo_, contact, by=user_a, severity="critical")
        assert incident.critical_situation_due_at == opened + dt.timedelta(hours=1)
        assert incident.escalated_at == opened
        assert incident.next_status_update_at == opened + dt.timedelta(hours=2)
        # 4 business hours: 15:00-17:30 Friday, then 09:00-10:30 Monday.
        assert incident.change_control_due_at == ams(2026, 3, 9, 10, 30)
        # R8: announced once, in the same transaction (the sweep will not repeat it).
        assert (
            incident.events.filter(kind="escalation", data__action="escalation_started").count()
            == 1
        )

    def test_performance_critical_assigns_at_once_without_change_control(
        self, customer_a, user_a
    ):  # R7
        wo_, contact = work_order(customer=customer_a, package="performance")
        with time_machine.travel(FRI_1600, tick=False):
            incident = open_incident(wo_, contact, by=user_a, severity="critical")
        assert incident.critical_situation_due_at == FRI_1600
        assert incident.escalated_at == FRI_1600 and incident.change_control_due_at is None

    def test_core_critical_does_not_escalate_automatically(self, customer_a, user_a):  # R8
        wo_, contact = work_order(customer=customer_a, package="core")
        incident = open_incident(wo_, contact, by=user_a, severity="critical")
        assert incident.escalated_at is None and incident.critical_situation_due_at is None
        assert incident.next_status_update_at is None

    def test_a_normal_incident_has_no_escalation_fields(self, wo, user_a):
        wo_, contact = wo
        incident = open_incident(wo_, contact, by=user_a)
        assert (
            incident.escalated_at,
            incident.critical_situation_due_at,
            incident.change_control_due_at,
        ) == (None, None, None)

    def test_a_staff_comment_is_the_status_update_and_moves_the_next_one(
        self, wo, user_a, staff
    ):  # R8
        wo_, contact = wo
        with time_machine.travel(FRI_1600, tick=False):
            incident = open_incident(wo_, contact, by=user_a, severity="critical")
        f.DeadlineEventFactory(
            incident=incident, deadline="status_update", threshold="due", occurred_at=FRI_1600
        )
        with time_machine.travel(FRI_1600 + dt.timedelta(hours=3), tick=False):
            s.incident_comment(incident=incident, body="Action plan: failover at 20:00.", by=staff)
        incident.refresh_from_db()
        assert incident.next_status_update_at == FRI_1600 + dt.timedelta(hours=5)
        assert not DeadlineEvent.objects.filter(
            incident=incident, deadline="status_update"
        ).exists()

    def test_change_control_granted_once(self, wo, user_a):
        wo_, contact = wo
        incident = open_incident(wo_, contact, by=user_a, severity="critical")
        s.incident_grant_change_control(incident=incident, by=user_a)
        assert incident.change_control_granted_at is not None
        with pytest.raises(Conflict):
            s.incident_grant_change_control(incident=incident, by=user_a)

    def test_assigning_the_critical_situation_resource_stops_that_deadline(
        self, wo, user_a, staff
    ):  # R7
        wo_, contact = wo
        incident = open_incident(wo_, contact, by=user_a, severity="critical")
        s.incident_assign_critical_situation(incident=incident, by=staff)
        assert incident.critical_situation_assigned_at is not None


class TestCustomerSide:
    def test_awaiting_customer_gives_them_24_real_hours_and_leaving_clears_it(
        self, wo, user_a, staff
    ):
        wo_, contact = wo
        incident = open_incident(wo_, contact, by=user_a)
        with time_machine.travel(FRI_1600, tick=False):
            s.incident_set_status(incident=incident, status="awaiting_customer", by=staff)
        assert incident.customer_due_at == FRI_1600 + dt.timedelta(hours=24)
        s.incident_set_status(incident=incident, status="in_progress", by=staff)
        assert incident.customer_due_at is None

    def test_a_customer_comment_answers_the_wait(self, wo, user_a, staff):
        wo_, contact = wo
        incident = open_incident(wo_, contact, by=user_a)
        s.incident_set_status(incident=incident, status="awaiting_customer", by=staff)
        s.incident_comment(incident=incident, body="Logs attached.", by=user_a)
        incident.refresh_from_db()
        assert incident.status == IncidentStatus.IN_PROGRESS and incident.customer_due_at is None


# --- R3: severity ------------------------------------------------------------------


class TestSeverity:
    def test_a_change_is_recomputed_from_opened_at_and_recorded(self, wo, user_a, staff):  # R3
        wo_, contact = wo
        with time_machine.travel(FRI_1600, tick=False):
            incident = open_incident(wo_, contact, by=user_a)
        with time_machine.travel(FRI_1600 + dt.timedelta(minutes=20), tick=False):
            s.incident_change_severity(
                incident=incident, severity="critical", reason="Production down", by=staff
            )
        assert incident.response_due_at == FRI_1600 + dt.timedelta(
            hours=1
        )  # from opened_at, not from now
        assert incident.target_rule == "R4 Advanced critical: 1 hour 24x7" and incident.version == 2
        # R8: escalation runs from when it turned critical.
        assert incident.escalated_at == FRI_1600 + dt.timedelta(minutes=20)
        assert incident.critical_situation_due_at == FRI_1600 + dt.timedelta(minutes=80)  # R7
        event = incident.events.get(kind=EventKind.SEVERITY)
        assert event.data["from"] == "normal" and event.data["to"] == "critical"
        assert event.data["reason"] == "Production down" and event.author == staff
        assert dt.datetime.fromisoformat(event.data["before"]["response_due_at"]) == ams(
            2026, 3, 9, 11, 30
        )
        assert OutboxMessage.objects.filter(event="incident.severity_changed").exists()

    def test_customers_cannot_change_severity_only_ask(self, wo, user_a):  # R3
        wo_, contact = wo
        incident = open_incident(wo_, contact, by=user_a)
        with pytest.raises(PermissionDenied):
            s.incident_change_severity(
                incident=incident, severity="critical", reason="x", by=user_a
            )
        event = s.incident_request_severity_change(
            incident=incident, severity="critical", reason="All users down", by=user_a
        )
        incident.refresh_from_db()
        assert event.kind == EventKind.SEVERITY_REQUEST and incident.severity == "normal"

    def test_a_change_after_the_first_response_leaves_the_response_history(
        self, wo, user_a, staff
    ):  # R3
        wo_, contact = wo
        with time_machine.travel(FRI_1600, tick=False):
            incident = open_incident(wo_, contact, by=user_a)
        with time_machine.travel(FRI_1600 + dt.timedelta(hours=2), tick=False):
            s.incident_respond(incident=incident, by=staff)
            s.incident_change_severity(
                incident=incident, severity="critical", reason="Escalated", by=staff
            )
        assert incident.responded_at == FRI_1600 + dt.timedelta(hours=2)
        assert incident.response_due_at == ams(2026, 3, 9, 11, 30)
        assert incident.response_breached is False
        assert incident.target_rule == "R4 Advanced normal: 4 business hours"
        assert incident.escalated_at is not None  # R8 still follows the new severity

    def test_lowering_severity_rearms_a_breach_that_no_longer_holds(self, wo, user_a, staff):  # R3
        wo_, contact = wo
        with time_machine.travel(FRI_1600, tick=False):
            incident = open_incident(wo_, contact, by=user_a, severity="critical")
        f.DeadlineEventFactory(
            incident=incident,
            deadline="response",
            threshold="breach",
            occurred_at=FRI_1600 + dt.timedelta(hours=1),
        )
        Incident.objects.filter(pk=incident.pk).update(response_breached=True)
        with time_machine.travel(FRI_1600 + dt.timedelta(hours=1, minutes=5), tick=False):
            s.incident_change_severity(
                incident=incident, severity="normal", reason="Workaround in place", by=staff
            )
        assert (
            incident.response_due_at == ams(2026, 3, 9, 11, 30)
            and incident.response_breached is False
        )
        assert not DeadlineEvent.objects.filter(
            incident=incident, deadline="response", threshold="breach"
        ).exists()
        assert incident.events.get(kind="severity").data["before"]["response_breached"] is True

    def test_a_change_or_a_request_needs_a_reason_and_writes_nothing(
        self, wo, user_a, staff
    ):  # R3, R6: support lowers the severity only with a recorded reason
        wo_, contact = wo
        incident = open_incident(wo_, contact, by=user_a, severity="critical")
        before = (incident.events.count(), OutboxMessage.objects.count())
        with pytest.raises(RuleViolation) as err:
            s.incident_change_severity(incident=incident, severity="normal", reason=" ", by=staff)
        assert (err.value.rule, err.value.field) == ("R3", "reason")
        with pytest.raises(RuleViolation) as err:
            s.incident_request_severity_change(
                incident=incident, severity="normal", reason="", by=user_a
            )
        assert (err.value.rule, err.value.field) == ("R3", "reason")
        incident.refresh_from_db()
        assert incident.severity == "critical" and incident.version == 1
        assert (incident.events.count(), OutboxMessage.objects.count()) == before

    def test_a_change_to_the_same_severity_is_refused(self, wo, user_a, staff):  # R3
        wo_, contact = wo
        incident = open_incident(wo_, contact, by=user_a)
        with pytest.raises(RuleViolation) as err:
            s.incident_change_severity(incident=incident, severity="normal", reason="x", by=staff)
        assert err.value.rule == "R3"
        with pytest.raises(RuleViolation) as err:
            s.incident_change_severity(incident=incident, severity="urgent", reason="x", by=staff)
        assert (err.value.rule, err.value.field) == ("R3", "severity")
        assert not incident.events.filter(kind=EventKind.SEVERITY).exists()

    def test_the_severity_changes_only_during_the_incident(self, wo, user_a, staff):  # R3
        wo_, contact = wo
        incident = open_incident(wo_, contact, by=user_a)
        s.incident_set_status(incident=incident, status="closed", by=user_a)
        with pytest.raises(Conflict) as err:
            s.incident_request_severity_change(
                incident=incident, severity="critical", reason="Down again", by=user_a
            )
        assert err.value.rule == "R3"
        with pytest.raises(Conflict) as err:
            s.incident_change_severity(
                incident=incident, severity="critical", reason="Down again", by=staff
            )
        assert err.value.rule == "R3"
        incident.refresh_from_db()
        assert incident.severity == "normal"
        assert not incident.events.filter(
            kind__in=[EventKind.SEVERITY, EventKind.SEVERITY_REQUEST]
        ).exists()


# --- statuses and the first response ----------------------------------------------


class TestStatuses:
    @pytest.mark.parametrize(
        ("path", "allowed"),
        [
            (["in_progress", "awaiting_customer", "in_progress", "resolved", "closed"], True),
            (["resolved", "in_progress"], True),
            (["closed", "in_progress"], False),
            (["in_progress", "new"], False),
        ],
    )
    def test_transitions_follow_the_table(self, wo, user_a, staff, path, allowed):
        wo_, contact = wo
        incident = open_incident(wo_, contact, by=user_a)
        *steps, last = path
        for step in steps:
            s.incident_set_status(incident=incident, status=step, by=staff)
        if allowed:
            s.incident_set_status(incident=incident, status=last, by=staff)
            assert incident.status == last
        else:
            with pytest.raises(Conflict):
                s.incident_set_status(incident=incident, status=last, by=staff)
            incident.refresh_from_db()
            assert incident.status == steps[-1]

    def test_responded_is_reached_only_by_recording_the_response(self, wo, user_a, staff):
        wo_, contact = wo
        incident = open_incident(wo_, contact, by=user_a)
        with pytest.raises(RuleViolation):
            s.incident_set_status(incident=incident, status="responded", by=staff)

    def test_a_customer_may_mark_solved_or_close_but_nothing_else(self, wo, user_a):
        # Issue #17: the customer marks its incident solved (resolved), or closes it.
        wo_, contact = wo
        incident = open_incident(wo_, contact, by=user_a)
        with pytest.raises(PermissionDenied):
            s.incident_set_status(incident=incident, status="in_progress", by=user_a)
        s.incident_set_status(incident=incident, status="resolved", by=user_a)
        assert incident.status == "resolved"
        s.incident_set_status(incident=incident, status="closed", by=user_a)
        assert incident.status == "closed" and incident.next_deadline_at is None

    def test_a_stale_version_is_refused(self, wo, user_a, staff):
        wo_, contact = wo
        incident = open_incident(wo_, contact, by=user_a)
        s.incident_set_status(incident=incident, status="in_progress", by=staff, expected_version=1)
        with pytest.raises(StaleVersion):
            s.incident_set_status(
                incident=incident, status="resolved", by=staff, expected_version=1
            )


class TestFirstResponse:
    def test_it_is_recorded_once(self, wo, user_a, staff):  # R4
        wo_, contact = wo
        with time_machine.travel(FRI_1600, tick=False):
            incident = open_incident(wo_, contact, by=user_a)
            s.incident_respond(incident=incident, by=staff)
        assert incident.status == IncidentStatus.RESPONDED and incident.responded_by == staff
        assert incident.response_breached is False
        with pytest.raises(Conflict):
            s.incident_respond(incident=incident, by=staff)

    def test_a_late_response_is_breached(self, wo, user_a, staff):  # R4
        wo_, contact = wo
        with time_machine.travel(FRI_1600, tick=False):
            incident = open_incident(wo_, contact, by=user_a)
        with time_machine.travel(ams(2026, 3, 9, 12, 0), tick=False):
            s.incident_respond(incident=incident, by=staff)
        assert incident.response_breached is True

    def test_only_staff_respond(self, wo, user_a):
        wo_, contact = wo
        incident = open_incident(wo_, contact, by=user_a)
        with pytest.raises(PermissionDenied):
            s.incident_respond(incident=incident, by=user_a)


# --- edits and advisory effort -----------------------------------------------------


class TestEdits:
    def test_an_edit_with_a_stale_version_writes_nothing(self, wo, user_a, staff):
        wo_, contact = wo
        incident = open_incident(wo_, contact, by=user_a)
        s.incident_update(
            incident=incident, by=user_a, expected_version=1, title="Mail flow stopped for EU"
        )
        assert incident.version == 2
        with pytest.raises(StaleVersion):
            s.incident_update(incident=incident, by=staff, expected_version=1, title="Other")
        incident.refresh_from_db()
        assert incident.title == "Mail flow stopped for EU"

    def test_dropping_24x7_needs_staff_and_a_reason_and_recomputes(self, wo, user_a, staff):  # R6
        wo_, contact = wo
        with time_machine.travel(FRI_1600, tick=False):
            incident = open_incident(wo_, contact, by=user_a, around_the_clock=True)
            with pytest.raises(PermissionDenied):
                s.incident_update(incident=incident, by=user_a, around_the_clock=False)
            with pytest.raises(RuleViolation):
                s.incident_update(incident=incident, by=staff, around_the_clock=False)
            s.incident_update(
                incident=incident,
                by=staff,
                around_the_clock=False,
                reason="Customer cannot staff nights",
            )
        assert incident.target_clock == "business_hours"
        assert incident.response_due_at == ams(2026, 3, 9, 11, 30)
        assert (
            incident.events.get(kind=EventKind.AROUND_THE_CLOCK).body
            == "Customer cannot staff nights"
        )

    def test_a_customer_may_ask_for_24x7_effort_after_filing(self, wo, user_a):  # R6
        wo_, contact = wo
        with time_machine.travel(FRI_1600, tick=False):
            incident = open_incident(wo_, contact, by=user_a)
            assert incident.response_due_at == ams(2026, 3, 9, 11, 30)
            s.incident_update(incident=incident, by=user_a, around_the_clock=True)
        # Recomputed from opened_at on the 24x7 clock: 4 real hours (R3, R6).
        assert incident.target_clock == "24x7"
        assert incident.response_due_at == FRI_1600 + dt.timedelta(hours=4)
        event = incident.events.get(kind=EventKind.AROUND_THE_CLOCK)
        assert event.data["to"] is True and event.data["recomputed"] is True

    def test_unknown_fields_are_refused(self, wo, user_a):
        wo_, contact = wo
        incident = open_incident(wo_, contact, by=user_a)
        with pytest.raises(RuleViolation):
            s.incident_update(incident=incident, by=user_a, severity="critical")


class TestAdvisoryEffort:
    def test_effort_past_the_six_hour_cap_is_flagged_and_the_manager_told_once(
        self, wo, user_a, staff
    ):  # R23
        wo_, contact = wo
        incident = open_incident(wo_, contact, by=user_a, is_advisory=True)
        first = s.incident_log_advisory_effort(incident=incident, minutes=300, by=staff)
        assert first.data["over_cap"] is False
        second = s.incident_log_advisory_effort(incident=incident, minutes=90, by=staff)
        third = s.incident_log_advisory_effort(incident=incident, minutes=30, by=staff)
        assert second.data["over_cap"] and third.data["over_cap"]
        assert incident.advisory_minutes == 420
        notes = OutboxMessage.objects.filter(
            key__startswith=f"incident:{incident.pk}:advisory_over_cap"
        )
        assert [n.recipient for n in notes] == [staff.email.lower()]

    def test_six_hours_exactly_is_within_the_cap(self, wo, user_a, staff):  # R23: at most 6 hours
        wo_, contact = wo
        incident = open_incident(wo_, contact, by=user_a, is_advisory=True)
        assert (
            s.incident_log_advisory_effort(incident=incident, minutes=360, by=staff).data[
                "over_cap"
            ]
            is False
        )
        told = OutboxMessage.objects.filter(
            key__startswith=f"incident:{incident.pk}:advisory_over_cap"
        )
        assert not told.exists()
        assert s.incident_log_advisory_effort(incident=incident, minutes=1, by=staff).data[
            "over_cap"
        ]
        assert told.exists()

    def test_effort_on_a_problem_incident_is_refused(self, wo, user_a, staff):  # R23
        wo_, contact = wo
        incident = open_incident(wo_, contact, by=user_a)
        with pytest.raises(RuleViolation):
            s.incident_log_advisory_effort(incident=incident, minutes=30, by=staff)
