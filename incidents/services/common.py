"""Shared helpers of the incident services: actors, locking, events, notices, deadlines."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection
from django.db.models import F
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext as _

from accounts.models import User
from contracts.models import NamedContact
from core.errors import Conflict, NotAllowed, StaleVersion
from core.history import actor_reason
from core.scoping import actor_is_staff
from core.times import utc_iso
from incidents import caches, notices, targets
from incidents.choices import (
    AUTO_ESCALATION_PACKAGES,
    CRITICAL_SITUATION_DELAY_MINUTES,
    NUMBER_DIGITS,
    NUMBER_PREFIX,
    STATUS_UPDATE_INTERVAL_MINUTES,
    DeadlineKind,
    Severity,
    Threshold,
)
from incidents.models import DeadlineEvent, Incident, IncidentEvent
from notifications.choices import Urgency
from notifications.localize import (
    contact_reader,
    localized_notify,
    readers_for,
    staff_reader,
)
from services.choices import Package

NUMBER_SEQUENCE = "incidents_incident_number_seq"
EDITABLE_FIELDS = {"title", "description", "product", "external_reference", "around_the_clock"}

# --- actors ---------------------------------------------------------------------


def _user(by) -> User | None:
    """The User to store in FKs; API keys store none (label only)."""
    return by if isinstance(by, User) else None


def _history_user(by) -> User | None:
    """The User of a history row: a person, or the staff member who made the API key
    (whose name is in the row's reason: core.history.actor_reason)."""
    user = getattr(by, "audit_user", by)
    return user if isinstance(user, User) else None


def _label(by) -> str:
    if by is None:
        return "system"
    if isinstance(by, User):
        return by.get_full_name() or by.username
    return str(by)


def _require_staff(by, action: str) -> None:
    if not actor_is_staff(by) or not getattr(by, "can_edit", True):
        # `action` comes translated from the caller ("record the first response").
        raise NotAllowed(_("Only support staff may %(action)s.") % {"action": action})


def _require_party(by, work_order) -> None:
    """Staff, or the work order's own customer (views scope first; this is the backstop)."""
    if by is None or actor_is_staff(by):
        return
    if getattr(by, "customer_id", None) != work_order.customer_id:
        raise NotAllowed(_("This incident belongs to another customer."))


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
            "assignee",
            "contact__user",  # the contact's language for e-mails (notifications.localize)
        )
        .get(pk=incident.pk)
    )
    if expected_version is None and bump:
        locked.version += 1
    return locked


def _save(incident: Incident, by, reason: str) -> None:
    incident._history_user = _history_user(by)
    incident._change_reason = actor_reason(by, reason)
    incident.save()


def check_external_reference(
    *, customer_id: int, external_reference: str, exclude_id: int | None = None
) -> None:
    """API.md Revision 2: `external_reference` is unique per customer; a second incident
    with the same one is a Conflict naming the existing incident.

    The ticketing tool's id is what a retried create carries: a transaction-scoped
    advisory lock per (customer, reference) makes two concurrent creates queue here,
    and the second one finds the first (there is no customer column on the incident
    for a unique index to cover)."""
    reference = (external_reference or "").strip()
    if not reference:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
            [f"incident-external-reference:{customer_id}:{reference}"],
        )
    existing = (
        Incident.objects.filter(customer_id=customer_id, external_reference=reference)
        .exclude(pk=exclude_id)
        .values_list("pk", "number")
        .first()
    )
    if existing is not None:
        raise Conflict(
            _(
                "External reference %(reference)s is already used by incident %(number)s "
                "(id %(id)s)."
            )
            % {"reference": reference, "number": existing[1], "id": existing[0]},
            rule="",
            field="external_reference",
            code="external_reference_taken",
        )


def _sync(target: Incident, source: Incident) -> None:
    """Copy the saved state back onto the caller's instance, so it is not stale."""
    if target is source:
        return
    for f in Incident._meta.concrete_fields:
        setattr(target, f.attname, getattr(source, f.attname))


def _event(
    incident: Incident,
    kind: str,
    by,
    *,
    body: str = "",
    data: dict | None = None,
    internal: bool = False,
) -> IncidentEvent:
    event = _event_row(incident, kind, by, body=body, data=data, internal=internal)
    event.save(force_insert=True)
    return event


def _event_row(
    incident: Incident,
    kind: str,
    by,
    *,
    body: str = "",
    data: dict | None = None,
    internal: bool = False,
) -> IncidentEvent:
    """A timeline entry, unsaved (see _event). `internal`: staff only, never the customer's."""
    return IncidentEvent(
        incident=incident,
        kind=kind,
        author=_user(by),
        author_label=_label(by),
        from_customer=by is not None and not actor_is_staff(by),
        internal=internal,
        body=body,
        data=data or {},
    )


def _iso(value: dt.datetime | None) -> str | None:
    return utc_iso(value)


def payload(incident: Incident, **detail) -> dict:
    """The outbox payload of an incident event (incidents.notices, the one place)."""
    return notices.incident_payload(incident, **detail)


def _manager_email(incident: Incident) -> str:
    manager = incident.work_order.account_manager
    return manager.email if manager else ""


def _readers(incident: Incident, emails) -> list:
    """Each address as a notifications.localize.Reader: the account manager, the
    incident's contact, or (anyone else) looked up by address."""
    manager = incident.work_order.account_manager
    contact = incident.contact if incident.contact_id else None
    readers = []
    for email in emails:
        if not email:
            continue
        if manager is not None and email == manager.email:
            readers.append(staff_reader(manager))
        elif contact is not None and email == contact.email:
            readers.append(contact_reader(contact, incident.work_order))
        else:
            readers += readers_for([email], customer=incident.work_order.customer)
    return readers


def _body(incident: Incident, event: str, extra: dict) -> str:
    return notices.email_body(incident, event, extra)


def _notify(
    incident: Incident,
    event: str,
    key: str,
    *,
    emails,
    subject=None,
    webhook: bool = True,
    batch=None,
    urgency: str = Urgency.IMMEDIATE,
    calendars=None,
    **extra,
):
    """Outbox rows for an incident event; each e-mail in its reader's language and zone.

    `subject` is a callable (rendered per reader) or None for "<number>: <title>";
    `batch` (a core.batch.InsertBatch) takes the INSERT to send with others;
    `urgency` Urgency.BUSINESS_HOURS holds each e-mail for its reader's next opening
    in `calendars` ({email: clock}, notifications.calendars)."""

    def render() -> tuple[str, str]:
        text = subject() if subject is not None else f"{incident.number}: {incident.title}"
        return text, _body(incident, event, extra)

    localized_notify(
        readers=_readers(incident, emails),
        render=render,
        event=event,
        key=key,
        customer=incident.work_order.customer,
        payload=payload(incident, **extra),
        webhook=webhook,
        batch=batch,
        urgency=urgency,
        calendars=calendars,
        # One digest e-mail per reader per incident for what happens within the window
        # (issue #17); deadline notices (the sweep) and business-hours ones are not held.
        digest=f"incident:{incident.pk}"
        if urgency == Urgency.IMMEDIATE and event != "incident.created"
        else "",
    )


@dataclass(slots=True)
class OpeningReads:
    """What incident_open reads before it writes (see _opening_reads)."""

    contact: NamedContact | None  # with work_order, its customer, location and manager
    number: str
    incident_id: int | None  # drawn on PostgreSQL, so the rows written with it need no RETURNING
    targets_version: int | None  # None: read the target table uncached


def _opening_reads(by, work_order, contact) -> OpeningReads:
    """incident_open's reads, inside its transaction: the named contact (an instance, or
    an e-mail in any case) of the work order (an instance or an id) as `by` may see it
    (the one door; None is the system), with the rows the opening needs, so a
    deactivation a moment ago counts; the next incident number and id; the version of
    the target table for incidents.caches.

    One statement on PostgreSQL (issue #6). A number drawn for a refused contact is a
    gap, as after any rollback. Contact e-mails are unique per work order in any case
    (contracts), so at most one row matches.
    """
    work_order_id = work_order if isinstance(work_order, int) else work_order.pk
    match = {"email__iexact": contact} if isinstance(contact, str) else {"pk": contact.pk}
    contacts = NamedContact.objects.all() if by is None else NamedContact.objects.visible_to(by)
    rows = (
        contacts.select_related(
            "work_order__customer", "work_order__support_location", "work_order__account_manager"
        )
        .filter(work_order_id=work_order_id, **match)
        .order_by()
    )
    rows = rows.annotate(
        opening_number=RawSQL("nextval(%s)", [NUMBER_SEQUENCE]),
        opening_id=RawSQL("nextval(pg_get_serial_sequence(%s, 'id'))", [Incident._meta.db_table]),
        targets_version=RawSQL(caches.targets_version_sql(), []),
    )
    found = next(iter(rows[:1]), None)
    if found is None:
        return OpeningReads(None, "", None, None)
    return OpeningReads(
        found, _format_number(found.opening_number), found.opening_id, found.targets_version
    )


def _format_number(value: int) -> str:
    return f"{NUMBER_PREFIX}{value:0{NUMBER_DIGITS}d}"


def _next_number() -> str:
    """INC-000123: a PostgreSQL sequence (never repeats, no table lock)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(%s)", [NUMBER_SEQUENCE])
        value = cursor.fetchone()[0]
    return _format_number(value)


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
