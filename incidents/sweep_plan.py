"""Planning of the deadline sweep: what each due threshold of an incident calls for
(timeline entries, escalation, outbox rows), worked out without writing anything.
incidents/sweep.py claims the incidents and writes the plans (R4-R8)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from core.times import utc_iso
from incidents import deadlines, notices
from incidents.choices import (
    AUTO_ESCALATION_PACKAGES,
    CRITICAL_SITUATION_DELAY_MINUTES,
    STATUS_UPDATE_INTERVAL_MINUTES,
    Clock,
    DeadlineKind,
    EventKind,
    Severity,
    Threshold,
)
from incidents.models import Incident, IncidentEvent
from notifications.calendars import customer_calendar, staff_calendar
from notifications.choices import Event, Urgency
from notifications.localize import contact_reader, localized_outbox_rows, staff_reader

SYSTEM = "system"


@dataclass
class Plan:
    """What one incident's due thresholds call for, built before anything is written."""

    incident: Incident
    thresholds: list[tuple[str, str, dt.datetime]]
    events: list = field(default_factory=list)
    outbox: list = field(default_factory=list)
    # (kind, threshold) -> IncidentEvents / outbox rows that exist only if that
    # threshold's DeadlineEvent is newly inserted.
    by_threshold: dict[tuple[str, str], tuple[list, list]] = field(default_factory=dict)


class SweepContext:
    """Per-run caches: calendars are read once per location or time zone."""

    def __init__(self, now: dt.datetime):
        self.now = now
        self._customer: dict = {}
        self._staff: dict = {}
        # Escalation announcements already in the outbox (keys), read once per batch.
        self.announced: set[str] = set()
        # The (deadline, threshold) pairs already recorded per incident id, read once
        # per batch (incidents.sweep); an incident not in it has its own read.
        self.recorded: dict[int, set[tuple[str, str]]] = {}

    def customer_calendar(self, work_order):
        key = work_order.support_location_id or f"tz:{work_order.customer.timezone}"
        if key not in self._customer:
            self._customer[key] = customer_calendar(work_order)
        return self._customer[key]

    def staff_calendar(self, user):
        key = getattr(user, "time_zone", "") or ""
        if key not in self._staff:
            self._staff[key] = staff_calendar(user)
        return self._staff[key]


def plan_incident(incident: Incident, ctx: SweepContext) -> Plan:
    """Work out what the incident's due thresholds call for, without writing anything."""
    pending = deadlines.pending_deadlines(incident, ctx.recorded.get(incident.pk))
    due = [d for d in pending if d[2] <= ctx.now]
    plan = Plan(incident=incident, thresholds=due)
    for kind, threshold, at in due:
        events: list = []
        outbox: list = []
        _consequences(incident, kind, threshold, at, ctx, events, outbox)
        plan.by_threshold[(kind, threshold)] = (events, outbox)
    # R8: a critical Advanced/Performance incident starts escalation at once. incidents
    # sets escalated_at when it turns critical; the sweep announces it (once per
    # escalation: the outbox key carries escalated_at) and starts it if nobody did.
    if auto_escalates(incident):
        if incident.escalated_at is None:
            incident.escalated_at = _escalation_time(incident, ctx.now)
            if incident.next_status_update_at is None:
                incident.next_status_update_at = incident.escalated_at + dt.timedelta(
                    minutes=STATUS_UPDATE_INTERVAL_MINUTES
                )
        if escalation_key(incident) + ":webhook" not in ctx.announced:
            plan_escalation(incident, ctx, plan.events, plan.outbox)
    return plan


def auto_escalates(incident: Incident) -> bool:
    return (
        incident.severity == Severity.CRITICAL
        and incident.work_order.package in AUTO_ESCALATION_PACKAGES
        and incident.is_open
    )


def escalation_key(incident: Incident) -> str:
    """Outbox key of an escalation's announcement: once per escalation (R8)."""
    at = incident.escalated_at
    return f"incident:{incident.pk}:escalated:{int(at.timestamp()) if at else 0}"


def _escalation_time(incident: Incident, now: dt.datetime) -> dt.datetime:
    # When it became critical: the critical situation deadline minus its R7 delay
    # (set by incidents when the severity turns critical), else when it was opened.
    became_critical = incident.opened_at
    if incident.critical_situation_due_at is not None:
        delay = CRITICAL_SITUATION_DELAY_MINUTES.get(incident.work_order.package, 0)
        became_critical = max(
            incident.opened_at, incident.critical_situation_due_at - dt.timedelta(minutes=delay)
        )
    return min(became_critical, now)


def _people(incident: Incident) -> tuple[list[str], list[str]]:
    manager = incident.work_order.account_manager
    managers = [manager.email] if manager is not None and manager.email else []
    contacts = [incident.contact.email] if incident.contact_id and incident.contact.email else []
    return managers, contacts


def _readers(incident: Incident) -> tuple[list, list]:
    """(account manager, contact) as notifications.localize.Readers: each e-mail is
    written in its reader's language and time zone (issue #7)."""
    managers = [staff_reader(incident.work_order.account_manager)]
    contacts = (
        [contact_reader(incident.contact, incident.work_order)] if incident.contact_id else []
    )
    return [r for r in managers if r], [r for r in contacts if r]


def _payload(incident: Incident, **extra) -> dict:
    """The event's payload (incidents.notices); incidents.sweep refreshes its `data`
    once the breach flag, version and updated_at are written."""
    return notices.incident_payload(incident, **extra)


def _iso(value):
    return utc_iso(value)


def _calendars(incident: Incident, ctx: SweepContext) -> dict:
    found = {}
    manager = incident.work_order.account_manager
    if manager is not None and manager.email:
        found[manager.email] = ctx.staff_calendar(manager)
    if incident.contact_id and incident.contact.email:
        found[incident.contact.email] = ctx.customer_calendar(incident.work_order)
    return found


def _is_24x7(incident: Incident) -> bool:
    return (
        incident.target_clock == Clock.AROUND_THE_CLOCK
        or incident.around_the_clock
        or incident.severity == Severity.CRITICAL
    )


@dataclass(slots=True)
class TimelineEntry:
    """An IncidentEvent to insert (a light stand-in: the sweep writes thousands)."""

    incident_id: int
    kind: str
    body: str
    data: dict
    created_at: dt.datetime

    def to_model(self) -> IncidentEvent:
        return IncidentEvent(
            incident_id=self.incident_id,
            kind=self.kind,
            author_label=SYSTEM,
            body=self.body,
            data=self.data,
            created_at=self.created_at,
        )


def _event(incident: Incident, kind: str, body: str, at: dt.datetime, **data) -> TimelineEntry:
    return TimelineEntry(
        incident.pk,
        kind,
        body,
        {k: _iso(v) if isinstance(v, dt.datetime) else v for k, v in data.items()},
        at,
    )


def _consequences(incident, kind, threshold, at, ctx, events, outbox) -> None:
    """IncidentEvents and outbox rows for one threshold reached at its true time `at`."""
    managers, _contacts = _people(incident)
    staff, contacts = _readers(incident)
    # The due instant is part of the key: a deadline re-armed at a new time (R3
    # severity change, calendar change, a new wait on the customer) is notified once
    # more, while a re-run of the same sweep (same deadline, same instant) writes
    # nothing twice (the outbox key is unique; ON CONFLICT DO NOTHING).
    key = f"incident:{incident.pk}:{kind}:{threshold}:{int(at.timestamp())}"
    base = {"customer": incident.work_order.customer, "occurred_at": at, "now": ctx.now}
    # E-mail texts (incidents.notices) are rendered per reader (language, zone): see
    # notifications.localize.

    def escalate_to_staff(body, *, reason, render, key=key, **data) -> None:
        """An escalation only staff hear of: a timeline entry and an e-mail, no webhook."""
        events.append(_event(incident, EventKind.ESCALATION, body, at, **data))
        outbox.extend(
            localized_outbox_rows(
                event=Event.INCIDENT_ESCALATED,
                key=key,
                readers=staff,
                webhook=False,
                render=render,
                payload=_payload(incident, reason=reason, occurred_at=at),
                **base,
            )
        )

    if kind == DeadlineKind.RESPONSE and threshold == Threshold.WARNING:
        events.append(
            _event(
                incident,
                EventKind.WARNING,
                "75% of the response target has run without a response.",
                at,
                deadline=kind,
                due_at=incident.response_due_at,
            )
        )
        outbox += localized_outbox_rows(
            event=Event.INCIDENT_RESPONSE_WARNING,
            key=key,
            readers=staff + contacts,
            render=lambda: notices.response_warning_email(incident),
            payload=_payload(incident, deadline=kind, threshold=threshold, occurred_at=at),
            **base,
        )
    elif kind == DeadlineKind.RESPONSE and threshold == Threshold.BREACH:
        # The flag is part of the plan: written by _apply only if this breach is new.
        events.append(
            _event(
                incident,
                EventKind.BREACH,
                "The response target was breached (R4).",
                at,
                deadline=kind,
            )
        )
        outbox += localized_outbox_rows(
            event=Event.INCIDENT_RESPONSE_BREACHED,
            key=key,
            readers=staff + contacts,
            render=lambda: notices.response_breached_email(incident),
            payload=_payload(incident, deadline=kind, threshold=threshold, occurred_at=at),
            **base,
        )
        # A breach escalates to the account manager (R8).
        escalate_to_staff(
            "Response breached: escalated to the account manager.",
            key=f"{key}:escalation",
            reason="response_breached",
            render=lambda: notices.breach_escalation_email(incident, at),
            action="breach_escalation",
            to=managers,
        )
    elif kind in (DeadlineKind.CUSTOMER_RESPONSE, DeadlineKind.CHANGE_CONTROL):
        what = (
            "answer within 24 hours"
            if kind == DeadlineKind.CUSTOMER_RESPONSE
            else "grant change-control access within 4 business hours"
        )
        events.append(
            _event(
                incident,
                EventKind.BREACH,
                f"The customer did not {what}.",
                at,
                deadline=kind,
                side="customer",
            )
        )
        around_the_clock = _is_24x7(incident)
        if around_the_clock:
            # R6: propose, never do it silently: staff decide and record a reason.
            events.append(
                _event(
                    incident,
                    EventKind.ESCALATION,
                    "24x7 incident without customer staff: support may lower the severity or drop 24x7 (R6). Nothing was changed.",
                    at,
                    action="r6_proposal",
                    rule="R6",
                    options=["lower_severity", "drop_24x7"],
                    deadline=kind,
                )
            )

        outbox += localized_outbox_rows(
            event=Event.INCIDENT_CUSTOMER_OVERDUE,
            key=key,
            readers=staff,
            webhook=False,
            urgency=Urgency.IMMEDIATE if around_the_clock else Urgency.BUSINESS_HOURS,
            calendars=_calendars(incident, ctx),
            render=lambda: notices.customer_overdue_email(
                incident, kind, at, r6_proposal=around_the_clock
            ),
            payload=_payload(
                incident,
                deadline=kind,
                threshold=threshold,
                occurred_at=at,
                r6_proposal=around_the_clock,
            ),
            **base,
        )
    elif kind == DeadlineKind.CRITICAL_SITUATION:
        # R7: the critical situation resource is requested from the account manager,
        # who assigns one (critical_situation_assigned_at, an incidents service).
        escalate_to_staff(
            "Critical situation resource requested (R7).",
            reason="critical_situation",
            render=lambda: notices.critical_situation_email(incident, at),
            action="critical_situation_requested",
            rule="R7",
        )
    elif kind == DeadlineKind.STATUS_UPDATE:
        escalate_to_staff(
            "A status update to the customer is due (R8).",
            reason="status_update_due",
            render=lambda: notices.status_update_due_email(incident, at),
            action="status_update_due",
            rule="R8",
        )
    else:  # a deadline kind added later: recorded and told, never dropped
        events.append(
            _event(
                incident,
                EventKind.BREACH,
                f"Deadline {kind} {threshold} reached.",
                at,
                deadline=kind,
            )
        )
        outbox += localized_outbox_rows(
            event=Event.INCIDENT_UPDATED,
            key=key,
            readers=staff,
            webhook=False,
            render=lambda: notices.deadline_reached_email(incident, kind, threshold),
            payload=_payload(incident, deadline=kind, threshold=threshold),
            **base,
        )


def plan_escalation(incident: Incident, ctx: SweepContext, events: list, outbox: list) -> None:
    """R8: announce the escalation to the account manager and the customer; the
    status-update cadence (next_status_update_at) runs with it."""
    staff, contacts = _readers(incident)
    at = incident.escalated_at
    cadence = (
        f"status updates every {STATUS_UPDATE_INTERVAL_MINUTES} minutes, the first due {incident.next_status_update_at:%Y-%m-%d %H:%M} UTC"
        if incident.next_status_update_at
        else "status updates follow"
    )
    events.append(
        _event(
            incident,
            EventKind.ESCALATION,
            f"Critical incident on {incident.work_order.get_package_display()}: escalation started (R8); {cadence}.",
            at,
            action="escalation_started",
            rule="R8",
            next_status_update_at=incident.next_status_update_at,
        )
    )
    outbox += localized_outbox_rows(
        event=Event.INCIDENT_ESCALATED,
        key=escalation_key(incident),
        readers=staff + contacts,
        customer=incident.work_order.customer,
        occurred_at=at,
        now=ctx.now,
        render=lambda: notices.escalation_started_email(incident),
        payload=_payload(
            incident,
            reason="critical",
            occurred_at=at,
            next_status_update_at=incident.next_status_update_at,
        ),
    )
