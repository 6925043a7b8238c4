"""Thin Celery tasks of notifications: outbox delivery, webhook retries, the beat
heartbeat and daily cleanup. Each loads what it needs and calls a service; the beat
schedule is in portal/schedule.py."""

import datetime as dt
import logging

from django.conf import settings
from django.utils import timezone

from core.models import IdempotencyRecord
from core.task_policy import db_task
from notifications import delivery, services, webhooks
from notifications.models import SweepRun
from notifications.selectors import BEAT_JOB

logger = logging.getLogger(__name__)

# A database blip is worth a quick retry (core.task_policy); the next beat tick comes
# soon, so the backoff stays short.
QUICK_RETRY = {"retry_backoff": 2, "retry_backoff_max": 30}


@db_task(
    name="notifications.tasks.deliver_outbox", soft_time_limit=50, time_limit=60, **QUICK_RETRY
)
def deliver_outbox() -> dict:
    """Send due outbox rows (e-mail; webhook rows fanned out to their subscriptions)."""
    return delivery.outbox_deliver_due()


@db_task(
    name="notifications.tasks.deliver_webhooks", soft_time_limit=50, time_limit=60, **QUICK_RETRY
)
def deliver_webhooks() -> object:
    """Retry due webhook deliveries (signed HTTP POSTs: notifications.webhooks)."""
    return webhooks.deliver_until_drained()


@db_task(name="notifications.tasks.beat_tick", soft_time_limit=10, time_limit=15, **QUICK_RETRY)
def beat_tick(sent_at: str | None = None) -> None:
    """Record beat's heartbeat, so /healthz can report the age of the last tick."""
    services.beat_tick_record()


#: Job runs are kept this long for staff to look at (runs with poison rows longer).
SWEEP_RUN_RETENTION_DAYS = 14
SWEEP_RUN_FAILED_RETENTION_DAYS = 90


@db_task(name="notifications.tasks.cleanup", soft_time_limit=240, time_limit=300, **QUICK_RETRY)
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
