"""/healthz: database, Redis, broker, beat tick and deadline sweep; 200 healthy, 503 when
one is down, when beat is silent past its allowance, or when the sweeps fail (#14)."""

import subprocess

import pytest

pytestmark = pytest.mark.django_db


def test_healthz_is_200_with_every_dependency_reported(client, beat_ticking):
    response = client.get("/healthz")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert {"database", "redis", "broker", "beat", "sweeps"} <= set(body["checks"])
    for name in ("database", "redis", "broker", "beat", "sweeps"):
        assert body["checks"][name]["status"] == "ok", body
        assert body["checks"][name]["ms"] >= 0
    assert (
        "no-store" in response.headers["Cache-Control"]
        or "max-age=0" in response.headers["Cache-Control"]
    )


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_healthz_is_503_json_when_redis_and_the_broker_are_down(client, settings):
    from portal.celery import app

    dead = f"redis://127.0.0.1:{_closed_port()}/0"
    settings.REDIS_URL = dead
    old_broker = app.conf.broker_url
    app.conf.broker_url = dead
    try:
        response = client.get("/healthz")
    finally:
        app.conf.broker_url = old_broker
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["checks"]["redis"]["status"] == "error"
    assert body["checks"]["broker"]["status"] == "error"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["broker"]["ms"] < 5000  # a short timeout, not a hang


def _tick(seconds_ago: float):
    from django.utils import timezone

    from notifications.selectors import BEAT_JOB
    from tests import factories as f

    return f.SweepRunFactory(
        job=BEAT_JOB, started_at=timezone.now() - timezone.timedelta(seconds=seconds_ago)
    )


def test_the_beat_age_comes_from_the_last_tick(client):
    _tick(20)
    beat = client.get("/healthz").json()["checks"]["beat"]
    assert beat["status"] == "ok" and 19 <= beat["age_seconds"] < 60


def test_a_fresh_install_gets_one_allowance_for_its_first_tick_not_forever(client, settings):
    from django.db import connection

    from portal.health import installed_at

    allowance = settings.HEALTHZ_BEAT_MAX_AGE_SECONDS
    with connection.cursor() as cursor:  # the database was set up a moment ago
        cursor.execute("UPDATE django_migrations SET applied = now() - interval '10 seconds'")
    response = client.get("/healthz")
    beat = response.json()["checks"]["beat"]
    assert response.status_code == 200 and beat["status"] == "ok", beat
    assert beat["detail"] == "no beat tick yet" and beat["allowance_seconds"] == allowance

    with connection.cursor() as cursor:  # ... and beat never started
        cursor.execute(
            "UPDATE django_migrations SET applied = now() - %s * interval '1 second'",
            [allowance + 5],
        )
    assert installed_at() is not None
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 503 and body["status"] == "error"
    assert body["checks"]["beat"]["status"] == "error"
    assert body["checks"]["beat"]["waiting_seconds"] > allowance


def test_healthz_goes_503_when_beat_stops_and_200_when_it_returns(client, settings):
    _tick(settings.HEALTHZ_BEAT_MAX_AGE_SECONDS + 30)  # the last tick, long ago
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["beat"]["status"] == "error"

    _tick(1)  # beat is back
    response = client.get("/healthz")
    assert response.status_code == 200, response.json()
    assert response.json()["checks"]["beat"]["status"] == "ok"


def test_a_web_only_deployment_may_leave_beat_out_of_healthz(client, settings):
    settings.HEALTHZ_REQUIRE_BEAT = False
    _tick(settings.HEALTHZ_BEAT_MAX_AGE_SECONDS + 30)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"]["beat"]["status"] == "error"  # still reported


def test_sweeps_failing_rows_run_after_run_fail_healthz_and_the_ops_headline(
    client, beat_ticking, staff
):
    from django.utils import timezone

    from notifications.selectors import DEADLINE_SWEEP_JOB
    from tests import factories as f

    now = timezone.now()
    f.SweepRunFactory(job=DEADLINE_SWEEP_JOB, started_at=now, finished_at=now, failed=0)
    assert client.get("/healthz").status_code == 200
    for seconds in (60, 30):  # two runs in a row that could not write their rows
        at = now + timezone.timedelta(seconds=seconds)
        f.SweepRunFactory(job=DEADLINE_SWEEP_JOB, started_at=at, finished_at=at, failed=3)
    response = client.get("/healthz")
    sweeps = response.json()["checks"]["sweeps"]
    assert response.status_code == 503 and sweeps["status"] == "error"
    assert "failed" in sweeps["detail"]

    client.force_login(staff)
    page = client.get("/ops/").content.decode()
    assert "Degraded" in page and "Healthy" not in page


def test_one_failing_sweep_is_not_yet_an_error(client, beat_ticking):
    from django.utils import timezone

    from notifications.selectors import DEADLINE_SWEEP_JOB
    from tests import factories as f

    now = timezone.now()
    f.SweepRunFactory(job=DEADLINE_SWEEP_JOB, started_at=now, finished_at=now, failed=1)
    assert client.get("/healthz").json()["checks"]["sweeps"]["status"] == "ok"


def test_healthz_refuses_other_methods(client):
    assert client.post("/healthz").status_code == 405


def test_redis_server_is_installed_for_the_fault_tests():
    # tests/ops/test_redis_fault.py starts its own redis-server; CI must have one.
    assert subprocess.run(["redis-server", "--version"], capture_output=True).returncode == 0


def test_a_sweep_that_is_behind_is_an_error_except_before_a_new_install_first_sweep(
    client, beat_ticking, work_order_a, contact_a
):
    from django.db import connection
    from django.utils import timezone

    from incidents.models import Incident
    from tests import factories as f

    incident = f.IncidentFactory(work_order=work_order_a, contact=contact_a)
    Incident.objects.filter(pk=incident.pk).update(
        next_deadline_at=timezone.now() - timezone.timedelta(hours=3)
    )
    with connection.cursor() as cursor:  # a new install: no sweep has run yet
        cursor.execute("UPDATE django_migrations SET applied = now()")
    sweeps = client.get("/healthz").json()["checks"]["sweeps"]
    assert sweeps["status"] == "ok" and sweeps["detail"] == "waiting for the first sweep"

    with connection.cursor() as cursor:  # an install of yesterday: the sweep is not running
        cursor.execute("UPDATE django_migrations SET applied = now() - interval '1 day'")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["sweeps"]["detail"].startswith("behind by")
