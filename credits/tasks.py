"""Celery tasks of credits: the daily entitlement sweep, the low-credit check
(credits/entitlements.py) and the anniversary sweep (R14)."""

from core.task_policy import db_task
from credits import entitlements, services


@db_task(
    name="credits.tasks.entitlement_sweep",
    soft_time_limit=1500,
    time_limit=1800,
    retry_backoff=30,
)
def entitlement_sweep() -> dict:
    """R15 reminders, expiry notices, expiry at the end (R13, R14), low credit; idempotent."""
    result = entitlements.run_entitlement_sweep()
    return {"handled": result.handled, "failed": len(result.failed)}


@db_task(name="credits.tasks.check_low_credit", soft_time_limit=30, time_limit=40, retry_backoff=2)
def check_low_credit(work_order_id: int) -> bool:
    """Warn (credits.low) if this work order's balance fell under its threshold; once per
    crossing. Enqueue with transaction.on_commit after a redemption; the daily
    entitlement sweep catches anything missed."""
    return entitlements.check_low_credit(work_order_id=work_order_id)


@db_task(
    name="credits.tasks.anniversary_sweep", soft_time_limit=600, time_limit=900, retry_backoff=30
)
def anniversary_sweep() -> int:
    """Multi-year terms: lapse the year's unused credits and hours at each anniversary (R14)."""
    return services.anniversaries_due()
