"""Thin Celery tasks of notifications: outbox delivery, webhook retries, the beat
heartbeat and daily cleanup. Each loads what it needs and calls a service; the beat
schedule is in portal/schedule.py."""

import datetime as dt
import logging

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from core.models import IdempotencyRecord
from notifications import delivery, services, webhooks
from notifications.models import SweepRun
from notifications.selectors import BEAT_JOB

logger = logging.getLogger(__name__)

# A database blip is worth a quick retry; anything else is logged by Celery and the
# next beat tick tries again (the work is idempotent).
RETRY = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": 2,
    "retry_backoff_max": 30,
    "retry_jitter": True,
    "max_retries": 3,
}


@shared_task(
    name="notifications.tasks.deliver_outbox",
    acks_late=True,
    soft_time_limit=50,
    time_limit=60,
    **RETRY,
)
def deliver_outbox() -> dict:
    """Send due outbox rows (e-mail; webhook rows fanned out to their subscriptions)."""
    return delivery.outbox_deliver_due()


@shared_task(
    name="notifications.tasks.deliver_webhooks",
    acks_late=True,
    soft_time_limit=50,
    time_limit=60,
    **RETRY,
)
def deliver_webhooks() -> object:
    """Retry due webhook deliveries (signed HTTP POSTs: notifications.webhooks)."""
    return webhooks.deliver_until_drained()


@shared_task(
    name="notifications.tasks.beat_tick", acks_late=True, soft_time_limit=10, time_limit=15, **RETRY
)
def beat_tick(sent_at: str | None = None) -> None:
    """Record beat's heartbeat, so /healthz can report the age of the last tick."""
    services.beat_tick_record()


#: Job runs are kept this long for staff to look at (runs with poison rows longer).
SWEEP_RUN_RETENTION_DAYS = 14
SWEEP_RUN_FAILED_RETENTION_DAYS = 90


@shared_task(
    name="notifications.tasks.cleanup", acks_late=True, soft_time_limit=240, time_limit=300, **RETRY
)
def cleanup() -> dict:
    """Daily: drop idempotency records past IDEMPOTENCY_KEY_TTL_HOURS and old job runs."""
    now = timezone.now()
    idem, _ = IdempotencyRecord.objects.filter(
        created_at__lt=now - dt.timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    ).delete()
    runs, _ = (
        SweepRun.objects.exclude(job=BEAT_JOB)
        .filter(started_at__lt=now - dt.timedelta(days=SWEEP_RUN_RETENTION_DAYS), failed=0)
        .delete()
    )
    failed_runs, _ = (
        SweepRun.objects.filter(
            started_at__lt=now - dt.timedelta(days=SWEEP_RUN_FAILED_RETENTION_DAYS)
        )
        .exclude(job=BEAT_JOB)
        .delete()
    )
    return {"idempotency_records": idem, "sweep_runs": runs + failed_runs}
