"""The deadlines an incident still has pending, and the earliest of them on the row.

Every deadline is an absolute UTC timestamp on the incident; this module only reads
them. The deadline sweep (incidents.tasks) walks incidents by `next_deadline_at`
(index incident_next_deadline_idx), records a DeadlineEvent per threshold reached,
and calls `refresh_next_deadline` again. Every service that changes a deadline calls
`refresh_next_deadline` in the same transaction, so the row never lies.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from incidents.choices import OPEN_STATUSES, DeadlineKind, IncidentStatus, Threshold
from incidents.models import Incident

Pending = tuple[str, str, dt.datetime]


def all_deadlines(incident: Incident) -> list[Pending]:
    """Every deadline the incident's current state calls for, recorded or not."""
    if incident.status not in OPEN_STATUSES:
        return []
    found: list[Pending] = []
    if incident.responded_at is None:
        found.append((DeadlineKind.RESPONSE, Threshold.WARNING, incident.response_warning_at))
        found.append((DeadlineKind.RESPONSE, Threshold.BREACH, incident.response_due_at))
    if incident.status == IncidentStatus.AWAITING_CUSTOMER and incident.customer_due_at:
        found.append((DeadlineKind.CUSTOMER_RESPONSE, Threshold.DUE, incident.customer_due_at))
    if incident.change_control_due_at and incident.change_control_granted_at is None:
        found.append((DeadlineKind.CHANGE_CONTROL, Threshold.DUE, incident.change_control_due_at))
    if incident.critical_situation_due_at and incident.critical_situation_assigned_at is None:
        found.append(
            (DeadlineKind.CRITICAL_SITUATION, Threshold.DUE, incident.critical_situation_due_at)
        )
    if incident.next_status_update_at:
        found.append((DeadlineKind.STATUS_UPDATE, Threshold.DUE, incident.next_status_update_at))
    return [d for d in found if d[2] is not None]


def recorded_thresholds(incident: Incident) -> set[tuple[str, str]]:
    """(deadline, threshold) pairs the sweep already recorded. Uses a prefetch if any."""
    return {(e.deadline, e.threshold) for e in incident.deadline_events.all()}


def pending_deadlines(
    incident: Incident, recorded: set[tuple[str, str]] | None = None
) -> list[Pending]:
    """(kind, threshold, due_at) still to act on, earliest first.

    Excludes thresholds already recorded as DeadlineEvent rows: a recorded threshold
    never fires twice. Re-arming a recurring deadline (a new status-update interval,
    a new wait on the customer, a recomputed response target still in the future)
    deletes its old DeadlineEvent in the service that re-arms it.

    `recorded`: the recorded pairs when the caller read them already (the deadline
    sweep reads a whole batch's at once); else they are read here.
    """
    if recorded is None:
        recorded = recorded_thresholds(incident)
    pending = [d for d in all_deadlines(incident) if (d[0], d[1]) not in recorded]
    return sorted(pending, key=lambda d: d[2])


def first_deadline(incident: Incident) -> dt.datetime | None:
    """`next_deadline_at` of an incident being opened, set before its INSERT: nothing
    is recorded for it yet, so every deadline it calls for is pending."""
    return min((d[2] for d in all_deadlines(incident)), default=None)


def next_deadline(
    incident: Incident, recorded: set[tuple[str, str]] | None = None
) -> dt.datetime | None:
    pending = pending_deadlines(incident, recorded)
    return pending[0][2] if pending else None


def refresh_next_deadline(incident: Incident) -> dt.datetime | None:
    """Set `next_deadline_at` to the earliest pending deadline (None when nothing is).

    Written with a queryset update: it is derived state, so it neither bumps the
    version nor adds an audit-history row.
    """
    value = next_deadline(incident)
    incident.next_deadline_at = value
    Incident.objects.filter(pk=incident.pk).update(next_deadline_at=value)
    return value


def breached_now(incident, now=None) -> bool:
    """API.md: `response_breached` is true once `response_due_at` passed with no response.

    The deadline sweep stores the flag on the row, up to SWEEP_INTERVAL_SECONDS after
    the deadline (longer while no worker runs); an open incident past its deadline
    without a response reads as breached at once. incidents.filtersets' `breached`
    filter, the API and webhook payloads use the same test."""
    if incident.response_breached:
        return True
    due = incident.response_due_at
    return (
        incident.responded_at is None
        and incident.status in OPEN_STATUSES
        and due is not None
        and due <= (now or timezone.now())
    )
