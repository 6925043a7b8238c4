"""Status, first response, comments, edits, advisory effort, change control, R7 assignment,
R7 onsite and product-team escalation, R8 Reactive Support Management on request."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.actors import person
from core.errors import Conflict, NotAllowed, RuleViolation
from core.scoping import actor_is_staff
from core.times import utc_iso
from incidents.choices import (
    ADVISORY_CAP_MINUTES,
    COMMENT_MAX_CHARS,
    CUSTOMER_RESPONSE_MINUTES,
    CUSTOMER_STATUSES,
    OPEN_STATUSES,
    STATUS_UPDATE_INTERVAL_MINUTES,
    TRANSITIONS,
    DeadlineKind,
    EventKind,
    IncidentStatus,
    Severity,
    Threshold,
)
from incidents.deadlines import refresh_next_deadline
from incidents.models import Incident, IncidentEvent
from incidents.services.access import require_party, require_staff
from incidents.services.deadline_rules import (
    business_calendar_of,
    deadline_snapshot,
    rearm,
    retarget,
)
from incidents.services.events import manager_email, notify_incident, record_event
from incidents.services.rows import (
    EDITABLE_FIELDS,
    check_external_reference,
    lock_incident,
    save_incident,
    sync_instance,
)

# --- status, response, comments -------------------------------------------------


def _enter_status(incident: Incident, status: str, now: dt.datetime) -> None:
    old = incident.status
    incident.status = status
    if status == IncidentStatus.AWAITING_CUSTOMER:
        # The customer's side: 24 hours, real time, from the moment we wait on them.
        incident.customer_due_at = now + dt.timedelta(minutes=CUSTOMER_RESPONSE_MINUTES)
        rearm(incident, DeadlineKind.CUSTOMER_RESPONSE, Threshold.DUE)
    elif old == IncidentStatus.AWAITING_CUSTOMER:
        incident.customer_due_at = None
    if status not in OPEN_STATUSES:
        incident.next_status_update_at = None
    elif (
        old not in OPEN_STATUSES
        and incident.escalated_at
        and incident.severity == Severity.CRITICAL
    ):
        # Reopened while critical: status updates (R8) resume from now.
        incident.next_status_update_at = now + dt.timedelta(minutes=STATUS_UPDATE_INTERVAL_MINUTES)
        rearm(incident, DeadlineKind.STATUS_UPDATE, Threshold.DUE)


def incident_set_status(
    *, incident: Incident, status: str, by, expected_version: int | None = None
) -> Incident:
    """Move along incidents.choices.TRANSITIONS; customers may only mark their incident
    solved (resolved) or close it."""
    if status not in IncidentStatus.values:
        raise RuleViolation(_("Unknown status %(status)r.") % {"status": status}, field="status")
    if status == IncidentStatus.RESPONDED:
        raise RuleViolation(
            _("Record the first response instead of setting 'responded'."),
            rule="R4",
            field="status",
        )
    if status not in CUSTOMER_STATUSES:
        require_staff(by, _("change an incident's status"))
    require_party(by, incident.work_order)
    now = timezone.now()
    with transaction.atomic():
        locked = lock_incident(incident, expected_version=expected_version)
        old = locked.status
        if status not in TRANSITIONS[old]:
            raise Conflict(
                _("%(number)s cannot go from %(old)s to %(new)s.")
                % {
                    "number": locked.number,
                    "old": str(IncidentStatus(old).label).lower(),
                    "new": str(IncidentStatus(status).label).lower(),
                },
                field="status",
                code="transition",
            )
        _enter_status(locked, status, now)
        save_incident(locked, by, f"status {old} -> {status}")
        event = record_event(locked, EventKind.STATUS, by, data={"from": old, "to": status})
        refresh_next_deadline(locked)
        notify_incident(
            locked,
            "incident.updated",
            f"incident:{locked.pk}:status:{event.pk}",
            emails=[locked.contact.email] if actor_is_staff(by) else [manager_email(locked)],
        )
    sync_instance(incident, locked)
    return locked


def incident_respond(
    *, incident: Incident, responded_at: dt.datetime | None = None, by
) -> Incident:
    """R4: record the first response, once; breached if it came after the due time."""
    require_staff(by, _("record the first response"))
    now = timezone.now()
    responded_at = responded_at or now
    if timezone.is_naive(responded_at):
        raise RuleViolation(_("responded_at needs a time zone."), field="responded_at")
    if responded_at > now:
        raise RuleViolation(_("A response cannot be recorded in the future."), field="responded_at")
    with transaction.atomic():
        locked = lock_incident(incident)
        if locked.responded_at is not None:
            raise Conflict(
                _("%(number)s already has its first response.") % {"number": locked.number},
                rule="R4",
                code="already_responded",
            )
        if locked.status == IncidentStatus.CLOSED:
            raise Conflict(
                _("%(number)s is closed.") % {"number": locked.number}, rule="R4", field="status"
            )
        if responded_at < locked.opened_at:
            raise RuleViolation(
                _("The response cannot precede the opening."), rule="R4", field="responded_at"
            )
        locked.responded_at, locked.responded_by = responded_at, person(by)
        locked.response_breached = locked.response_breached or responded_at > locked.response_due_at
        if locked.status == IncidentStatus.NEW:
            locked.status = IncidentStatus.RESPONDED
        save_incident(locked, by, "first response")
        event = record_event(
            locked,
            EventKind.RESPONSE,
            by,
            data={
                "responded_at": utc_iso(responded_at),
                "due": utc_iso(locked.response_due_at),
                "breached": locked.response_breached,
            },
        )
        refresh_next_deadline(locked)
        notify_incident(
            locked,
            "incident.updated",
            f"incident:{locked.pk}:response:{event.pk}",
            emails=[locked.contact.email],
        )
    sync_instance(incident, locked)
    return locked


def incident_comment(
    *, incident: Incident, body: str, by, internal: bool = False, files=()
) -> IncidentEvent:
    """A timeline comment: a public reply, or (staff only) an internal note that is never
    shown or sent to the customer. `files` are attached to it (incident_attach's rules).
    A public staff comment on an escalated incident is its R8 status update; a customer
    comment answers a wait on the customer."""
    from incidents.services.conversation import (
        check_upload,
        delete_stored_files,
        forget_stored_files,
    )

    require_party(by, incident.work_order)
    body = (body or "").strip()
    files = [f for f in files if f is not None]
    if not body:
        raise RuleViolation(_("A comment needs some text."), field="body")
    if len(body) > COMMENT_MAX_CHARS:
        raise RuleViolation(
            _("At most %(limit)s characters.") % {"limit": COMMENT_MAX_CHARS}, field="body"
        )
    staff = actor_is_staff(by)
    if internal and not staff:
        raise NotAllowed(_("Only support staff may write internal notes."))
    if internal:
        require_staff(by, _("write internal notes"))
    for upload in files:
        check_upload(upload)
    now = timezone.now()
    forget_stored_files()
    try:
        event, locked = _comment(incident, body, by, internal, files, staff, now)
    except Exception:
        delete_stored_files()
        raise
    forget_stored_files()
    sync_instance(incident, locked)
    return event


def _comment(incident, body, by, internal, files, staff, now):
    from incidents.services.conversation import attach_upload

    with transaction.atomic():
        # Bumped: the live pages' change marker is the version (incidents.views.incident_marker).
        locked = lock_incident(incident)
        if locked.status == IncidentStatus.CLOSED:
            raise Conflict(_("%(number)s is closed.") % {"number": locked.number}, field="body")
        changed = False
        if not staff and locked.status == IncidentStatus.AWAITING_CUSTOMER:
            _enter_status(locked, IncidentStatus.IN_PROGRESS, now)
            record_event(
                locked,
                EventKind.STATUS,
                by,
                data={"from": IncidentStatus.AWAITING_CUSTOMER, "to": IncidentStatus.IN_PROGRESS},
            )
            changed = True
        if (
            staff
            and not internal
            and locked.next_status_update_at is not None
            and locked.status in OPEN_STATUSES
        ):
            locked.next_status_update_at = now + dt.timedelta(
                minutes=STATUS_UPDATE_INTERVAL_MINUTES
            )
            rearm(locked, DeadlineKind.STATUS_UPDATE, Threshold.DUE)
            changed = True
        save_incident(locked, by, "internal note" if internal else "comment")
        event = record_event(
            locked,
            EventKind.COMMENT,
            by,
            body=body,
            data={"status_update": staff and changed, **({"internal": True} if internal else {})},
            internal=internal,
        )
        for upload in files:
            attach_upload(locked, upload, by, comment=event, internal=internal)
        if changed:
            refresh_next_deadline(locked)
        if not internal:
            # An internal note is never e-mailed nor sent by webhook: no outbox row at all.
            notify_incident(
                locked,
                "incident.updated",
                f"incident:{locked.pk}:comment:{event.pk}",
                emails=[locked.contact.email]
                if staff
                else [manager_email(locked), *_assignee_email(locked)],
                comment=body,
            )
    return event, locked


def _assignee_email(incident: Incident) -> list[str]:
    assignee = incident.assignee if incident.assignee_id else None
    return [assignee.email] if assignee is not None and assignee.email else []


# --- edits, effort, change control ----------------------------------------------


def incident_update(
    *, incident: Incident, by, expected_version: int | None = None, reason: str = "", **fields
) -> Incident:
    """Edit title, description, product, external_reference or 24x7 (R6, with a reason
    when support drops it). Optimistic locking: a stale expected_version is refused."""
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise RuleViolation(
            _("These fields cannot be edited: %(fields)s.")
            % {"fields": ", ".join(sorted(unknown))},
            field=sorted(unknown)[0],
        )
    require_party(by, incident.work_order)
    staff = actor_is_staff(by)
    for name in ("title", "product", "external_reference"):
        if name in fields:
            fields[name] = (fields[name] or "").strip()
            if len(fields[name]) > 200:
                raise RuleViolation(_("At most %(limit)s characters.") % {"limit": 200}, field=name)
    if "title" in fields and not fields["title"]:
        raise RuleViolation(_("An incident needs a title."), field="title")
    now = timezone.now()
    with transaction.atomic():
        locked = lock_incident(incident, expected_version=expected_version)
        if locked.status == IncidentStatus.CLOSED:
            raise Conflict(_("%(number)s is closed.") % {"number": locked.number}, code="closed")
        changes = {k: v for k, v in fields.items() if getattr(locked, k) != v}
        if changes.get("external_reference"):
            check_external_reference(
                customer_id=locked.work_order.customer_id,
                external_reference=changes["external_reference"],
                exclude_id=locked.pk,
            )
        if "around_the_clock" in changes:
            dropping = not changes["around_the_clock"]
            if dropping and not staff:
                raise NotAllowed(_("Only support staff may drop 24x7 effort (R6)."))
            if dropping and not reason.strip():
                raise RuleViolation(_("Say why 24x7 effort is dropped."), rule="R6", field="reason")
        for name, value in changes.items():
            setattr(locked, name, value)
        if "around_the_clock" in changes:
            before = deadline_snapshot(locked)
            recomputed = retarget(
                locked, calendar=business_calendar_of(locked, locked.opened_at), now=now
            )
            record_event(
                locked,
                EventKind.AROUND_THE_CLOCK,
                by,
                body=reason.strip(),
                data={
                    "to": locked.around_the_clock,
                    "reason": reason.strip(),
                    "recomputed": recomputed,
                    "before": before,
                    "after": deadline_snapshot(locked),
                },
            )
        save_incident(locked, by, "edited: " + ", ".join(sorted(changes)) if changes else "edited")
        if "around_the_clock" in changes:
            refresh_next_deadline(locked)
        if changes:
            notify_incident(
                locked,
                "incident.updated",
                f"incident:{locked.pk}:updated:v{locked.version}",
                emails=[],
                changed=sorted(changes),
            )
    sync_instance(incident, locked)
    return locked


def incident_log_advisory_effort(*, incident: Incident, minutes: int, by) -> IncidentEvent:
    """R23: log advisory effort. Past the 6-hour cap it is still recorded (the work was
    done) but flagged, and the account manager is told once to propose a proactive or
    consulting engagement instead."""
    require_staff(by, _("log advisory effort"))
    if not isinstance(minutes, int) or isinstance(minutes, bool) or minutes <= 0:
        raise RuleViolation(
            _("Effort is a positive number of minutes."), rule="R23", field="minutes"
        )
    with transaction.atomic():
        locked = lock_incident(incident)
        if not locked.is_advisory:
            raise RuleViolation(
                _("%(number)s is not an advisory request.") % {"number": locked.number},
                rule="R23",
                field="minutes",
            )
        before = locked.advisory_minutes
        locked.advisory_minutes = before + minutes
        over = locked.advisory_minutes > ADVISORY_CAP_MINUTES
        crossed = over and before <= ADVISORY_CAP_MINUTES
        save_incident(locked, by, "advisory effort")
        body = ""
        if over:
            body = (
                f"Advisory support is capped at {ADVISORY_CAP_MINUTES // 60} hours per request (R23); "
                f"{locked.advisory_minutes / 60:g} hours are logged. Consider a proactive service or a "
                "consulting engagement for the rest."
            )
        event = record_event(
            locked,
            EventKind.EFFORT,
            by,
            body=body,
            data={
                "minutes": minutes,
                "total_minutes": locked.advisory_minutes,
                "cap_minutes": ADVISORY_CAP_MINUTES,
                "over_cap": over,
            },
        )
        if crossed:
            notify_incident(
                locked,
                "incident.updated",
                f"incident:{locked.pk}:advisory_over_cap",
                emails=[manager_email(locked)],
                subject=lambda: (
                    _("%(number)s: advisory request past the 6-hour cap (R23)")
                    % {"number": locked.number}
                ),
                webhook=False,
                advisory_minutes=locked.advisory_minutes,
                suggestion="convert to a proactive or consulting engagement",
            )
    sync_instance(incident, locked)
    return event


def _stop_deadline(
    incident: Incident,
    by,
    *,
    due_field: str,
    met_field: str,
    met_at: dt.datetime,
    not_needed,
    already_met,
    note: str,
    event_kind: str,
    event_data,
) -> Incident:
    """Stop a running deadline once, under the row lock: refused when the incident has
    no such deadline (`not_needed`) or it was stopped already (`already_met`); both are
    callables building the error from the locked incident, as is `event_data`."""
    with transaction.atomic():
        locked = lock_incident(incident)
        if getattr(locked, due_field) is None:
            raise not_needed(locked)
        if getattr(locked, met_field) is not None:
            raise already_met(locked)
        setattr(locked, met_field, met_at)
        save_incident(locked, by, note)
        record_event(locked, event_kind, by, data=event_data(locked))
        refresh_next_deadline(locked)
    sync_instance(incident, locked)
    return locked


def incident_grant_change_control(*, incident: Incident, by) -> Incident:
    """The customer's side: change-control access granted (Advanced critical)."""
    require_party(by, incident.work_order)
    now = timezone.now()
    return _stop_deadline(
        incident,
        by,
        due_field="change_control_due_at",
        met_field="change_control_granted_at",
        met_at=now,
        not_needed=lambda locked: RuleViolation(
            _("%(number)s needs no change-control access.") % {"number": locked.number},
            field="change_control",
        ),
        already_met=lambda locked: Conflict(
            _("Change-control access was already granted on %(number)s.")
            % {"number": locked.number},
            code="already_granted",
        ),
        note="change control granted",
        event_kind=EventKind.CHANGE_CONTROL,
        event_data=lambda locked: {
            "granted_at": utc_iso(now),
            "due": utc_iso(locked.change_control_due_at),
        },
    )


def incident_assign_critical_situation(
    *, incident: Incident, by, assigned_at: dt.datetime | None = None
) -> Incident:
    """R7: the critical situation resource is assigned (stops that deadline)."""
    require_staff(by, _("assign a critical situation resource"))
    now = timezone.now()
    assigned_at = assigned_at or now
    if timezone.is_naive(assigned_at) or assigned_at > now:
        raise RuleViolation(
            _("assigned_at must be an aware time, not in the future."),
            rule="R7",
            field="assigned_at",
        )
    return _stop_deadline(
        incident,
        by,
        due_field="critical_situation_due_at",
        met_field="critical_situation_assigned_at",
        met_at=assigned_at,
        not_needed=lambda locked: RuleViolation(
            _("%(number)s needs no critical situation resource.") % {"number": locked.number},
            rule="R7",
        ),
        already_met=lambda locked: Conflict(
            _("A critical situation resource is already assigned to %(number)s.")
            % {"number": locked.number},
            rule="R7",
        ),
        note="critical situation resource assigned",
        event_kind=EventKind.ESCALATION,
        event_data=lambda locked: {"critical_situation_assigned_at": utc_iso(assigned_at)},
    )
