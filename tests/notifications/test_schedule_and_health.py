"""The beat schedule in one place, the tasks' reliability settings, the beat
heartbeat, sweep health and daily cleanup."""

import datetime as dt

import pytest
from celery.schedules import crontab
from django.utils import timezone

from core.models import IdempotencyRecord
from incidents.selectors import sweep_health
from notifications.models import SweepRun
from notifications.selectors import last_beat_tick
from notifications.tasks import beat_tick, cleanup
from portal.celery import app
from portal.schedule import beat_schedule


def _interval_seconds(schedule) -> float:
    if isinstance(schedule, crontab):
        return 24 * 3600
    return float(schedule)


def test_every_beat_entry_expires_before_its_next_run(settings):
    settings.SWEEP_INTERVAL_SECONDS = 30
    schedule = beat_schedule()
    assert {
        "deadline-sweep",
        "outbox-delivery",
        "webhook-retries",
        "entitlement-sweep",
        "cleanup",
        "beat-tick",
    } <= set(schedule)
    for name, entry in schedule.items():
        assert 0 < entry["options"]["expires"] < _interval_seconds(entry["schedule"]), name
    assert schedule["deadline-sweep"]["schedule"] == 30.0
    assert schedule["webhook-retries"]["task"] == "notifications.tasks.deliver_webhooks"


def test_scheduled_tasks_exist_with_late_acks_and_time_limits():
    app.loader.import_default_modules()
    for entry in beat_schedule().values():
        task = app.tasks[entry["task"]]
        assert task.acks_late is True, entry["task"]
        assert (
            task.soft_time_limit and task.time_limit and task.soft_time_limit < task.time_limit
        ), entry["task"]
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1


def test_beat_tick_is_recorded_in_one_row(db):
    assert last_beat_tick() is None
    beat_tick()
    first = last_beat_tick()
    beat_tick()
    assert SweepRun.objects.filter(job="beat_tick").count() == 1
    assert last_beat_tick() >= first
    assert sweep_health()["beat_age_seconds"] < 5


def test_sweep_health_without_anything_due_is_not_overdue(db):
    health = sweep_health()
    assert (
        health["overdue"] is False
        and health["backlog_age_seconds"] == 0
        and health["oldest_deadline_at"] is None
    )


@pytest.mark.django_db
def test_cleanup_drops_expired_idempotency_records_and_old_runs(settings):
    settings.IDEMPOTENCY_KEY_TTL_HOURS = 48
    now = timezone.now()
    old = IdempotencyRecord.objects.create(
        principal="k1",
        key="a",
        method="POST",
        path="/x",
        fingerprint="f",
        created_at=now - dt.timedelta(hours=49),
    )
    fresh = IdempotencyRecord.objects.create(
        principal="k1",
        key="b",
        method="POST",
        path="/x",
        fingerprint="f",
        created_at=now - dt.timedelta(hours=47),
    )
    SweepRun.objects.create(job="deadline_sweep", started_at=now - dt.timedelta(days=30))
    kept = SweepRun.objects.create(job="deadline_sweep", started_at=now - dt.timedelta(days=1))
    cleanup()
    assert not IdempotencyRecord.objects.filter(pk=old.pk).exists()
    assert IdempotencyRecord.objects.filter(pk=fresh.pk).exists()
    assert list(SweepRun.objects.values_list("pk", flat=True)) == [kept.pk]
