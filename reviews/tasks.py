"""Celery tasks of service reviews: thin, they take ids and call a service."""

from core.task_policy import db_task

#: A work order's review task waits at most this long in the queue (seconds): the monthly
#: job enqueues them all at once, and the next day's run (or the catch-up command) redoes
#: whatever expired, since it lists only the work orders not notified yet.
REVIEW_TASK_EXPIRES = 20 * 3600


@db_task(
    name="reviews.tasks.prepare_monthly_reviews",
    soft_time_limit=120,
    time_limit=150,
    retry_backoff=30,
)
def prepare_monthly_reviews() -> dict:
    """Beat (the first hours of each month, portal/schedule.py): one task per work order
    that ran last month and has not had that month's review sent."""
    from reviews.periods import previous_month
    from reviews.selectors import business_today, month_review_candidates

    period = previous_month(business_today())
    ids = month_review_candidates(period=period)
    for work_order_id in ids:
        prepare_work_order_review.apply_async(
            args=[work_order_id, period.key], expires=REVIEW_TASK_EXPIRES
        )
    return {"period": period.key, "enqueued": len(ids)}


@db_task(
    name="reviews.tasks.prepare_work_order_review",
    soft_time_limit=600,
    time_limit=660,
    retry_backoff=30,
)
def prepare_work_order_review(work_order_id: int, period_key: str) -> dict:
    """Store a work order's review of a finished month and tell its account manager and lead
    contacts (once; a gone work order is skipped)."""
    from reviews.services import review_prepare

    return review_prepare(work_order_id=work_order_id, period_key=period_key)
