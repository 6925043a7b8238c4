"""Celery tasks of service reviews."""

from portal.task_policy import db_task


@db_task(
    name="reviews.tasks.prepare_monthly_reviews",
    soft_time_limit=1800,
    time_limit=1900,
    retry_backoff=30,
)
def prepare_monthly_reviews() -> dict:
    """Store last month's review of every work order and tell the account manager and the
    lead contact (beat: the first hours of each month, portal/schedule.py). Idempotent."""
    from reviews.services import reviews_prepare_month

    return reviews_prepare_month()
