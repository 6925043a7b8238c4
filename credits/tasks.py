"""Celery tasks of credits."""

from core.task_policy import db_task


@db_task(name="credits.tasks.check_low_credit", soft_time_limit=30, time_limit=40, retry_backoff=2)
def check_low_credit(work_order_id: int) -> bool:
    """Warn (credits.low) if this work order's balance fell under its threshold; once per
    crossing. Enqueue with transaction.on_commit after a redemption; the daily
    entitlement sweep catches anything missed."""
    from contracts.entitlements import check_low_credit as check

    return check(work_order_id=work_order_id)
