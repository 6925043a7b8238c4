"""incidents_recompute_deadlines: move open incidents' deadlines after a calendar
change (R5) or when staff apply an edited response target (R4).

Editing the ResponseTarget table alone moves nothing: each incident carries a copy
of its target. Only an explicit run with `target=` applies the row to the open,
unresponded incidents that use it. Part of incidents.services (re-exported there).
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from core.times import utc_iso
from incidents import notices, targets
from incidents.choices import (
    OPEN_STATUSES,
    RECOMPUTE_BATCH_SIZE,
    DeadlineKind,
    EventKind,
    Threshold,
)
from incidents.deadlines import all_deadlines
from incidents.models import DeadlineEvent, DeadlineRecomputation, Incident, IncidentEvent
from incidents.services.events import payload
from notifications.localize import localized_outbox_rows, staff_reader
from notifications.services import outbox_write

FIELDS = [
    "target",
    "target_minutes",
    "target_clock",
    "target_rule",
    "response_due_at",
    "response_warning_at",
    "response_breached",
    "change_control_due_at",
    "next_deadline_at",
    "version",
    "updated_at",
]


def _snapshot(incident: Incident) -> dict:
    return {
        "target_rule": incident.target_rule,
        "response_due_at": utc_iso(incident.response_due_at),
        "response_warning_at": utc_iso(incident.response_warning_at),
        "change_control_due_at": utc_iso(incident.change_control_due_at),
    }


def _apply_target(incident: Incident, target) -> None:
    """Copy an explicitly applied ResponseTarget row onto the incident (R4)."""
    clock = targets.effective_clock(
        row_clock=target.clock,
        severity=incident.severity,
        rapid=target.rapid_response,
        around_the_clock=incident.around_the_clock,
    )
    incident.target, incident.target_minutes, incident.target_clock = target, target.minutes, clock
    incident.target_rule = targets.rule_text(
        package=incident.work_order.package,
        severity=incident.severity,
        minutes=target.minutes,
        clock=clock,
        rapid=target.rapid_response,
        around_the_clock=incident.around_the_clock,
    )


def incidents_recompute_deadlines(*, location=None, target=None, by=None) -> int:
    """Recompute open incidents' deadlines on the current calendar; returns how many moved.

    Scope: incidents of `location` (its calendar changed) and/or those using `target`
    (staff chose to apply the edited row). Unresponded incidents get a new response
    due time and warning, computed from opened_at; change-control deadlines not yet
    met move too. Batches of RECOMPUTE_BATCH_SIZE, each its own transaction with the
    rows locked, so a long run never holds every lock at once and the sweep waits at
    most one batch. Each moved incident gets a timeline event; the run is recorded.
    """
    user = by if isinstance(by, User) else None
    run = DeadlineRecomputation.objects.create(location=location, target=target, by=user)
    queryset = Incident.objects.filter(status__in=OPEN_STATUSES).filter(
        Q(responded_at__isnull=True)
        | Q(change_control_due_at__isnull=False, change_control_granted_at__isnull=True)
    )
    if location is not None:
        queryset = queryset.filter(work_order__support_location=location)
    if target is not None:
        queryset = queryset.filter(target=target)
    calendars: dict = {}
    last_pk, examined, changed = 0, 0, 0
    while True:
        now = timezone.now()
        with transaction.atomic():
            batch = list(
                queryset.filter(pk__gt=last_pk)
                .order_by("pk")
                .select_related(
                    "work_order__customer",
                    "work_order__support_location",
                    "work_order__account_manager",
                )
                .prefetch_related("work_order__support_location__closure_days", "deadline_events")
                .select_for_update(of=("self",))[:RECOMPUTE_BATCH_SIZE]
            )
            if not batch:
                break
            last_pk = batch[-1].pk
            examined += len(batch)
            moved, events, rearm = [], [], Q(pk__in=[])
            for incident in batch:
                work_order = incident.work_order
                key = work_order.support_location_id or ("standard", work_order.customer_id)
                if key not in calendars:
                    calendars[key] = targets.business_calendar(work_order, incident.opened_at)[0]
                calendar = calendars[key]
                before = _snapshot(incident)
                rearmed: set[str] = set()
                if incident.responded_at is None:
                    if target is not None:
                        _apply_target(incident, target)
                    due, warning = targets.response_deadlines(
                        opened_at=incident.opened_at,
                        minutes=incident.target_minutes,
                        clock=targets.clock_for(incident.target_clock, calendar),
                    )
                    incident.response_due_at, incident.response_warning_at = due, warning
                    rearmed = {
                        t
                        for t, at in ((Threshold.WARNING, warning), (Threshold.BREACH, due))
                        if at > now
                    }
                if incident.change_control_due_at and incident.change_control_granted_at is None:
                    start = incident.escalated_at or incident.opened_at
                    incident.change_control_due_at = targets.change_control_due(
                        start=start, calendar=calendar
                    )
                after = _snapshot(incident)
                if after == before:
                    continue
                if Threshold.BREACH in rearmed:
                    incident.response_breached = False
                if rearmed:
                    rearm |= Q(
                        incident=incident, deadline=DeadlineKind.RESPONSE, threshold__in=rearmed
                    )
                recorded = {
                    (e.deadline, e.threshold)
                    for e in incident.deadline_events.all()
                    if not (e.deadline == DeadlineKind.RESPONSE and e.threshold in rearmed)
                }
                pending = [d[2] for d in all_deadlines(incident) if (d[0], d[1]) not in recorded]
                incident.next_deadline_at = min(pending) if pending else None
                # A recomputed deadline is a change made by the system: version and
                # updated_at move, so sync clients and If-Match see it.
                incident.version += 1
                incident.updated_at = timezone.now()
                moved.append(incident)
                events.append(
                    IncidentEvent(
                        incident=incident,
                        kind=EventKind.DEADLINE,
                        author=user,
                        author_label=(user.get_username() if user else "system"),
                        body=_reason(location, target),
                        data={
                            "before": before,
                            "after": after,
                            "run": run.pk,
                            # For incidents.timeline.describe (rendered per viewer).
                            "location": location.name if location is not None else "",
                            "target": str(target) if target is not None else "",
                        },
                    )
                )
            if moved:
                DeadlineEvent.objects.filter(rearm).delete()
                Incident.objects.bulk_update(moved, FIELDS)
                IncidentEvent.objects.bulk_create(events)
                outbox_write(_notices(moved, run, location, target, now), now=now)
                changed += len(moved)
        if len(batch) < RECOMPUTE_BATCH_SIZE:
            break
    run.examined, run.changed, run.finished_at = examined, changed, timezone.now()
    run.save(update_fields=["examined", "changed", "finished_at"])
    return changed


def _notices(moved: list[Incident], run, location, target, now) -> list:
    """incident.updated per moved incident (webhook + the account manager), in the
    batch's transaction. Keyed by the run: a retried batch never sends it twice."""
    cause = "calendar" if location is not None else "target"
    rows: list = []
    for incident in moved:
        extra = {"deadlines_recomputed": run.pk, "recompute_cause": cause}
        rows += localized_outbox_rows(
            readers=[staff_reader(incident.work_order.account_manager)],
            render=lambda incident=incident, extra=extra: (
                f"{incident.number}: {incident.title}",
                notices.email_body(incident, "incident.updated", extra),
            ),
            event="incident.updated",
            key=f"incident:{incident.pk}:recomputed:{run.pk}",
            customer=incident.work_order.customer,
            payload=payload(incident, **extra),
            now=now,
        )
    return rows


def _reason(location, target) -> str:
    parts = []
    if location is not None:
        parts.append(f"the business hours or closed days of {location.name} changed (R5)")
    if target is not None:
        parts.append(f"staff applied the edited response target {target} (R4)")
    return "Deadlines recomputed: " + " and ".join(parts or ["recomputation requested"]) + "."
