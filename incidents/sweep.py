"""The deadline sweep: warnings, breaches, customer-side misses and escalations (R4-R8).

Runs every SWEEP_INTERVAL_SECONDS (portal/schedule.py). The database is the source of
truth: no per-incident ETA tasks. Each run

1. selects incidents whose `next_deadline_at` has come, with no lower bound (what was
   missed while the worker was down is caught up), through the partial index
   incident_next_deadline_idx, in batches, claiming them with
   SELECT ... FOR UPDATE OF incident SKIP LOCKED: an overlapping run or a second
   worker skips the rows this one holds, and finds them moved on once it commits;
2. for every threshold due (incidents.deadlines.pending_deadlines) inserts a
   DeadlineEvent with its true time (INSERT ... ON CONFLICT DO NOTHING RETURNING: the
   unique key (incident, deadline, threshold) is the last word on "once"), and acts
   only on the rows that insert returned;
3. writes the consequences in the same transaction: response_breached, the incident
   timeline, escalation (R7, R8), the R6 proposal, and the outbox rows;
4. refreshes `next_deadline_at`.

A batch is written with a handful of bulk statements. If one of them fails, the
batch rolls back to its savepoint and is redone one incident per savepoint, so a
poison row is logged, recorded in the run and skipped, and never stops the others.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Prefetch
from django.utils import timezone

from incidents import deadlines
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
from incidents.models import DeadlineEvent, Incident, IncidentEvent
from notifications.calendars import customer_calendar, staff_calendar
from notifications.choices import Event, Urgency
from notifications.models import OutboxMessage
from notifications.selectors import DEADLINE_SWEEP_JOB
from notifications.services import outbox_rows, outbox_write, sweep_run_finish, sweep_run_start

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
#: Stop taking new batches after this long; the next run carries on (below the
#: task's soft time limit, so a huge backlog never gets a run killed mid-batch).
RUN_BUDGET_SECONDS = 90
SYSTEM = "system"


@dataclass
class Plan:
    """What one incident's due thresholds call for, built before anything is written."""

    incident: Incident
    thresholds: list[tuple[str, str, dt.datetime]]
    events: list[IncidentEvent] = field(default_factory=list)
    outbox: list[OutboxMessage] = field(default_factory=list)
    # (kind, threshold) -> IncidentEvents / outbox rows that exist only if that
    # threshold's DeadlineEvent is newly inserted.
    by_threshold: dict[tuple[str, str], tuple[list, list]] = field(default_factory=dict)


@dataclass
class SweepResult:
    """Counts of one sweep run, as recorded in notifications.SweepRun."""

    incidents: int = 0
    events: int = 0
    notifications: int = 0
    failed: int = 0
    poison: list[dict] = field(default_factory=list)
    batches: int = 0
    seconds: float = 0.0

    def as_detail(self) -> dict:
        return {
            "incidents": self.incidents,
            "deadline_events": self.events,
            "notifications": self.notifications,
            "batches": self.batches,
            "seconds": round(self.seconds, 3),
            "poison": self.poison[:50],
        }


class _Context:
    """Per-run caches: calendars are read once per location or time zone."""

    def __init__(self, now: dt.datetime):
        self.now = now
        self._customer: dict = {}
        self._staff: dict = {}
        # Escalation announcements already in the outbox (keys), read once per batch.
        self.announced: set[str] = set()

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


# --- the run -----------------------------------------------------------------------


def run_deadline_sweep(
    *,
    now: dt.datetime | None = None,
    batch_size: int | None = None,
    budget_seconds: float = RUN_BUDGET_SECONDS,
) -> SweepResult:
    """One sweep over every incident whose next deadline has come. Recorded as a SweepRun."""
    started = time.monotonic()
    now = now or timezone.now()
    batch_size = batch_size or getattr(settings, "SWEEP_BATCH_SIZE", BATCH_SIZE)
    run = sweep_run_start(job=DEADLINE_SWEEP_JOB)
    result = SweepResult()
    ctx = _Context(now)
    skip: set[int] = set()  # poison rows of this run: not selected again until the next run
    while time.monotonic() - started < budget_seconds:
        with transaction.atomic():
            batch = _claim_batch(now=now, size=batch_size, skip=skip)
            if not batch:
                break
            result.batches += 1
            _sweep_batch(batch, ctx, result, skip)
        if len(batch) < batch_size:
            break
    result.seconds = time.monotonic() - started
    sweep_run_finish(
        run=run, handled=result.incidents, failed=result.failed, detail=result.as_detail()
    )
    _dead_man_check(now)
    return result


def due_incidents(*, now: dt.datetime):
    """Incidents whose next deadline has come: the selection the index serves."""
    return Incident.objects.filter(next_deadline_at__lte=now).order_by("next_deadline_at")


def _claim_batch(*, now: dt.datetime, size: int, skip: set[int]) -> list[Incident]:
    qs = due_incidents(now=now)
    if skip:
        qs = qs.exclude(id__in=skip)
    # OF self: lock only the incident rows, never the work order or contact joined
    # in for the notifications (other writers must not wait on the sweep).
    qs = (
        qs.select_for_update(skip_locked=True, of=("self",))
        .select_related("work_order__customer", "work_order__account_manager", "contact")
        .prefetch_related(
            Prefetch(
                "deadline_events",
                queryset=DeadlineEvent.objects.only("id", "incident_id", "deadline", "threshold"),
            )
        )
    )
    return list(qs[:size])


def _sweep_batch(batch: list[Incident], ctx: _Context, result: SweepResult, skip: set[int]) -> None:
    keys = [escalation_key(i) + ":webhook" for i in batch if _auto_escalates(i)]
    ctx.announced = (
        set(OutboxMessage.objects.filter(key__in=keys).values_list("key", flat=True))
        if keys
        else set()
    )
    plans = []
    for incident in batch:
        try:
            plans.append(plan_incident(incident, ctx))
        except Exception as exc:  # a poison row: record it, the others go on
            _poison(incident, exc, result, skip, stage="plan")
    try:
        with transaction.atomic():  # savepoint: all of the batch, or none of it
            counts = _apply(plans, ctx)
    except Exception:
        logger.warning(
            "deadline sweep: bulk write of a batch failed; retrying one incident at a time",
            exc_info=True,
        )
        counts = (0, 0)
        for plan in plans:
            try:
                with transaction.atomic():  # savepoint per incident
                    one = _apply([plan], ctx)
            except Exception as exc:
                _poison(plan.incident, exc, result, skip, stage="write")
                continue
            counts = (counts[0] + one[0], counts[1] + one[1])
            result.incidents += 1
    else:
        result.incidents += len(plans)
    result.events += counts[0]
    result.notifications += counts[1]


def _poison(
    incident: Incident, exc: Exception, result: SweepResult, skip: set[int], *, stage: str
) -> None:
    logger.error(
        "deadline sweep: incident %s skipped (%s): %r", incident.pk, stage, exc, exc_info=exc
    )
    result.failed += 1
    skip.add(incident.pk)
    result.poison.append(
        {
            "incident": incident.pk,
            "number": incident.number,
            "stage": stage,
            "error": repr(exc)[:300],
        }
    )


def _dead_man_check(now: dt.datetime) -> None:
    """Log an error when the oldest unhandled deadline is more than two intervals old."""
    from notifications.selectors import sweep_health

    health = sweep_health(now=now)
    if health["overdue"]:
        logger.error(
            "deadline sweep is behind: oldest unhandled deadline %s is %.0f s old (limit %s s)",
            health["oldest_deadline_at"],
            health["backlog_age_seconds"],
            2 * settings.SWEEP_INTERVAL_SECONDS,
        )


# --- planning: pure, no writes -----------------------------------------------------------


def plan_incident(incident: Incident, ctx: _Context) -> Plan:
    """Work out what the incident's due thresholds call for, without writing anything."""
    due = [d for d in deadlines.pending_deadlines(incident) if d[2] <= ctx.now]
    plan = Plan(incident=incident, thresholds=due)
    for kind, threshold, at in due:
        events: list[IncidentEvent] = []
        outbox: list[OutboxMessage] = []
        _consequences(incident, kind, threshold, at, ctx, events, outbox)
        plan.by_threshold[(kind, threshold)] = (events, outbox)
    # R8: a critical Advanced/Performance incident starts escalation at once. incidents
    # sets escalated_at when it turns critical; the sweep announces it (once per
    # escalation: the outbox key carries escalated_at) and starts it if nobody did.
    if _auto_escalates(incident):
        if incident.escalated_at is None:
            incident.escalated_at = _escalation_time(incident, ctx.now)
            if incident.next_status_update_at is None:
                incident.next_status_update_at = incident.escalated_at + dt.timedelta(
                    minutes=STATUS_UPDATE_INTERVAL_MINUTES
                )
        if escalation_key(incident) + ":webhook" not in ctx.announced:
            _escalate(incident, ctx, plan.events, plan.outbox)
    return plan


def _auto_escalates(incident: Incident) -> bool:
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


def _payload(incident: Incident, **extra) -> dict:
    data = {
        "incident": {
            "id": incident.pk,
            "number": incident.number,
            "title": incident.title,
            "severity": incident.severity,
            "status": incident.status,
            "work_order": incident.work_order.number,
            "response_due_at": _iso(incident.response_due_at),
            "responded_at": _iso(incident.responded_at),
            "url": f"{settings.PORTAL_BASE_URL}/incidents/{incident.pk}/",
        }
    }
    data.update({k: _iso(v) if isinstance(v, dt.datetime) else v for k, v in extra.items()})
    return data


def _iso(value):
    return value.isoformat() if value else None


def _calendars(incident: Incident, ctx: _Context) -> dict:
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


def _event(incident: Incident, kind: str, body: str, at: dt.datetime, **data) -> IncidentEvent:
    return IncidentEvent(
        incident=incident,
        kind=kind,
        author_label=SYSTEM,
        body=body,
        data={k: _iso(v) if isinstance(v, dt.datetime) else v for k, v in data.items()},
        created_at=at,
    )


def _consequences(incident, kind, threshold, at, ctx, events, outbox) -> None:
    """IncidentEvents and outbox rows for one threshold reached at its true time `at`."""
    managers, contacts = _people(incident)
    key = f"incident:{incident.pk}:{kind}:{threshold}"
    base = {"customer": incident.work_order.customer, "occurred_at": at, "now": ctx.now}
    number = incident.number
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
        outbox += outbox_rows(
            event=Event.INCIDENT_RESPONSE_WARNING,
            key=key,
            emails=managers + contacts,
            subject=f"[{number}] Response target 75% used: due {incident.response_due_at:%Y-%m-%d %H:%M} UTC",
            body=f"Incident {number} ({incident.title}) has had no first response; it is due at {incident.response_due_at.isoformat()}.",
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
        outbox += outbox_rows(
            event=Event.INCIDENT_RESPONSE_BREACHED,
            key=key,
            emails=managers + contacts,
            subject=f"[{number}] Response target breached",
            body=f"Incident {number} ({incident.title}) had no first response by {incident.response_due_at.isoformat()}.",
            payload=_payload(incident, deadline=kind, threshold=threshold, occurred_at=at),
            **base,
        )
        # A breach escalates to the account manager (R8).
        events.append(
            _event(
                incident,
                EventKind.ESCALATION,
                "Response breached: escalated to the account manager.",
                at,
                action="breach_escalation",
                to=managers,
            )
        )
        outbox += outbox_rows(
            event=Event.INCIDENT_ESCALATED,
            key=f"{key}:escalation",
            emails=managers,
            webhook=False,
            subject=f"[{number}] Escalation: response target breached",
            body=f"Incident {number} breached its response target at {at.isoformat()} and is escalated to you.",
            payload=_payload(incident, reason="response_breached", occurred_at=at),
            **base,
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
        outbox += outbox_rows(
            event=Event.INCIDENT_CUSTOMER_OVERDUE,
            key=key,
            emails=managers,
            webhook=False,
            urgency=Urgency.IMMEDIATE if around_the_clock else Urgency.BUSINESS_HOURS,
            calendars=_calendars(incident, ctx),
            subject=f"[{number}] Customer overdue: {DeadlineKind(kind).label}"
            + (" (R6: consider lowering severity or dropping 24x7)" if around_the_clock else ""),
            body=f"On incident {number} the customer did not {what} (due {at.isoformat()}).",
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
        events.append(
            _event(
                incident,
                EventKind.ESCALATION,
                "Critical situation resource requested (R7).",
                at,
                action="critical_situation_requested",
                rule="R7",
            )
        )
        outbox += outbox_rows(
            event=Event.INCIDENT_ESCALATED,
            key=key,
            emails=managers,
            webhook=False,
            subject=f"[{number}] Assign a critical situation resource (R7)",
            body=f"Critical incident {number} needs a critical situation resource since {at.isoformat()}.",
            payload=_payload(incident, reason="critical_situation", occurred_at=at),
            **base,
        )
    elif kind == DeadlineKind.STATUS_UPDATE:
        events.append(
            _event(
                incident,
                EventKind.ESCALATION,
                "A status update to the customer is due (R8).",
                at,
                action="status_update_due",
                rule="R8",
            )
        )
        outbox += outbox_rows(
            event=Event.INCIDENT_ESCALATED,
            key=f"{key}:{int(at.timestamp())}",
            emails=managers,
            webhook=False,
            subject=f"[{number}] Status update due (R8)",
            body=f"Post a status update and action plan on critical incident {number} (due {at.isoformat()}).",
            payload=_payload(incident, reason="status_update_due", occurred_at=at),
            **base,
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
        outbox += outbox_rows(
            event=Event.INCIDENT_UPDATED,
            key=key,
            emails=managers,
            webhook=False,
            subject=f"[{number}] Deadline {kind} {threshold}",
            payload=_payload(incident, deadline=kind, threshold=threshold),
            **base,
        )


def _escalate(incident: Incident, ctx: _Context, events: list, outbox: list) -> None:
    """R8: announce the escalation to the account manager and the customer; the
    status-update cadence (next_status_update_at) runs with it."""
    managers, contacts = _people(incident)
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
    outbox += outbox_rows(
        event=Event.INCIDENT_ESCALATED,
        key=escalation_key(incident),
        emails=managers + contacts,
        customer=incident.work_order.customer,
        occurred_at=at,
        now=ctx.now,
        subject=f"[{incident.number}] Critical incident escalated (R8)",
        body=f"Critical incident {incident.number} ({incident.title}) is escalated; {cadence}.",
        payload=_payload(
            incident,
            reason="critical",
            occurred_at=at,
            next_status_update_at=incident.next_status_update_at,
        ),
    )


def announce_escalation(*, incident: Incident) -> bool:
    """Announce a critical Advanced/Performance incident's escalation now (R8), in the
    caller's transaction, rather than at the next sweep: for incident_open and a
    severity change to critical. Idempotent (outbox key per escalation); False when
    there is nothing to announce."""
    now = timezone.now()
    locked = (
        Incident.objects.select_for_update(of=("self",))
        .select_related("work_order__customer", "work_order__account_manager", "contact")
        .get(pk=incident.pk)
    )
    if not _auto_escalates(locked) or locked.escalated_at is None:
        return False
    if OutboxMessage.objects.filter(key=escalation_key(locked) + ":webhook").exists():
        return False
    events: list[IncidentEvent] = []
    outbox: list[OutboxMessage] = []
    _escalate(locked, _Context(now), events, outbox)
    IncidentEvent.objects.bulk_create(events)
    outbox_write(outbox, now=now)
    return True


# --- writing: a few bulk statements per batch ------------------------------------------------


_INSERT_EVENTS = (
    "INSERT INTO incidents_deadlineevent (incident_id, deadline, threshold, occurred_at, recorded_at) VALUES {values} "
    "ON CONFLICT (incident_id, deadline, threshold) DO NOTHING RETURNING id, incident_id, deadline, threshold"
)


def _apply(plans: list[Plan], ctx: _Context) -> tuple[int, int]:
    """Write the plans: DeadlineEvents first, then only what the new ones call for."""
    rows = [
        (p.incident.pk, kind, threshold, at) for p in plans for kind, threshold, at in p.thresholds
    ]
    inserted: dict[tuple[int, str, str], int] = {}
    if rows:
        values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(rows))
        params = [v for row in rows for v in (*row, ctx.now)]
        with connection.cursor() as cursor:
            cursor.execute(_INSERT_EVENTS.format(values=values), params)
            inserted = {(i, d, t): pk for pk, i, d, t in cursor.fetchall()}
    events: list[IncidentEvent] = []
    outbox: list[OutboxMessage] = []
    changed: list[Incident] = []
    for plan in plans:
        incident = plan.incident
        new = [(k, t, at) for k, t, at in plan.thresholds if (incident.pk, k, t) in inserted]
        for kind, threshold, _at in new:
            more_events, more_outbox = plan.by_threshold[(kind, threshold)]
            events += more_events
            outbox += more_outbox
            if kind == DeadlineKind.RESPONSE and threshold == Threshold.BREACH:
                incident.response_breached = True
        events += plan.events
        outbox += plan.outbox
        # Keep the prefetched events in step, so next_deadline sees what we recorded.
        cache = incident._prefetched_objects_cache.get("deadline_events")
        recorded = list(cache) if cache is not None else list(incident.deadline_events.all())
        recorded += [
            DeadlineEvent(
                id=inserted[(incident.pk, k, t)],
                incident=incident,
                deadline=k,
                threshold=t,
                occurred_at=at,
            )
            for k, t, at in new
        ]
        incident._prefetched_objects_cache["deadline_events"] = _Cached(recorded)
        incident.next_deadline_at = deadlines.next_deadline(incident)
        changed.append(incident)
    _insert_timeline(events)
    outbox_write(outbox, now=ctx.now)
    # Derived state only (flags, escalation times, next deadline): no version bump, no
    # history row, the same as incidents.deadlines.refresh_next_deadline. One UPDATE
    # ... FROM (VALUES ...) per batch; Django's bulk_update builds a CASE per row and
    # field, which costs more CPU than the whole rest of the sweep.
    if changed and connection.vendor != "postgresql":  # the local SQLite demo
        Incident.objects.bulk_update(
            changed,
            ["next_deadline_at", "response_breached", "escalated_at", "next_status_update_at"],
        )
    elif changed:
        from psycopg2.extras import execute_values

        with connection.cursor() as cursor:
            execute_values(
                cursor.cursor,
                "UPDATE incidents_incident AS i SET next_deadline_at = v.nd, response_breached = v.rb, "
                "escalated_at = v.ea, next_status_update_at = v.nsu "
                "FROM (VALUES %s) AS v(id, nd, rb, ea, nsu) WHERE i.id = v.id",
                [
                    (
                        i.pk,
                        i.next_deadline_at,
                        i.response_breached,
                        i.escalated_at,
                        i.next_status_update_at,
                    )
                    for i in changed
                ],
                template="(%s, %s::timestamptz, %s::boolean, %s::timestamptz, %s::timestamptz)",
                page_size=1000,
            )
    return len(inserted), len(outbox)


def _insert_timeline(events: list[IncidentEvent]) -> None:
    """The incidents' timeline entries of a batch, in one multi-row INSERT."""
    if not events:
        return
    if connection.vendor != "postgresql":  # the local SQLite demo
        IncidentEvent.objects.bulk_create(events)
        return
    from psycopg2.extras import execute_values

    with connection.cursor() as cursor:
        execute_values(
            cursor.cursor,
            "INSERT INTO incidents_incidentevent (incident_id, kind, author_id, author_label, from_customer, body, data, created_at) VALUES %s",
            [
                (
                    e.incident_id,
                    e.kind,
                    None,
                    e.author_label,
                    False,
                    e.body,
                    json.dumps(e.data),
                    e.created_at,
                )
                for e in events
            ],
            page_size=1000,
        )


class _Cached(list):
    """A list standing in for a prefetched queryset (`.all()` returns itself)."""

    def all(self):
        return self
