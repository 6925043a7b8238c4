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
from django.utils import timezone

from contracts.models import NamedContact, WorkOrder
from incidents import deadlines, notices
from incidents.choices import DeadlineKind, Threshold
from incidents.models import DeadlineEvent, Incident, IncidentEvent
from incidents.sweep_plan import (
    SYSTEM,
    Plan,
    SweepContext,
    TimelineEntry,
    auto_escalates,
    escalation_key,
    plan_escalation,
    plan_incident,
)
from notifications.models import OutboxMessage
from notifications.selectors import DEADLINE_SWEEP_JOB
from notifications.services import outbox_write, sweep_run_record

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
#: Stop taking new batches after this long; the next run carries on (below the
#: task's soft time limit, so a huge backlog never gets a run killed mid-batch).
RUN_BUDGET_SECONDS = 90


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
    started_at = timezone.now()
    result = SweepResult()
    ctx = SweepContext(now)
    skip: set[int] = set()  # poison rows of this run: not selected again until the next run
    while time.monotonic() - started < budget_seconds:
        with transaction.atomic():
            batch = _claim_batch(now=now, size=batch_size, skip=skip, ctx=ctx)
            if not batch:
                break
            result.batches += 1
            _sweep_batch(batch, ctx, result, skip)
        if len(batch) < batch_size:
            break
    result.seconds = time.monotonic() - started
    # One row per run, written at the end: a run that found nothing costs one INSERT.
    sweep_run_record(
        job=DEADLINE_SWEEP_JOB,
        started_at=started_at,
        handled=result.incidents,
        failed=result.failed,
        detail=result.as_detail(),
    )
    _dead_man_check(now)
    return result


def due_incidents(*, now: dt.datetime):
    """Incidents whose next deadline has come: the selection the index serves."""
    return Incident.objects.filter(next_deadline_at__lte=now).order_by("next_deadline_at")


def claim_queryset(*, now: dt.datetime, size: int = BATCH_SIZE, skip: set[int] = frozenset()):
    """The claim of one batch: due incidents, oldest deadline first, locked SKIP LOCKED."""
    qs = due_incidents(now=now)
    if skip:
        qs = qs.exclude(id__in=skip)
    return qs.select_for_update(skip_locked=True)[:size]


def _claim_batch(
    *, now: dt.datetime, size: int, skip: set[int], ctx: SweepContext
) -> list[Incident]:
    # Only the incident rows are selected and locked: never the work order or contact
    # (other writers must not wait on the sweep). Those are read below, once per
    # distinct row, and attached: a batch usually shares a few work orders, and
    # building them per incident through select_related costs more than the rest.
    batch = list(claim_queryset(now=now, size=size, skip=skip))
    if batch:
        # What is already recorded, as the (deadline, threshold) pairs incidents.deadlines
        # takes, for the whole batch in one read (no model instances).
        recorded: dict[int, set[tuple[str, str]]] = {i.pk: set() for i in batch}
        for incident_id, deadline, threshold in DeadlineEvent.objects.filter(
            incident_id__in=list(recorded)
        ).values_list("incident_id", "deadline", "threshold"):
            recorded[incident_id].add((deadline, threshold))
        ctx.recorded = recorded
        # support_location and the contact's user: each e-mail's language and zone.
        work_orders = WorkOrder.objects.select_related(
            "customer", "account_manager", "support_location"
        ).in_bulk({i.work_order_id for i in batch})
        contacts = NamedContact.objects.select_related("user").in_bulk(
            {i.contact_id for i in batch}
        )
        for incident in batch:
            incident.work_order = work_orders[incident.work_order_id]
            incident.contact = contacts[incident.contact_id]
    return batch


def _sweep_batch(
    batch: list[Incident], ctx: SweepContext, result: SweepResult, skip: set[int]
) -> None:
    keys = [escalation_key(i) + ":webhook" for i in batch if auto_escalates(i)]
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
    """Log an error when the oldest unhandled deadline is more than two intervals old
    (the same rule as incidents.selectors.sweep_health, which staff see)."""
    oldest = (
        Incident.objects.filter(next_deadline_at__isnull=False)
        .order_by("next_deadline_at")
        .values_list("next_deadline_at", flat=True)
        .first()
    )
    limit = 2 * settings.SWEEP_INTERVAL_SECONDS
    if oldest is not None and (now - oldest).total_seconds() > limit:
        logger.error(
            "deadline sweep is behind: oldest unhandled deadline %s is %.0f s old (limit %s s)",
            oldest,
            (now - oldest).total_seconds(),
            limit,
        )


def announce_escalation(*, incident: Incident) -> bool:
    """Announce a critical Advanced/Performance incident's escalation now (R8), in the
    caller's transaction, rather than at the next sweep: for incident_open and a
    severity change to critical. Idempotent (outbox key per escalation); False when
    there is nothing to announce."""
    now = timezone.now()
    locked = (
        Incident.objects.select_for_update(of=("self",))
        .select_related(
            "work_order__customer",
            "work_order__account_manager",
            "work_order__support_location",
            "contact__user",
        )
        .get(pk=incident.pk)
    )
    if not auto_escalates(locked) or locked.escalated_at is None:
        return False
    if OutboxMessage.objects.filter(key=escalation_key(locked) + ":webhook").exists():
        return False
    events: list[TimelineEntry] = []
    outbox: list = []
    plan_escalation(locked, SweepContext(now), events, outbox)
    IncidentEvent.objects.bulk_create([e.to_model() for e in events])
    outbox_write(outbox, now=now)
    return True


# --- writing: a few bulk statements per batch ------------------------------------------------


def _apply(plans: list[Plan], ctx: SweepContext) -> tuple[int, int]:
    """Write the plans: DeadlineEvents first, then only what the new ones call for.

    Each statement takes whole columns as arrays (INSERT ... SELECT FROM unnest):
    one round trip and one parameter per column, whatever the batch size.
    """
    rows = [
        (p.incident.pk, kind, threshold, at) for p in plans for kind, threshold, at in p.thresholds
    ]
    inserted: set[tuple[int, str, str]] = set()
    if rows:
        ids, kinds, thresholds, times = (list(c) for c in zip(*rows, strict=True))
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO incidents_deadlineevent (incident_id, deadline, threshold, occurred_at, recorded_at) "
                "SELECT i, d, t, o, %s FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::timestamptz[]) AS x(i, d, t, o) "
                "ON CONFLICT (incident_id, deadline, threshold) DO NOTHING RETURNING incident_id, deadline, threshold",
                [ctx.now, ids, kinds, thresholds, times],
            )
            inserted = {tuple(r) for r in cursor.fetchall()}
    events: list[TimelineEntry] = []
    outbox: list = []
    for plan in plans:
        incident = plan.incident
        new = [(k, t) for k, t, _at in plan.thresholds if (incident.pk, k, t) in inserted]
        mine: list = []
        for kind, threshold in new:
            more_events, more_outbox = plan.by_threshold[(kind, threshold)]
            events += more_events
            mine += more_outbox
            if kind == DeadlineKind.RESPONSE and threshold == Threshold.BREACH:
                incident.response_breached = True
        events += plan.events
        mine += plan.outbox
        if new or plan.events:
            # A warning, a breach or an escalation is a change to the incident, made by
            # the worker: its version and updated_at move (API.md Revision 2, sync), and
            # the notices carry the incident as it is now (incidents.notices).
            incident.version += 1
            incident.updated_at = timezone.now()
            for row in mine:
                if "data" in row.payload:
                    row.payload = notices.refresh_payload(row.payload, incident)
        outbox += mine
        # Keep the recorded thresholds in step, so next_deadline sees what we recorded.
        recorded = ctx.recorded.get(incident.pk)
        if recorded is None:
            recorded = deadlines.recorded_thresholds(incident)
        recorded = ctx.recorded[incident.pk] = recorded | set(new)
        incident.next_deadline_at = deadlines.next_deadline(incident, recorded)
    _insert_timeline(events)
    outbox_write(outbox, now=ctx.now)
    _update_incidents([p.incident for p in plans])
    return len(inserted), len(outbox)


def _update_incidents(changed: list[Incident]) -> None:
    """Write the derived state (next deadline, breach flag, escalation times).

    No version bump and no history row, the same as
    incidents.deadlines.refresh_next_deadline. One UPDATE ... FROM unnest(...) per
    batch: Django's bulk_update builds a CASE per row and field, which costs more CPU
    than the whole rest of the sweep.
    """
    if not changed:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE incidents_incident AS i SET next_deadline_at = v.nd, response_breached = v.rb, "
            "escalated_at = v.ea, next_status_update_at = v.nsu, version = v.ver, updated_at = v.ua "
            "FROM unnest(%s::bigint[], %s::timestamptz[], %s::boolean[], %s::timestamptz[], "
            "%s::timestamptz[], %s::bigint[], %s::timestamptz[]) AS v(id, nd, rb, ea, nsu, ver, ua) "
            "WHERE i.id = v.id",
            [
                [i.pk for i in changed],
                [i.next_deadline_at for i in changed],
                [i.response_breached for i in changed],
                [i.escalated_at for i in changed],
                [i.next_status_update_at for i in changed],
                [i.version for i in changed],
                [i.updated_at for i in changed],
            ],
        )


def _insert_timeline(events: list[TimelineEntry]) -> None:
    """The incidents' timeline entries of a batch, in one INSERT."""
    if not events:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO incidents_incidentevent (incident_id, kind, author_id, author_label, from_customer, body, data, created_at) "
            "SELECT i, k, NULL, %s, false, b, d::jsonb, c FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], "
            "%s::timestamptz[]) AS x(i, k, b, d, c)",
            [
                SYSTEM,
                [e.incident_id for e in events],
                [e.kind for e in events],
                [e.body for e in events],
                [json.dumps(e.data) for e in events],
                [e.created_at for e in events],
            ],
        )
