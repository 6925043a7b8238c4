"""Storing reviews and the monthly job (beat, notices, idempotency)."""

import datetime as dt
import io
import json

import pytest
import time_machine
from django.core.management import CommandError, call_command

from core.errors import RuleViolation
from notifications.models import OutboxMessage
from portal.schedule import beat_schedule
from reviews import services
from reviews.models import ServiceReview
from reviews.periods import parse_period
from reviews.tasks import prepare_monthly_reviews, prepare_work_order_review
from tests.reviews.conftest import at


def test_the_beat_prepares_reviews_in_the_first_hours_of_the_month():
    entry = beat_schedule()["monthly-reviews"]
    assert entry["task"] == prepare_monthly_reviews.name
    schedule = entry["schedule"]
    assert schedule.day_of_month == {1, 2, 3} and schedule.hour == {2}
    assert entry["options"]["expires"] < 24 * 3600


@pytest.fixture
def eager():
    """Run enqueued tasks in this process (Celery's own setting; the database is real)."""
    from portal.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


def test_the_monthly_job_stores_last_month_and_tells_manager_and_lead(march, staff, user_a, eager):
    with time_machine.travel(at(2026, 4, 1, 1, 0), tick=False):  # 03:00 in Amsterdam
        result = prepare_monthly_reviews()
    # One task per work order that ran in March (WO-R-2 ended on the 15th).
    assert result == {"period": "2026-03", "enqueued": 2}
    review = ServiceReview.objects.get(work_order=march.wo, period_key="2026-03")
    assert review.figures["incidents"]["total"] == 4
    assert review.notified_at is not None
    recipients = set(
        OutboxMessage.objects.filter(event="review.ready", key__startswith=f"review:{review.pk}:")
        .exclude(recipient="")
        .values_list("recipient", flat=True)
    )
    assert {staff.email, user_a.email} <= recipients
    # The webhook row: the work order as its GET returns it, the review under `detail`.
    hook = OutboxMessage.objects.get(key=f"review:{review.pk}:ready:webhook")
    assert hook.payload["number"] == "WO-R-1"
    assert hook.payload["detail"]["period"] == "2026-03"
    assert hook.payload["detail"]["breaches"] == 1
    assert ServiceReview.objects.filter(period_key="2026-03").count() == 2
    # The next day's run (the catch-up) finds nothing left to do.
    with time_machine.travel(at(2026, 4, 2, 1, 0), tick=False):
        again = prepare_monthly_reviews()
    assert again == {"period": "2026-03", "enqueued": 0}


def test_each_notice_is_sent_once_even_when_the_task_runs_twice(march):
    # acks_late: a crashed worker's task runs again; the notice is claimed once.
    with time_machine.travel(at(2026, 4, 1, 1, 0), tick=False):
        first = prepare_work_order_review(march.wo.pk, "2026-03")
        sent = OutboxMessage.objects.filter(event="review.ready").count()
        second = prepare_work_order_review(march.wo.pk, "2026-03")
    assert first == {"stored": True, "notified": True}
    assert second == {"stored": False, "notified": False}
    assert OutboxMessage.objects.filter(event="review.ready").count() == sent > 0


def test_a_gone_work_order_is_skipped(db):
    assert prepare_work_order_review(999_999, "2026-03") == {"stored": False, "notified": False}


def test_the_catch_up_command_prepares_a_missed_month(march):
    out = io.StringIO()
    with time_machine.travel(at(2026, 6, 10, 9), tick=False):
        call_command("prepare_reviews", "--month", "2026-03", stdout=out)
        assert json.loads(out.getvalue()) == {
            "period": "2026-03",
            "stored": 2,
            "notified": 2,
            "failed": 0,
        }
        with pytest.raises(CommandError):
            call_command("prepare_reviews", "--month", "2026-06", stdout=io.StringIO())
        with pytest.raises(CommandError):
            call_command("prepare_reviews", "--month", "March", stdout=io.StringIO())


def test_an_unfinished_period_is_not_stored(march):
    today = dt.date(2026, 3, 20)
    period = parse_period(
        "2026-03", term_start=march.wo.start_date, term_end=march.wo.end_date, today=today
    )
    with pytest.raises(RuleViolation):
        services.review_store(
            customer=march.wo.customer, work_order=march.wo, period=period, today=today
        )
    assert not ServiceReview.objects.exists()


def test_storing_twice_keeps_the_first(march):
    today = dt.date(2026, 12, 6)
    period = parse_period(
        "2026-03", term_start=march.wo.start_date, term_end=march.wo.end_date, today=today
    )
    first = services.review_store(
        customer=march.wo.customer, work_order=march.wo, period=period, today=today
    )
    second = services.review_store(
        customer=march.wo.customer, work_order=march.wo, period=period, today=today
    )
    assert first.pk == second.pk
    customer_review = services.review_store(customer=march.wo.customer, period=period, today=today)
    assert customer_review.work_order is None and customer_review.pk != first.pk
