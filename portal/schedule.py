"""The beat schedule, in one place. Each entry expires before its next run, so a
backlog of sweeps never piles up behind a stopped worker: a message that waited
longer than its interval is dropped, and the next tick does the work (every job is
idempotent and catches up by itself, the database being the source of truth)."""

from celery.schedules import crontab
from django.conf import settings

#: Outbox delivery and webhook retries: often, so "at once" means seconds.
DELIVERY_INTERVAL_SECONDS = 10
WEBHOOK_INTERVAL_SECONDS = 15
BEAT_TICK_SECONDS = 15
#: The dashboards' monthly attainment (issue #20): minutes old at most.
ATTAINMENT_INTERVAL_SECONDS = 300


def _expires(interval: float) -> float:
    """Expire a little before the next run (never below one second)."""
    return max(interval * 0.9, 1.0)


def beat_schedule() -> dict:
    sweep = settings.SWEEP_INTERVAL_SECONDS
    return {
        "deadline-sweep": {
            "task": "incidents.tasks.sweep_deadlines",
            "schedule": float(sweep),
            "options": {"expires": _expires(sweep)},
        },
        "outbox-delivery": {
            "task": "notifications.tasks.deliver_outbox",
            "schedule": float(DELIVERY_INTERVAL_SECONDS),
            "options": {"expires": _expires(DELIVERY_INTERVAL_SECONDS)},
        },
        "webhook-retries": {
            "task": "notifications.tasks.deliver_webhooks",
            "schedule": float(WEBHOOK_INTERVAL_SECONDS),
            "options": {"expires": _expires(WEBHOOK_INTERVAL_SECONDS)},
        },
        "beat-tick": {
            "task": "notifications.tasks.beat_tick",
            "schedule": float(BEAT_TICK_SECONDS),
            "options": {"expires": _expires(BEAT_TICK_SECONDS)},
        },
        "attainment-refresh": {
            "task": "incidents.tasks.refresh_attainment",
            "schedule": float(ATTAINMENT_INTERVAL_SECONDS),
            "options": {"expires": _expires(ATTAINMENT_INTERVAL_SECONDS)},
        },
        # Daily jobs: early morning UTC, expiring after 23 hours.
        "entitlement-sweep": {
            "task": "credits.tasks.entitlement_sweep",
            "schedule": crontab(hour=4, minute=5),
            "options": {"expires": 23 * 3600},
        },
        "anniversary-sweep": {
            "task": "credits.tasks.anniversary_sweep",
            "schedule": crontab(hour=4, minute=35),
            "options": {"expires": 23 * 3600},
        },
        # Issue #21: last month's service reviews, in the first hours of the month (02:40
        # UTC: after midnight in settings.TIME_ZONE, whatever the season): one task per work
        # order. Days 2 and 3 again: they enqueue only what is not sent yet (nothing, when
        # day 1 went well), so a worker that was down on the 1st catches up.
        "monthly-reviews": {
            "task": "reviews.tasks.prepare_monthly_reviews",
            "schedule": crontab(day_of_month="1-3", hour=2, minute=40),
            "options": {"expires": 23 * 3600},
        },
        "cleanup": {
            "task": "notifications.tasks.cleanup",
            "schedule": crontab(hour=3, minute=17),
            "options": {"expires": 23 * 3600},
        },
    }
