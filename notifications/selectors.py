"""Reads for notifications: the outbox, job runs, and the health of the sweeps."""

import datetime as dt

from django.conf import settings
from django.db.models import Min
from django.utils import timezone

from notifications.models import OutboxMessage, SweepRun

#: SweepRun.job of the deadline sweep (incidents.sweep) and of the beat heartbeat.
DEADLINE_SWEEP_JOB = "deadline_sweep"
ENTITLEMENT_SWEEP_JOB = "entitlement_sweep"
BEAT_JOB = "beat_tick"


def outbox_for(actor):
    """Outbox rows the actor may see (staff: all; customers: their own)."""
    return OutboxMessage.objects.visible_to(actor).select_related("customer")


def last_run(job: str) -> SweepRun | None:
    """The latest run of a periodic job."""
    return SweepRun.objects.filter(job=job).order_by("-started_at").first()


def last_beat_tick() -> dt.datetime | None:
    """When beat last ticked (recorded by the notifications.beat_tick task)."""
    run = SweepRun.objects.filter(job=BEAT_JOB).only("started_at").first()
    return run.started_at if run else None


def recent_sweep_failures(*, runs: int) -> int:
    """`runs` when each of the last `runs` finished deadline sweeps failed rows, else 0.

    One failing run is not enough (a row can fail once and succeed on the next
    sweep); several in a row mean deadlines are being missed.
    """
    failed = list(
        SweepRun.objects.filter(job=DEADLINE_SWEEP_JOB, finished_at__isnull=False)
        .order_by("-started_at")
        .values_list("failed", flat=True)[:runs]
    )
    return runs if len(failed) == runs and all(failed) else 0


def sweep_health(*, now: dt.datetime | None = None) -> dict:
    """The dead-man check of the deadline sweep, for /healthz and the staff dashboard.

    - last_run_at: when the deadline sweep last finished (None: never)
    - backlog_age_seconds: how far in the past the oldest unhandled deadline is
      (min next_deadline_at, read through incident_next_deadline_idx); 0 when none
    - overdue: the backlog is older than two sweep intervals: the sweep is stuck or
      not running, and deadlines are being missed
    - last_beat_at / beat_age_seconds: the beat heartbeat
    """
    from incidents.models import Incident  # notifications sits beside incidents, read lazily

    now = now or timezone.now()
    interval = settings.SWEEP_INTERVAL_SECONDS
    oldest = Incident.objects.filter(next_deadline_at__isnull=False).aggregate(
        m=Min("next_deadline_at")
    )["m"]
    backlog = max((now - oldest).total_seconds(), 0.0) if oldest else 0.0
    run = (
        SweepRun.objects.filter(job=DEADLINE_SWEEP_JOB, finished_at__isnull=False)
        .order_by("-started_at")
        .only("started_at", "finished_at", "handled", "failed")
        .first()
    )
    beat = last_beat_tick()
    return {
        "last_run_at": run.finished_at if run else None,
        "last_run_handled": run.handled if run else 0,
        "last_run_failed": run.failed if run else 0,
        "oldest_deadline_at": oldest,
        "backlog_age_seconds": round(backlog, 1),
        "overdue": backlog > 2 * interval,
        "interval_seconds": interval,
        "last_beat_at": beat,
        "beat_age_seconds": round((now - beat).total_seconds(), 1) if beat else None,
    }
