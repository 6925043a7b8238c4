"""Incident writes: opening, severity, status, response, comments, effort, deadlines.

Every function validates before it writes and runs in one transaction.atomic(), so
a RuleViolation or Conflict leaves nothing behind. Functions that change a row lock
it first (SELECT ... FOR UPDATE), so the deadline sweep and a person never interleave
their writes on one incident; every change of a deadline ends with
refresh_next_deadline() in the same transaction.

Decisions (documented here, tested in tests/incidents/):
- R3 after the first response: the severity changes, R7/R8/customer-side fields follow
  it, but the response target, due time, responded_at and response_breached stay as
  they were for that first response (they are history). Before the first response the
  target is recomputed from opened_at under the new severity.
- A recomputed response threshold that now lies in the future is re-armed: its
  recorded DeadlineEvent is removed so the sweep can fire it again, and a breach that
  no longer holds under the target in force is cleared. The timeline event keeps the
  old and new deadlines and the breach state before the change.
- R8 status updates: any staff comment on an escalated open incident is the status
  update; it moves next_status_update_at by STATUS_UPDATE_INTERVAL_MINUTES.
- A customer comment while support awaits the customer answers it: the incident goes
  back to in_progress and customer_due_at is cleared.
- R23: advisory effort past the 6-hour cap is recorded, flagged over_cap, and the
  account manager is told once (suggesting a proactive/consulting engagement).
- opened_at given by staff on the web or API channel is recorded as channel "import"
  (a backdated incident was entered afterwards, not filed live).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from contracts.models import NamedContact
from incidents import targets
from incidents.choices import (
    ADVISORY_CAP_MINUTES,
    AUTO_ESCALATION_PACKAGES,
    CRITICAL_SITUATION_DELAY_MINUTES,
    CUSTOMER_RESPONSE_MINUTES,
    NUMBER_DIGITS,
    NUMBER_PREFIX,
    OPEN_STATUSES,
    STATUS_UPDATE_INTERVAL_MINUTES,
    TRANSITIONS,
    Channel,
    DeadlineKind,
    EventKind,
    IncidentStatus,
    Severity,
    Threshold,
)
from incidents.deadlines import refresh_next_deadline
from incidents.models import DeadlineEvent, Incident, IncidentEvent
from incidents.recompute import incidents_recompute_deadlines  # noqa: F401  (public service)
from notifications.services import notify
from portal.errors import Conflict, RuleViolation, StaleVersion
from portal.scoping import actor_is_staff
from services.choices import Package

NUMBER_SEQUENCE = "incidents_incident_number_seq"
EDITABLE_FIELDS = {"title", "description", "product", "external_reference", "around_the_clock"}

# --- actors ---------------------------------------------------------------------


def _user(by) -> User | None:
    """The User to store in FKs and audit history; API keys store none (label only)."""
    return by if isinstance(by, User) else None


def _label(by) -> str:
    if by is None:
        return "system"
    if isinstance(by, User):
        return by.get_full_name() or by.username
    return str(by)


def _require_staff(by, action: str) -> None:
    if not actor_is_staff(by) or not getattr(by, "can_edit", True):
        raise PermissionDenied(f"Only support staff may {action}.")


def _require_party(by, work_order) -> None:
    """Staff, or the work order's own customer (views scope first; this is the backstop)."""
    if by is None or actor_is_staff(by):
        return
    if getattr(by, "customer_id", None) != work_order.customer_id:
        raise PermissionDenied("This incident belongs to another customer.")


# --- rows -----------------------------------------------------------------------


def _lock(
    incident: Incident, *, expected_version: int | None = None, bump: bool = True
) -> Incident:
    """The incident locked for this transaction, its version bumped.

    With expected_version, the bump is a conditional UPDATE ... WHERE version = N: if
    someone saved in between, nothing matches and the caller gets StaleVersion.
    """
    if expected_version is not None:
        won = Incident.objects.filter(pk=incident.pk, version=expected_version).update(
            version=F("version") + 1
        )
        if not won:
            raise StaleVersion()
    locked = (
        Incident.objects.select_for_update(of=("self",))
        .select_related(
            "work_order__customer",
            "work_order__support_location",
            "work_order__account_manager",
            "contact",
        )
        .get(pk=incident.pk)
    )
    if expected_version is None and bump:
        locked.version += 1
    return locked


def _save(incident: Incident, by, reason: str) -> None:
    incident._history_user = _user(by)
    incident._change_reason = reason[:100]
    incident.save()


def _sync(target: Incident, source: Incident) -> None:
    """Copy the saved state back onto the caller's instance, so it is not stale."""
    if target is source:
        return
    for f in Incident._meta.concrete_fields:
        setattr(target, f.attname, getattr(source, f.attname))


def _event(
    incident: Incident, kind: str, by, *, body: str = "", data: dict | None = None
) -> IncidentEvent:
    return IncidentEvent.objects.create(
        incident=incident,
        kind=kind,
        author=_user(by),
        author_label=_label(by),
        from_customer=by is not None and not actor_is_staff(by),
        body=body,
        data=data or {},
    )


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def payload(incident: Incident) -> dict:
    """The incident as webhooks and e-mails carry it (API.md field names)."""
    return {
        "id": incident.pk,
        "number": incident.number,
        "work_order": incident.work_order_id,
        "customer": incident.work_order.customer.code,
        "title": incident.title,
        "severity": incident.severity,
        "status": incident.status,
        "product": incident.product,
        "is_cloud": incident.is_cloud,
        "around_the_clock": incident.around_the_clock,
        "external_reference": incident.external_reference,
        "opened_at": _iso(incident.opened_at),
        "response_due_at": _iso(incident.response_due_at),
        "responded_at": _iso(incident.responded_at),
        "response_breached": incident.response_breached,
        "target_rule": incident.target_rule,
        "version": incident.version,
    }


def _manager_email(incident: Incident) -> str:
    manager = incident.work_order.account_manager
    return manager.email if manager else ""


def _notify(
    incident: Incident,
    event: str,
    key: str,
    *,
    emails,
    subject: str = "",
    webhook: bool = True,
    **extra,
):
    notify(
        event=event,
        key=key,
        customer=incident.work_order.customer,
        payload={**payload(incident), **extra},
        emails=[e for e in emails if e],
        subject=subject or f"{incident.number}: {incident.title}",
        webhook=webhook,
    )


def _next_number() -> str:
    """INC-000123: a PostgreSQL sequence (never repeats, no table lock); SQLite, only
    for the local demo, takes max+1 inside the (serialised) write transaction."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(%s)", [NUMBER_SEQUENCE])
            value = cursor.fetchone()[0]
    else:
        last = (
            Incident.objects.filter(number__regex=rf"^{NUMBER_PREFIX}[0-9]+$")
            .order_by("-number")
            .values_list("number", flat=True)
            .first()
        )
        value = int(last[len(NUMBER_PREFIX) :]) + 1 if last else 1
    return f"{NUMBER_PREFIX}{value:0{NUMBER_DIGITS}d}"


# --- deadlines ------------------------------------------------------------------


def _deadline_snapshot(incident: Incident) -> dict:
    return {
        "target_rule": incident.target_rule,
        "target_minutes": incident.target_minutes,
        "target_clock": incident.target_clock,
        "response_due_at": _iso(incident.response_due_at),
        "response_warning_at": _iso(incident.response_warning_at),
        "response_breached": incident.response_breached,
        "change_control_due_at": _iso(incident.change_control_due_at),
        "critical_situation_due_at": _iso(incident.critical_situation_due_at),
        "next_status_update_at": _iso(incident.next_status_update_at),
    }


def _rearm(incident: Incident, kind: str, *thresholds: str) -> None:
    """Let the sweep fire these thresholds again (their deadline moved or recurs)."""
    if incident.pk is None:  # being opened: nothing recorded yet
        return
    DeadlineEvent.objects.filter(
        incident=incident, deadline=kind, threshold__in=thresholds
    ).delete()


def _retarget(incident: Incident, *, calendar, now: dt.datetime) -> bool:
    """R3/R6: recompute the response target from opened_at; False after the first response."""
    if incident.responded_at is not None:
        return False
    choice = targets.select_target(
        work_order=incident.work_order,
        severity=incident.severity,
        is_cloud=incident.is_cloud,
        around_the_clock=incident.around_the_clock,
        product=incident.product,
    )
    due, warning = targets.response_deadlines(
        opened_at=incident.opened_at,
        minutes=choice.minutes,
        clock=targets.clock_for(choice.clock, calendar),
    )
    incident.target, incident.target_minutes = choice.target, choice.minutes
    incident.target_clock, incident.target_rule = choice.clock, choice.rule
    incident.response_due_at, incident.response_warning_at = due, warning
    rearm = [t for t, at in ((Threshold.WARNING, warning), (Threshold.BREACH, due)) if at > now]
    if rearm:
        _rearm(incident, DeadlineKind.RESPONSE, *rearm)
    if Threshold.BREACH in rearm:
        incident.response_breached = False
    return True


def _apply_escalation(
    incident: Incident, *, since: dt.datetime, now: dt.datetime, calendar
) -> bool:
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
            _rearm(incident, DeadlineKind.STATUS_UPDATE, Threshold.DUE)
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


def _announce_escalation(incident: Incident) -> None:
    """R8: the escalation's timeline entry and notices, written now in this transaction
    by the sweep's own announcer (once per escalation, so the sweep will not repeat it)."""
    from incidents.sweep import announce_escalation

    announce_escalation(incident=incident)


def _calendar(incident_or_work_order, around: dt.datetime):
    work_order = getattr(incident_or_work_order, "work_order", incident_or_work_order)
    return targets.business_calendar(work_order, around)[0]


# --- opening --------------------------------------------------------------------


def incident_open(
    *,
    work_order,
    contact,
    title: str,
    severity: str,
    description: str = "",
    product: str = "",
    is_cloud: bool = False,
    around_the_clock: bool = False,
    is_advisory: bool = False,
    external_reference: str = "",
    opened_at: dt.datetime | None = None,
    channel: str = Channel.WEB,
    by=None,
) -> Incident:
    """R2: a named contact files an incident (staff enter phone and imported ones)."""
    staff = actor_is_staff(by)
    now = timezone.now()
    title = (title or "").strip()
    if not title:
        raise RuleViolation("An incident needs a title.", field="title")
    if severity not in Severity.values:
        raise RuleViolation(
            f"Severity must be one of {', '.join(Severity.values)}.", rule="R3", field="severity"
        )
    if channel not in Channel.values:
        raise RuleViolation(f"Unknown channel {channel!r}.", field="channel")
    _require_party(by, work_order)
    if not staff:
        if opened_at is not None:
            raise RuleViolation(
                "Only support staff may set when an incident was opened.",
                rule="R2",
                field="opened_at",
            )
        if channel in (Channel.PHONE, Channel.IMPORT):
            raise RuleViolation(
                "Phone and imported incidents are entered by staff.", rule="R2", field="channel"
            )
    if opened_at is None:
        opened_at = now
    else:
        if timezone.is_naive(opened_at):
            raise RuleViolation("opened_at needs a time zone.", rule="R2", field="opened_at")
        if opened_at > now:
            raise RuleViolation(
                "An incident cannot be opened in the future.", rule="R2", field="opened_at"
            )
        if channel in (Channel.WEB, Channel.API):
            channel = Channel.IMPORT
    # R2: the term must cover the opening day, in the support location's own zone.
    local_day = opened_at.astimezone(ZoneInfo(targets.local_zone_name(work_order))).date()
    if not work_order.covers(local_day):
        raise RuleViolation(
            f"Work order {work_order.number} does not cover {local_day:%Y-%m-%d} (status {work_order.status_on(local_day)}).",
            rule="R2",
            field="work_order",
        )
    with transaction.atomic():
        # Re-read the contact inside the transaction: a deactivation a moment ago counts.
        fresh = NamedContact.objects.filter(pk=contact.pk).values("work_order_id", "active").first()
        if fresh is None or fresh["work_order_id"] != work_order.pk:
            raise RuleViolation(
                "The contact is not a named contact of this work order.", rule="R2", field="contact"
            )
        if not fresh["active"]:
            raise RuleViolation(
                "The contact is no longer an active named contact.", rule="R2", field="contact"
            )
        choice = targets.select_target(
            work_order=work_order,
            severity=severity,
            is_cloud=is_cloud,
            around_the_clock=around_the_clock,
            product=product,
        )
        calendar = _calendar(work_order, opened_at)
        due, warning = targets.response_deadlines(
            opened_at=opened_at,
            minutes=choice.minutes,
            clock=targets.clock_for(choice.clock, calendar),
        )
        incident = Incident(
            number=_next_number(),
            work_order=work_order,
            contact=contact,
            title=title[:200],
            description=description,
            severity=severity,
            product=product.strip(),
            is_cloud=is_cloud,
            around_the_clock=around_the_clock,
            is_advisory=is_advisory,
            external_reference=external_reference.strip(),
            channel=channel,
            opened_at=opened_at,
            opened_by=_user(by),
            target=choice.target,
            target_minutes=choice.minutes,
            target_clock=choice.clock,
            target_rule=choice.rule,
            response_due_at=due,
            response_warning_at=warning,
        )
        escalated = _apply_escalation(incident, since=opened_at, now=now, calendar=calendar)
        _save(incident, by, "opened")
        _event(
            incident,
            EventKind.CREATED,
            by,
            body=choice.rule,
            data={"channel": channel, **_deadline_snapshot(incident)},
        )
        if escalated:
            _announce_escalation(incident)
        refresh_next_deadline(incident)
        _notify(
            incident,
            "incident.created",
            f"incident:{incident.pk}:created",
            emails=[_manager_email(incident), contact.email],
        )
    return incident


# --- severity -------------------------------------------------------------------


def incident_change_severity(*, incident: Incident, severity: str, reason: str, by) -> Incident:
    """R3: support changes the severity; recorded, target recomputed from opened_at."""
    _require_staff(by, "change an incident's severity")
    if severity not in Severity.values:
        raise RuleViolation(
            f"Severity must be one of {', '.join(Severity.values)}.", rule="R3", field="severity"
        )
    if not (reason or "").strip():
        raise RuleViolation("Say why the severity changes.", rule="R3", field="reason")
    now = timezone.now()
    with transaction.atomic():
        locked = _lock(incident)
        if locked.status not in OPEN_STATUSES:
            raise Conflict(
                f"{locked.number} is {locked.get_status_display().lower()}.",
                rule="R3",
                field="severity",
            )
        if locked.severity == severity:
            raise RuleViolation(
                f"{locked.number} is already {severity}.", rule="R3", field="severity"
            )
        before, old = _deadline_snapshot(locked), locked.severity
        locked.severity = severity
        calendar = _calendar(locked, locked.opened_at)
        recomputed = _retarget(locked, calendar=calendar, now=now)
        escalated = _apply_escalation(locked, since=now, now=now, calendar=calendar)
        _save(locked, by, f"severity {old} -> {severity}")
        if escalated:
            _announce_escalation(locked)
        event = _event(
            locked,
            EventKind.SEVERITY,
            by,
            body=reason.strip(),
            data={
                "from": old,
                "to": severity,
                "reason": reason.strip(),
                "by": _label(by),
                "recomputed": recomputed,
                "before": before,
                "after": _deadline_snapshot(locked),
            },
        )
        refresh_next_deadline(locked)
        _notify(
            locked,
            "incident.severity_changed",
            f"incident:{locked.pk}:severity:{event.pk}",
            emails=[locked.contact.email, _manager_email(locked)],
            previous_severity=old,
            reason=reason.strip(),
        )
    _sync(incident, locked)
    return locked


def incident_request_severity_change(
    *, incident: Incident, severity: str, reason: str, by
) -> IncidentEvent:
    """R3: the customer asks for another severity; support decides (nothing changes)."""
    _require_party(by, incident.work_order)
    if severity not in Severity.values:
        raise RuleViolation(
            f"Severity must be one of {', '.join(Severity.values)}.", rule="R3", field="severity"
        )
    if not (reason or "").strip():
        raise RuleViolation("Say why the severity should change.", rule="R3", field="reason")
    with transaction.atomic():
        locked = _lock(incident, bump=False)
        if locked.status not in OPEN_STATUSES:
            raise Conflict(
                f"{locked.number} is {locked.get_status_display().lower()}.",
                rule="R3",
                field="severity",
            )
        if locked.severity == severity:
            raise RuleViolation(
                f"{locked.number} is already {severity}.", rule="R3", field="severity"
            )
        event = _event(
            locked,
            EventKind.SEVERITY_REQUEST,
            by,
            body=reason.strip(),
            data={"from": locked.severity, "to": severity, "reason": reason.strip()},
        )
        _notify(
            locked,
            "incident.updated",
            f"incident:{locked.pk}:severity_request:{event.pk}",
            emails=[_manager_email(locked)],
            requested_severity=severity,
            reason=reason.strip(),
        )
    return event


# --- status, response, comments -------------------------------------------------


def _enter_status(incident: Incident, status: str, now: dt.datetime) -> None:
    old = incident.status
    incident.status = status
    if status == IncidentStatus.AWAITING_CUSTOMER:
        # The customer's side: 24 hours, real time, from the moment we wait on them.
        incident.customer_due_at = now + dt.timedelta(minutes=CUSTOMER_RESPONSE_MINUTES)
        _rearm(incident, DeadlineKind.CUSTOMER_RESPONSE, Threshold.DUE)
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
        _rearm(incident, DeadlineKind.STATUS_UPDATE, Threshold.DUE)


def incident_set_status(
    *, incident: Incident, status: str, by, expected_version: int | None = None
) -> Incident:
    """Move along incidents.choices.TRANSITIONS; customers may only close their incident."""
    if status not in IncidentStatus.values:
        raise RuleViolation(f"Unknown status {status!r}.", field="status")
    if status == IncidentStatus.RESPONDED:
        raise RuleViolation(
            "Record the first response instead of setting 'responded'.", rule="R4", field="status"
        )
    if status != IncidentStatus.CLOSED:
        _require_staff(by, "change an incident's status")
    _require_party(by, incident.work_order)
    now = timezone.now()
    with transaction.atomic():
        locked = _lock(incident, expected_version=expected_version)
        old = locked.status
        if status not in TRANSITIONS[old]:
            raise Conflict(
                f"{locked.number} cannot go from {old} to {status}.",
                field="status",
                code="transition",
            )
        _enter_status(locked, status, now)
        _save(locked, by, f"status {old} -> {status}")
        event = _event(locked, EventKind.STATUS, by, data={"from": old, "to": status})
        refresh_next_deadline(locked)
        _notify(
            locked,
            "incident.updated",
            f"incident:{locked.pk}:status:{event.pk}",
            emails=[locked.contact.email] if actor_is_staff(by) else [_manager_email(locked)],
        )
    _sync(incident, locked)
    return locked


def incident_respond(
    *, incident: Incident, responded_at: dt.datetime | None = None, by
) -> Incident:
    """R4: record the first response, once; breached if it came after the due time."""
    _require_staff(by, "record the first response")
    now = timezone.now()
    responded_at = responded_at or now
    if timezone.is_naive(responded_at):
        raise RuleViolation("responded_at needs a time zone.", field="responded_at")
    if responded_at > now:
        raise RuleViolation("A response cannot be recorded in the future.", field="responded_at")
    with transaction.atomic():
        locked = _lock(incident)
        if locked.responded_at is not None:
            raise Conflict(
                f"{locked.number} already has its first response.",
                rule="R4",
                code="already_responded",
            )
        if locked.status == IncidentStatus.CLOSED:
            raise Conflict(f"{locked.number} is closed.", rule="R4", field="status")
        if responded_at < locked.opened_at:
            raise RuleViolation(
                "The response cannot precede the opening.", rule="R4", field="responded_at"
            )
        locked.responded_at, locked.responded_by = responded_at, _user(by)
        locked.response_breached = locked.response_breached or responded_at > locked.response_due_at
        if locked.status == IncidentStatus.NEW:
            locked.status = IncidentStatus.RESPONDED
        _save(locked, by, "first response")
        event = _event(
            locked,
            EventKind.RESPONSE,
            by,
            data={
                "responded_at": _iso(responded_at),
                "due": _iso(locked.response_due_at),
                "breached": locked.response_breached,
            },
        )
        refresh_next_deadline(locked)
        _notify(
            locked,
            "incident.updated",
            f"incident:{locked.pk}:response:{event.pk}",
            emails=[locked.contact.email],
        )
    _sync(incident, locked)
    return locked


def incident_comment(*, incident: Incident, body: str, by) -> IncidentEvent:
    """A timeline comment. A staff comment on an escalated incident is its R8 status
    update; a customer comment answers a wait on the customer."""
    _require_party(by, incident.work_order)
    body = (body or "").strip()
    if not body:
        raise RuleViolation("A comment needs some text.", field="body")
    staff = actor_is_staff(by)
    now = timezone.now()
    with transaction.atomic():
        locked = _lock(incident, bump=False)
        if locked.status == IncidentStatus.CLOSED:
            raise Conflict(f"{locked.number} is closed.", field="body")
        changed = False
        if not staff and locked.status == IncidentStatus.AWAITING_CUSTOMER:
            _enter_status(locked, IncidentStatus.IN_PROGRESS, now)
            _event(
                locked,
                EventKind.STATUS,
                by,
                data={"from": IncidentStatus.AWAITING_CUSTOMER, "to": IncidentStatus.IN_PROGRESS},
            )
            changed = True
        if staff and locked.next_status_update_at is not None and locked.status in OPEN_STATUSES:
            locked.next_status_update_at = now + dt.timedelta(
                minutes=STATUS_UPDATE_INTERVAL_MINUTES
            )
            _rearm(locked, DeadlineKind.STATUS_UPDATE, Threshold.DUE)
            changed = True
        if changed:
            locked.version += 1
            _save(locked, by, "comment")
        event = _event(
            locked, EventKind.COMMENT, by, body=body, data={"status_update": staff and changed}
        )
        if changed:
            refresh_next_deadline(locked)
        _notify(
            locked,
            "incident.updated",
            f"incident:{locked.pk}:comment:{event.pk}",
            emails=[locked.contact.email] if staff else [_manager_email(locked)],
            comment=body,
        )
    _sync(incident, locked)
    return event


# --- edits, effort, change control ----------------------------------------------


def incident_update(
    *, incident: Incident, by, expected_version: int | None = None, reason: str = "", **fields
) -> Incident:
    """Edit title, description, product, external_reference or 24x7 (R6, with a reason
    when support drops it). Optimistic locking: a stale expected_version is refused."""
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise RuleViolation(
            f"These fields cannot be edited: {', '.join(sorted(unknown))}.",
            field=sorted(unknown)[0],
        )
    _require_party(by, incident.work_order)
    staff = actor_is_staff(by)
    for name in ("title", "product", "external_reference"):
        if name in fields:
            fields[name] = (fields[name] or "").strip()
            if len(fields[name]) > 200:
                raise RuleViolation("At most 200 characters.", field=name)
    if "title" in fields and not fields["title"]:
        raise RuleViolation("An incident needs a title.", field="title")
    now = timezone.now()
    with transaction.atomic():
        locked = _lock(incident, expected_version=expected_version)
        if locked.status == IncidentStatus.CLOSED:
            raise Conflict(f"{locked.number} is closed.", code="closed")
        changes = {k: v for k, v in fields.items() if getattr(locked, k) != v}
        if "around_the_clock" in changes:
            dropping = not changes["around_the_clock"]
            if dropping and not staff:
                raise PermissionDenied("Only support staff may drop 24x7 effort (R6).")
            if dropping and not reason.strip():
                raise RuleViolation("Say why 24x7 effort is dropped.", rule="R6", field="reason")
        for name, value in changes.items():
            setattr(locked, name, value)
        if "around_the_clock" in changes:
            before = _deadline_snapshot(locked)
            recomputed = _retarget(locked, calendar=_calendar(locked, locked.opened_at), now=now)
            _event(
                locked,
                EventKind.AROUND_THE_CLOCK,
                by,
                body=reason.strip(),
                data={
                    "to": locked.around_the_clock,
                    "reason": reason.strip(),
                    "recomputed": recomputed,
                    "before": before,
                    "after": _deadline_snapshot(locked),
                },
            )
        _save(locked, by, "edited: " + ", ".join(sorted(changes)) if changes else "edited")
        if "around_the_clock" in changes:
            refresh_next_deadline(locked)
        if changes:
            _notify(
                locked,
                "incident.updated",
                f"incident:{locked.pk}:updated:v{locked.version}",
                emails=[],
                changed=sorted(changes),
            )
    _sync(incident, locked)
    return locked


def incident_log_advisory_effort(*, incident: Incident, minutes: int, by) -> IncidentEvent:
    """R23: log advisory effort. Past the 6-hour cap it is still recorded (the work was
    done) but flagged, and the account manager is told once to propose a proactive or
    consulting engagement instead."""
    _require_staff(by, "log advisory effort")
    if not isinstance(minutes, int) or isinstance(minutes, bool) or minutes <= 0:
        raise RuleViolation("Effort is a positive number of minutes.", rule="R23", field="minutes")
    with transaction.atomic():
        locked = _lock(incident)
        if not locked.is_advisory:
            raise RuleViolation(
                f"{locked.number} is not an advisory request.", rule="R23", field="minutes"
            )
        before = locked.advisory_minutes
        locked.advisory_minutes = before + minutes
        over = locked.advisory_minutes > ADVISORY_CAP_MINUTES
        crossed = over and before <= ADVISORY_CAP_MINUTES
        _save(locked, by, "advisory effort")
        body = ""
        if over:
            body = (
                f"Advisory support is capped at {ADVISORY_CAP_MINUTES // 60} hours per request (R23); "
                f"{locked.advisory_minutes / 60:g} hours are logged. Consider a proactive service or a "
                "consulting engagement for the rest."
            )
        event = _event(
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
            _notify(
                locked,
                "incident.updated",
                f"incident:{locked.pk}:advisory_over_cap",
                emails=[_manager_email(locked)],
                subject=f"{locked.number}: advisory request past the 6-hour cap (R23)",
                webhook=False,
                advisory_minutes=locked.advisory_minutes,
                suggestion="convert to a proactive or consulting engagement",
            )
    _sync(incident, locked)
    return event


def incident_grant_change_control(*, incident: Incident, by) -> Incident:
    """The customer's side: change-control access granted (Advanced critical)."""
    _require_party(by, incident.work_order)
    now = timezone.now()
    with transaction.atomic():
        locked = _lock(incident)
        if locked.change_control_due_at is None:
            raise RuleViolation(
                f"{locked.number} needs no change-control access.", field="change_control"
            )
        if locked.change_control_granted_at is not None:
            raise Conflict(
                f"Change-control access was already granted on {locked.number}.",
                code="already_granted",
            )
        locked.change_control_granted_at = now
        _save(locked, by, "change control granted")
        _event(
            locked,
            EventKind.CHANGE_CONTROL,
            by,
            data={"granted_at": _iso(now), "due": _iso(locked.change_control_due_at)},
        )
        refresh_next_deadline(locked)
    _sync(incident, locked)
    return locked


def incident_assign_critical_situation(
    *, incident: Incident, by, assigned_at: dt.datetime | None = None
) -> Incident:
    """R7: the critical situation resource is assigned (stops that deadline)."""
    _require_staff(by, "assign a critical situation resource")
    now = timezone.now()
    assigned_at = assigned_at or now
    if timezone.is_naive(assigned_at) or assigned_at > now:
        raise RuleViolation(
            "assigned_at must be an aware time, not in the future.", rule="R7", field="assigned_at"
        )
    with transaction.atomic():
        locked = _lock(incident)
        if locked.critical_situation_due_at is None:
            raise RuleViolation(f"{locked.number} needs no critical situation resource.", rule="R7")
        if locked.critical_situation_assigned_at is not None:
            raise Conflict(
                f"A critical situation resource is already assigned to {locked.number}.", rule="R7"
            )
        locked.critical_situation_assigned_at = assigned_at
        _save(locked, by, "critical situation resource assigned")
        _event(
            locked,
            EventKind.ESCALATION,
            by,
            data={"critical_situation_assigned_at": _iso(assigned_at)},
        )
        refresh_next_deadline(locked)
    _sync(incident, locked)
    return locked
