"""Celery tasks of incidents: thin wrappers around services (the sweep is in
incidents/sweep.py; the schedule in portal/schedule.py)."""

from core.task_policy import db_task


@db_task(
    name="incidents.tasks.sweep_deadlines",
    # Below the run budget's end plus one batch; the sweep stops taking batches at
    # RUN_BUDGET_SECONDS so the soft limit is a last resort.
    soft_time_limit=110,
    time_limit=120,
    # Two quick retries: the next beat tick (SWEEP_INTERVAL_SECONDS) comes soon after.
    retry_backoff=2,
    retry_backoff_max=20,
    max_retries=2,
)
def sweep_deadlines() -> dict:
    """Record due warnings/breaches/escalations once, with their true times (R4-R8)."""
    from incidents.sweep import run_deadline_sweep

    result = run_deadline_sweep()
    return {"incidents": result.incidents, "events": result.events, "failed": result.failed}


@db_task(
    name="incidents.tasks.refresh_attainment",
    soft_time_limit=240,
    time_limit=300,
    retry_backoff=5,
    max_retries=2,
)
def refresh_attainment() -> int:
    """Recompute the dashboards' monthly first-response attainment (issue #20)."""
    from incidents.services import attainment_refresh

    return attainment_refresh()
