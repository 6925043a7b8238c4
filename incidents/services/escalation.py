"""Incident escalations staff and customers ask for: R7 onsite resources and rapid
escalation to product teams (Performance critical incidents), R8 Reactive Support
Management on request (Core). Split from workflow.py (issue #15: modules under ~600
lines); the e-mails and payloads are unchanged."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import Conflict, RuleViolation
from core.scoping import actor_is_staff
from incidents.choices import (
    ONSITE_AFTER_MINUTES,
    OPEN_STATUSES,
    RSM_ON_REQUEST_PACKAGES,
    EventKind,
    Severity,
)
from incidents.models import Incident, IncidentEvent
from incidents.services.access import require_party, require_staff
from incidents.services.events import manager_email, notify_incident, record_event
from incidents.services.rows import lock_incident
from notifications.calendars import staff_calendar
from notifications.choices import Urgency
from notifications.localize import when
from services.choices import Package

# --- R7 onsite and product teams, R8 Reactive Support Management -------------------


def _required_text(value, *, limit: int, missing: str, rule: str, field: str) -> str:
    """A required free-text input, stripped; missing (`missing` says what to write) or
    longer than `limit` is a RuleViolation on `field`."""
    text = (value or "").strip()
    if not text:
        raise RuleViolation(missing, rule=rule, field=field)
    if len(text) > limit:
        raise RuleViolation(
            _("At most %(limit)s characters.") % {"limit": limit}, rule=rule, field=field
        )
    return text


def _refuse_unless_performance_critical(incident: Incident, action: str) -> None:
    """R7: onsite resources and rapid escalation belong to open Performance critical
    incidents. `action` comes translated from the caller."""
    if (
        incident.work_order.package != Package.PERFORMANCE
        or incident.severity != Severity.CRITICAL
        or incident.status not in OPEN_STATUSES
    ):
        raise RuleViolation(
            _("%(action)s is only for open critical incidents of a Performance work order (R7).")
            % {"action": action},
            rule="R7",
        )


def incident_request_onsite(
    *, incident: Incident, agreed_by: str, note: str = "", by
) -> IncidentEvent:
    """R7: staff record that onsite resources are requested for a Performance critical
    incident, at least 24 hours after its opening, with the customer's agreement
    (`agreed_by`: who agreed). Once per incident."""
    require_staff(by, _("request onsite resources"))
    agreed_by = _required_text(
        agreed_by,
        limit=200,
        missing=_("Say who at the customer agreed to onsite resources (R7)."),
        rule="R7",
        field="agreed_by",
    )
    note = (note or "").strip()
    now = timezone.now()
    with transaction.atomic():
        locked = lock_incident(incident, bump=False)
        _refuse_unless_performance_critical(locked, _("Requesting onsite resources"))
        possible_at = locked.opened_at + dt.timedelta(minutes=ONSITE_AFTER_MINUTES)
        if now < possible_at:
            raise RuleViolation(
                _("Onsite resources can be requested 24 hours after the opening, from %(at)s (R7).")
                % {"at": when(possible_at)},
                rule="R7",
                field="agreed_by",
            )
        if locked.events.filter(kind=EventKind.ONSITE_REQUEST).exists():
            raise Conflict(
                _("Onsite resources were already requested for %(number)s (R7).")
                % {"number": locked.number},
                rule="R7",
                code="already_requested",
            )
        event = record_event(
            locked,
            EventKind.ONSITE_REQUEST,
            by,
            body=note,
            data={"agreed_by": agreed_by, "note": note},
        )
    return event


def incident_escalate_to_product_team(
    *, incident: Incident, team: str, note: str = "", by
) -> IncidentEvent:
    """R7: staff record a rapid escalation of a Performance critical incident to a named
    product team, and tell the account manager and the contact. Several teams may be
    engaged; the same team twice is refused (a repeated click, not a new escalation)."""
    require_staff(by, _("escalate to a product team"))
    team = _required_text(
        team,
        limit=200,
        missing=_("Name the product team to escalate to (R7)."),
        rule="R7",
        field="team",
    )
    note = (note or "").strip()
    with transaction.atomic():
        locked = lock_incident(incident, bump=False)
        _refuse_unless_performance_critical(locked, _("Escalating to a product team"))
        done = locked.events.filter(kind=EventKind.PRODUCT_ESCALATION).values_list(
            "data__team", flat=True
        )
        if any(str(t).casefold() == team.casefold() for t in done):
            raise Conflict(
                _("%(number)s was already escalated to %(team)s (R7).")
                % {"number": locked.number, "team": team},
                rule="R7",
                field="team",
                code="already_escalated",
            )
        event = record_event(
            locked,
            EventKind.PRODUCT_ESCALATION,
            by,
            body=note,
            data={"team": team, "note": note},
        )
        notify_incident(
            locked,
            "incident.updated",
            f"incident:{locked.pk}:product_escalation:{event.pk}",
            emails=[manager_email(locked), locked.contact.email],
            subject=lambda: (
                _("%(number)s: escalated to a product team (R7)") % {"number": locked.number}
            ),
            product_team=team,
            note=note,
        )
    return event


def incident_request_rsm(*, incident: Incident, reason: str, by) -> IncidentEvent:
    """R8: on a Core work order the customer (or staff for them) requests Reactive
    Support Management: pooled, in business hours, so the account manager is told in
    business hours. Advanced/Performance engage it automatically for critical
    incidents. Once per incident."""
    if actor_is_staff(by):
        require_staff(by, _("request Reactive Support Management"))
    require_party(by, incident.work_order)
    reason = _required_text(
        reason,
        limit=500,
        missing=_("Say why you request Reactive Support Management (R8)."),
        rule="R8",
        field="reason",
    )
    with transaction.atomic():
        locked = lock_incident(incident, bump=False)
        if locked.work_order.package not in RSM_ON_REQUEST_PACKAGES:
            raise RuleViolation(
                _(
                    "Reactive Support Management is requested on Core work orders only; on "
                    "%(package)s it engages automatically for critical incidents (R8)."
                )
                % {"package": locked.work_order.get_package_display()},
                rule="R8",
            )
        if locked.status not in OPEN_STATUSES:
            raise RuleViolation(
                _("%(number)s is not open (R8).") % {"number": locked.number}, rule="R8"
            )
        if locked.events.filter(kind=EventKind.RSM_REQUEST).exists():
            raise Conflict(
                _("Reactive Support Management was already requested for %(number)s (R8).")
                % {"number": locked.number},
                rule="R8",
                code="already_requested",
            )
        event = record_event(
            locked, EventKind.RSM_REQUEST, by, body=reason, data={"reason": reason}
        )
        manager = locked.work_order.account_manager
        notify_incident(
            locked,
            "incident.updated",
            f"incident:{locked.pk}:rsm_request:{event.pk}",
            emails=[manager_email(locked)],
            subject=lambda: (
                _("%(number)s: Reactive Support Management requested (R8)")
                % {"number": locked.number}
            ),
            webhook=False,
            urgency=Urgency.BUSINESS_HOURS,
            calendars={manager.email: staff_calendar(manager)} if manager else None,
            rsm_reason=reason,
        )
    return event
