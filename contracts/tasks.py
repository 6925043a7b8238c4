"""Celery tasks of contracts: the daily entitlement sweep (contracts/entitlements.py)."""

from core.task_policy import db_task


@db_task(
    name="contracts.tasks.entitlement_sweep",
    soft_time_limit=1500,
    time_limit=1800,
    retry_backoff=30,
)
def entitlement_sweep() -> dict:
    """R15 reminders, expiry notices, expiry at the end (R13, R14), low credit; idempotent."""
    from contracts.entitlements import run_entitlement_sweep

    result = run_entitlement_sweep()
    return {"handled": result.handled, "failed": len(result.failed)}
