"""An incident's deadlines as the services move them: the response target (R3, R6),
the escalation that follows the severity (R7, R8), and the thresholds re-armed for
the sweep."""

from __future__ import annotations

import datetime as dt

from core.times import utc_iso
from incidents import targets
from incidents.choices import (
    AUTO_ESCALATION_PACKAGES,
    CRITICAL_SITUATION_DELAY_MINUTES,
    STATUS_UPDATE_INTERVAL_MINUTES,
    DeadlineKind,
    Severity,
    Threshold,
)
from incidents.models import DeadlineEvent, Incident
from services.choices import Package


def deadline_snapshot(incident: Incident) -> dict:
    return {
        "target_rule": incident.target_rule,
        "target_minutes": incident.target_minutes,
        "target_clock": incident.target_clock,
        "response_due_at": utc_iso(incident.response_due_at),
        "response_warning_at": utc_iso(incident.response_warning_at),
        "response_breached": incident.response_breached,
        "change_control_due_at": utc_iso(incident.change_control_due_at),
        "critical_situation_due_at": utc_iso(incident.critical_situation_due_at),
        "next_status_update_at": utc_iso(incident.next_status_update_at),
    }


def rearm(incident: Incident, kind: str, *thresholds: str) -> None:
    """Let the sweep fire these thresholds again (their deadline moved or recurs)."""
    if incident.pk is None:  # being opened: nothing recorded yet
        return
    DeadlineEvent.objects.filter(
        incident=incident, deadline=kind, threshold__in=thresholds
    ).delete()


def retarget(incident: Incident, *, calendar, now: dt.datetime) -> bool:
    """R3/R6: recompute the response target from opened_at; False after the first response."""
    if incident.responded_at is not None:
        return False
    choice = targets.select_target(
        work_order=incident.work_order,
        severity=incident.severity,
        is_cloud=incident.is_cloud,
        around_the_clock=incident.around_the_clock,
        product=incident.product,
        language=incident.language,
    )
    due, warning = targets.response_deadlines(
        opened_at=incident.opened_at,
        minutes=choice.minutes,
        clock=targets.clock_for(choice.clock, calendar),
    )
    incident.target, incident.target_minutes = choice.target, choice.minutes
    incident.target_clock, incident.target_rule = choice.clock, choice.rule
    incident.response_due_at, incident.response_warning_at = due, warning
    again = [t for t, at in ((Threshold.WARNING, warning), (Threshold.BREACH, due)) if at > now]
    if again:
        rearm(incident, DeadlineKind.RESPONSE, *again)
    if Threshold.BREACH in again:
        incident.response_breached = False
    return True


def apply_escalation(incident: Incident, *, since: dt.datetime, now: dt.datetime, calendar) -> bool:
    """R7/R8 and the customer's change-control side, following the current severity.
    True when this starts the escalation process (the caller records it)."""
    package = incident.work_order.package
    started = False
    if incident.severity == Severity.CRITICAL and package in AUTO_ESCALATION_PACKAGES:
        if (
            incident.critical_situation_assigned_at is None
            and incident.critical_situation_due_at is None
        ):
            delay = CRITICAL_SITUATION_DELAY_MINUTES[package]
            incident.critical_situation_due_at = since + dt.timedelta(minutes=delay)
        if incident.escalated_at is None or incident.next_status_update_at is None:
            # R8: escalation starts automatically when the incident is (or turns) critical.
            incident.escalated_at = since
            incident.next_status_update_at = now + dt.timedelta(
                minutes=STATUS_UPDATE_INTERVAL_MINUTES
            )
            rearm(incident, DeadlineKind.STATUS_UPDATE, Threshold.DUE)
            started = True
        if (
            package == Package.ADVANCED
            and incident.change_control_granted_at is None
            and not incident.change_control_due_at
        ):
            incident.change_control_due_at = targets.change_control_due(
                start=since, calendar=calendar
            )
    else:
        if incident.critical_situation_assigned_at is None:
            incident.critical_situation_due_at = None
        incident.next_status_update_at = None
        if incident.change_control_granted_at is None:
            incident.change_control_due_at = None
    return started


def announce_escalation(incident: Incident) -> None:
    """R8: the escalation's timeline entry and notices, written now in this transaction
    by the sweep's own announcer (once per escalation, so the sweep will not repeat it)."""
    from incidents import sweep

    sweep.announce_escalation(incident=incident)


def business_calendar_of(incident_or_work_order, around: dt.datetime):
    work_order = getattr(incident_or_work_order, "work_order", incident_or_work_order)
    return targets.business_calendar(work_order, around)[0]
