"""Opening an incident (R2, R4-R9) and changing its severity (R3)."""

from __future__ import annotations

import datetime as dt
from typing import NoReturn

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from contracts.choices import WorkOrderStatus
from contracts.models import NamedContact, WorkOrder
from contracts.times import work_order_today
from core.actors import actor_label, author, person
from core.batch import InsertBatch
from core.errors import Conflict, RuleViolation
from core.history import actor_reason, history_row
from core.scoping import actor_is_staff
from incidents import targets
from incidents.choices import (
    DEFAULT_LANGUAGE,
    OPEN_STATUSES,
    Channel,
    EventKind,
    Severity,
)
from incidents.deadlines import first_deadline, refresh_next_deadline
from incidents.models import EXTERNAL_REFERENCE_UNIQUE, Incident, IncidentEvent
from incidents.services.access import require_party, require_staff
from incidents.services.deadline_rules import (
    announce_escalation,
    apply_escalation,
    business_calendar_of,
    deadline_snapshot,
    retarget,
)
from incidents.services.events import event_row, manager_email, notify_incident, record_event
from incidents.services.rows import (
    lock_incident,
    opening_reads,
    refuse_taken_external_reference,
    save_incident,
    sync_instance,
    violates,
)

# --- opening --------------------------------------------------------------------


def incident_open(
    *,
    work_order: WorkOrder | int,
    contact: NamedContact | str,
    title: str,
    severity: str,
    description: str = "",
    product: str = "",
    is_cloud: bool = False,
    around_the_clock: bool = False,
    is_advisory: bool = False,
    external_reference: str = "",
    language: str = DEFAULT_LANGUAGE,
    opened_at: dt.datetime | None = None,
    channel: str = Channel.WEB,
    by=None,
) -> Incident:
    """R2: a named contact files an incident (staff enter phone and imported ones).

    `language` is the one support is conducted in (R22): English unless asked
    otherwise; Rapid Response serves English incidents only (R9).

    `work_order` is a work order or its id, `contact` a named contact or its e-mail (as
    the API names them). Either way both are read again inside the transaction through
    the one door, so an id of another customer's reads like an unknown one.
    """
    staff = actor_is_staff(by)
    now = timezone.now()
    title = (title or "").strip()
    if not title:
        raise RuleViolation(_("An incident needs a title."), field="title")
    _check_known_severity(severity)
    _check_known_language(language)
    if channel not in Channel.values:
        raise RuleViolation(
            _("Unknown channel %(channel)r.") % {"channel": channel}, field="channel"
        )
    if isinstance(work_order, WorkOrder):
        require_party(by, work_order)
    if not staff:
        if opened_at is not None:
            raise RuleViolation(
                _("Only support staff may set when an incident was opened."),
                rule="R2",
                field="opened_at",
            )
        if channel in (Channel.PHONE, Channel.IMPORT):
            raise RuleViolation(
                _("Phone and imported incidents are entered by staff."),
                rule="R2",
                field="channel",
            )
    if opened_at is None:
        opened_at = now
    else:
        if timezone.is_naive(opened_at):
            raise RuleViolation(_("opened_at needs a time zone."), rule="R2", field="opened_at")
        if opened_at > now:
            raise RuleViolation(
                _("An incident cannot be opened in the future."), rule="R2", field="opened_at"
            )
        if channel in (Channel.WEB, Channel.API):
            channel = Channel.IMPORT
    external_reference = external_reference.strip()
    try:
        with transaction.atomic():
            return _open_in_transaction(
                by=by,
                work_order=work_order,
                contact=contact,
                title=title,
                description=description,
                severity=severity,
                product=product,
                is_cloud=is_cloud,
                around_the_clock=around_the_clock,
                is_advisory=is_advisory,
                external_reference=external_reference,
                language=language,
                channel=channel,
                opened_at=opened_at,
                now=now,
            )
    except ReferenceTaken as taken:
        # API.md Revision 2: the ticketing tool's reference is unique per customer. The
        # unique index refused a second one (a concurrent create waits for the first to
        # commit); the refusal names the incident that has it, read after the rollback
        # (issue #20: no lock and no read before the INSERT). The number drawn is a gap.
        refuse_taken_external_reference(
            customer_id=taken.customer_id, external_reference=external_reference
        )
        raise


class ReferenceTaken(Exception):
    """The unique index refused the incident's external reference (see incident_open)."""

    def __init__(self, customer_id: int):
        super().__init__(customer_id)
        self.customer_id = customer_id


def _open_in_transaction(
    *,
    by,
    work_order: WorkOrder | int,
    contact: NamedContact | str,
    title: str,
    description: str,
    severity: str,
    product: str,
    is_cloud: bool,
    around_the_clock: bool,
    is_advisory: bool,
    external_reference: str,
    language: str,
    channel: str,
    opened_at: dt.datetime,
    now: dt.datetime,
) -> Incident:
    """incident_open's reads and writes, inside its transaction."""
    reads = opening_reads(by, work_order, contact)
    if reads.contact is None:
        _refuse_unknown_contact(by, work_order)
    contact = reads.contact
    work_order = contact.work_order
    if not contact.active:
        raise RuleViolation(
            _("The contact is no longer an active named contact."), rule="R2", field="contact"
        )
    _check_term_covers(work_order, opened_at)
    # The target table and the location's calendar through this process's caches
    # (incidents.caches: current with every committed edit; issue #6).
    choice = targets.select_target(
        work_order=work_order,
        severity=severity,
        is_cloud=is_cloud,
        around_the_clock=around_the_clock,
        product=product,
        language=language,
        table_version=reads.targets_version,
    )
    calendar = targets.business_calendar(work_order, opened_at, cached=True)[0]
    due, warning = targets.response_deadlines(
        opened_at=opened_at,
        minutes=choice.minutes,
        clock=targets.clock_for(choice.clock, calendar),
    )
    incident = Incident(
        number=reads.number,
        work_order=work_order,
        customer_id=work_order.customer_id,
        contact=contact,
        title=title[:200],
        description=description,
        severity=severity,
        product=product.strip(),
        is_cloud=is_cloud,
        around_the_clock=around_the_clock,
        is_advisory=is_advisory,
        external_reference=external_reference,
        language=language,
        channel=channel,
        opened_at=opened_at,
        opened_by=person(by),
        target=choice.target,
        target_minutes=choice.minutes,
        target_clock=choice.clock,
        target_rule=choice.rule,
        response_due_at=due,
        response_warning_at=warning,
    )
    escalated = apply_escalation(incident, since=opened_at, now=now, calendar=calendar)
    # Known before the INSERT (nothing is recorded yet): no UPDATE after it.
    incident.next_deadline_at = first_deadline(incident)
    # The incident, its history row, its timeline entry and its notices in one
    # round trip (core.batch; issue #6), the incident's id drawn by the read.
    incident.pk = reads.incident_id
    batch = InsertBatch()
    batch.add(incident)
    batch.add(history_row(incident, user=author(by), reason=actor_reason(by, "opened")))
    batch.add(
        event_row(
            incident,
            EventKind.CREATED,
            by,
            body=choice.rule,
            data={"channel": channel, **deadline_snapshot(incident)},
        )
    )
    notify_incident(
        incident,
        "incident.created",
        f"incident:{incident.pk}:created",
        emails=[manager_email(incident), contact.email],
        batch=batch,
    )
    try:
        batch.flush()
    except IntegrityError as error:
        if external_reference and violates(error, EXTERNAL_REFERENCE_UNIQUE):
            raise ReferenceTaken(work_order.customer_id) from error
        raise
    if escalated:
        announce_escalation(incident)
    return incident


def _check_known_language(language: str) -> None:
    """R22: support is conducted in one of the portal's languages (settings.LANGUAGES)."""
    known = [code for code, _name in settings.LANGUAGES]
    if language not in known:
        raise RuleViolation(
            _("Unknown language %(language)r: support is conducted in %(choices)s (R22).")
            % {"choices": ", ".join(known), "language": language},
            rule="R22",
            field="language",
        )


def _refuse_unknown_contact(by, work_order: WorkOrder | int) -> NoReturn:
    """R2: no such named contact on this work order, as `by` sees it. A work order of
    another customer's reads exactly like an unknown one."""
    if (
        isinstance(work_order, int)
        and not (WorkOrder.objects.all() if by is None else WorkOrder.objects.visible_to(by))
        .filter(pk=work_order)
        .exists()
    ):
        raise RuleViolation(
            _("There is no work order %(id)s.") % {"id": work_order}, field="work_order"
        )
    raise RuleViolation(
        _("The contact is not a named contact of this work order."), rule="R2", field="contact"
    )


def _check_term_covers(work_order: WorkOrder, opened_at: dt.datetime) -> None:
    """R2: the term must cover the opening day, the work order's own (contracts.times)."""
    local_day = work_order_today(work_order, now=opened_at)
    if not work_order.covers(local_day):
        raise RuleViolation(
            _("Work order %(number)s does not cover %(day)s (status %(status)s).")
            % {
                "number": work_order.number,
                "day": f"{local_day:%Y-%m-%d}",
                "status": str(WorkOrderStatus(work_order.status_on(local_day)).label).lower(),
            },
            rule="R2",
            field="work_order",
        )


# --- severity -------------------------------------------------------------------


def _check_known_severity(severity: str) -> None:
    """R3: one of the severities of incidents.choices.Severity."""
    if severity not in Severity.values:
        raise RuleViolation(
            _("Severity must be one of %(choices)s.") % {"choices": ", ".join(Severity.values)},
            rule="R3",
            field="severity",
        )


def _check_severity_request(severity: str, reason: str, *, missing_reason: str) -> None:
    """R3: a known severity, and a reason for the change (support's or the customer's)."""
    _check_known_severity(severity)
    if not (reason or "").strip():
        raise RuleViolation(missing_reason, rule="R3", field="reason")


def _check_severity_can_change(locked: Incident, severity: str) -> None:
    """R3: only an open incident changes severity, and only to another one."""
    if locked.status not in OPEN_STATUSES:
        raise Conflict(
            _("%(number)s is %(status)s.")
            % {"number": locked.number, "status": locked.get_status_display().lower()},
            rule="R3",
            field="severity",
        )
    if locked.severity == severity:
        raise RuleViolation(
            _("%(number)s is already %(severity)s.")
            % {"number": locked.number, "severity": str(Severity(severity).label).lower()},
            rule="R3",
            field="severity",
        )


def incident_change_severity(*, incident: Incident, severity: str, reason: str, by) -> Incident:
    """R3: support changes the severity; recorded, target recomputed from opened_at."""
    require_staff(by, _("change an incident's severity"))
    _check_severity_request(severity, reason, missing_reason=_("Say why the severity changes."))
    now = timezone.now()
    with transaction.atomic():
        locked = lock_incident(incident)
        _check_severity_can_change(locked, severity)
        before, old = deadline_snapshot(locked), locked.severity
        locked.severity = severity
        calendar = business_calendar_of(locked, locked.opened_at)
        recomputed = retarget(locked, calendar=calendar, now=now)
        escalated = apply_escalation(locked, since=now, now=now, calendar=calendar)
        save_incident(locked, by, f"severity {old} -> {severity}")
        if escalated:
            announce_escalation(locked)
        event = record_event(
            locked,
            EventKind.SEVERITY,
            by,
            body=reason.strip(),
            data={
                "from": old,
                "to": severity,
                "reason": reason.strip(),
                "by": actor_label(by),
                "recomputed": recomputed,
                "before": before,
                "after": deadline_snapshot(locked),
            },
        )
        refresh_next_deadline(locked)
        from incidents.services.conversation import close_severity_requests

        close_severity_requests(locked, severity, reason.strip(), by)
        notify_incident(
            locked,
            "incident.severity_changed",
            f"incident:{locked.pk}:severity:{event.pk}",
            emails=[locked.contact.email, manager_email(locked)],
            previous_severity=old,
            reason=reason.strip(),
        )
    sync_instance(incident, locked)
    return locked


def incident_request_severity_change(
    *, incident: Incident, severity: str, reason: str, by
) -> IncidentEvent:
    """R3: the customer asks for another severity; support decides (nothing changes)."""
    require_party(by, incident.work_order)
    _check_severity_request(
        severity, reason, missing_reason=_("Say why the severity should change.")
    )
    from incidents.services.conversation import severity_request_record

    with transaction.atomic():
        # Bumped: the staff's open pages and the queue show the request (live marker).
        locked = lock_incident(incident)
        _check_severity_can_change(locked, severity)
        request = severity_request_record(locked, severity, reason.strip(), by)
        save_incident(locked, by, "severity change requested")
        event = record_event(
            locked,
            EventKind.SEVERITY_REQUEST,
            by,
            body=reason.strip(),
            data={
                "from": locked.severity,
                "to": severity,
                "reason": reason.strip(),
                "request": request.pk,
            },
        )
        event.severity_request = request
        notify_incident(
            locked,
            "incident.updated",
            f"incident:{locked.pk}:severity_request:{event.pk}",
            emails=[manager_email(locked)],
            requested_severity=severity,
            reason=reason.strip(),
        )
    return event
