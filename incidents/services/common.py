"""Shared helpers of the incident services: actors, locking, events, notices, deadlines."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.db.models import F
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext as _

from accounts.models import User
from contracts.models import NamedContact
from core.errors import NotAllowed, StaleVersion
from core.scoping import actor_is_staff
from core.times import utc_iso
from incidents import caches, targets
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
from incidents.deadlines import breached_now
from incidents.models import DeadlineEvent, Incident, IncidentEvent
from notifications.choices import Urgency
from notifications.localize import (
    contact_reader,
    localized_notify,
    readers_for,
    staff_reader,
    when,
)
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
        "language": incident.language,
        "opened_at": _iso(incident.opened_at),
        "response_due_at": _iso(incident.response_due_at),
        "responded_at": _iso(incident.responded_at),
        "response_breached": breached_now(incident),
        "target_rule": incident.target_rule,
        "version": incident.version,
    }


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
    """An incident e-mail's text, in the active language and zone (localized_notify)."""
    facts = {
        "number": incident.number,
        "title": incident.title,
        "severity": str(incident.get_severity_display()).lower(),
        "status": str(incident.get_status_display()).lower(),
        "due": when(incident.response_due_at),
    }
    if event == "incident.created":
        text = (
            _(
                "Incident %(number)s (%(title)s) was opened with severity %(severity)s; "
                "the first response is due %(due)s."
            )
            % facts
        )
    elif event == "incident.severity_changed":
        text = _(
            "The severity of incident %(number)s (%(title)s) changed from %(old)s to "
            "%(severity)s. Reason: %(reason)s"
        ) % {
            **facts,
            "old": str(Severity(extra["previous_severity"]).label).lower(),
            "reason": extra.get("reason", ""),
        }
    elif "requested_severity" in extra:
        text = _(
            "The customer asks to change the severity of incident %(number)s (%(title)s) "
            "to %(requested)s. Reason: %(reason)s"
        ) % {
            **facts,
            "requested": str(Severity(extra["requested_severity"]).label).lower(),
            "reason": extra.get("reason", ""),
        }
    elif "deadlines_recomputed" in extra:
        if extra.get("recompute_cause") == "calendar":
            text = _(
                "The business hours or closed days of incident %(number)s (%(title)s) "
                "changed; its deadlines were recomputed."
            )
        else:
            text = _(
                "An edited response target was applied to incident %(number)s (%(title)s); "
                "its deadlines were recomputed."
            )
        text %= facts
        if incident.responded_at is None:
            text += " " + _("The first response is now due %(due)s.") % facts
    elif "declined_severity" in extra:
        text = _(
            "Support declined the request to change the severity of incident %(number)s "
            "(%(title)s) to %(requested)s. Reason: %(reason)s"
        ) % {
            **facts,
            "requested": str(Severity(extra["declined_severity"]).label).lower(),
            "reason": extra.get("reason", ""),
        }
    elif "assigned_to" in extra:
        text = _("Incident %(number)s (%(title)s) was assigned to you.") % facts
    elif "satisfaction_score" in extra:
        text = _(
            "The customer rated the support on incident %(number)s (%(title)s) %(score)s out of 5."
        ) % {**facts, "score": extra["satisfaction_score"]}
        if extra.get("satisfaction_comment"):
            text += "\n\n" + extra["satisfaction_comment"]
    elif "comment" in extra:
        text = _("New comment on incident %(number)s (%(title)s):") % facts
        text += "\n\n" + extra["comment"]
    elif "product_team" in extra:
        text = _(
            "Critical incident %(number)s (%(title)s) was escalated to the product team "
            "%(team)s (R7)."
        ) % {**facts, "team": extra["product_team"]}
        if extra.get("note"):
            text += "\n\n" + extra["note"]
    elif "rsm_reason" in extra:
        text = _(
            "The customer requests Reactive Support Management on incident %(number)s "
            "(%(title)s): pooled, in business hours (R8). Reason: %(reason)s"
        ) % {**facts, "reason": extra["rsm_reason"]}
    elif "advisory_minutes" in extra:
        text = _(
            "Advisory request %(number)s (%(title)s) has %(hours)s hours of effort, past the "
            "6-hour cap of Advisory Support (R23). Consider converting it to a proactive or "
            "consulting engagement."
        ) % {**facts, "hours": round(extra["advisory_minutes"] / 60, 1)}
    else:
        text = _("Incident %(number)s (%(title)s) is now %(status)s.") % facts
    link = payload_url(incident)
    return text + "\n\n" + _("Open it in the portal: %(url)s") % {"url": link}


def payload_url(incident: Incident) -> str:
    return f"{settings.PORTAL_BASE_URL}/incidents/{incident.pk}/"


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
        payload={**payload(incident), **extra},
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
