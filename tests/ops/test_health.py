"""/healthz: database, Redis, broker and beat tick; 200 healthy, 503 when one is down."""

import subprocess

import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db


def test_healthz_is_200_with_every_dependency_reported(client):
    response = client.get("/healthz")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert {"database", "redis", "broker", "beat"} <= set(body["checks"])
    for name in ("database", "redis", "broker"):
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


def test_the_beat_age_comes_from_the_last_tick(client):
    from django.utils import timezone

    from notifications.selectors import BEAT_JOB
    from tests import factories as f

    assert client.get("/healthz").json()["checks"]["beat"]["status"] == "unknown"  # no tick yet
    f.SweepRunFactory(job=BEAT_JOB, started_at=timezone.now() - timezone.timedelta(seconds=20))
    beat = client.get("/healthz").json()["checks"]["beat"]
    assert beat["status"] == "ok" and 19 <= beat["age_seconds"] < 60


def test_a_stale_beat_fails_healthz_only_when_required(client):
    from django.utils import timezone

    from portal import health

    old = timezone.now() - timezone.timedelta(hours=2)
    original = health.CHECKS["beat"]
    health.CHECKS["beat"] = lambda: {
        "status": "stale",
        "last_tick": old.isoformat(),
        "age_seconds": 7200,
    }
    try:
        assert client.get("/healthz").status_code == 200
        with override_settings(HEALTHZ_REQUIRE_BEAT=True):
            response = client.get("/healthz")
        assert (
            response.status_code == 503 and response.json()["checks"]["beat"]["status"] == "stale"
        )
    finally:
        health.CHECKS["beat"] = original


def test_healthz_refuses_other_methods(client):
    assert client.post("/healthz").status_code == 405


def test_redis_server_is_installed_for_the_fault_tests():
    # tests/ops/test_redis_fault.py starts its own redis-server; CI must have one.
    assert subprocess.run(["redis-server", "--version"], capture_output=True).returncode == 0
