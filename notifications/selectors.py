"""Reads for notifications: the outbox, job runs and the beat heartbeat (the deadline
sweep's health check is incidents.selectors.sweep_health)."""

import datetime as dt

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
