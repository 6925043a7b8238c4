"""`/healthz`: is this instance able to serve? For load balancers and monitoring.

Reports the database, Redis (cache), the Celery broker and the age of the last beat
tick, each with how long the check took. 200 when every required dependency answers,
503 with the same JSON body when one does not. Every check has a short timeout and
catches everything: the health endpoint reports failures, it never raises them.
"""

import time

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

OK = "ok"
ERROR = "error"


def _timed(check) -> dict:
    started = time.monotonic()
    try:
        result = check() or {}
        result.setdefault("status", OK)
    except Exception as exc:  # report, never raise: this is the health endpoint
        # The class name only: a message may hold a host name or a password.
        result = {"status": ERROR, "error": exc.__class__.__name__}
    result["ms"] = round((time.monotonic() - started) * 1000, 1)
    return result


def check_database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"vendor": connection.vendor}


def check_redis() -> dict:
    url = getattr(settings, "REDIS_URL", None)
    if not url:
        return {"status": OK, "detail": "not configured (local defaults)"}
    import redis

    timeout = settings.HEALTHZ_TIMEOUT_SECONDS
    client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        client.ping()
    finally:
        client.close()
    return {}


def check_broker() -> dict:
    from portal.celery import app

    timeout = settings.HEALTHZ_TIMEOUT_SECONDS
    conn = app.connection_for_write(
        transport_options={
            "socket_connect_timeout": timeout,
            "socket_timeout": timeout,
            "max_retries": 0,
        }
    )
    try:
        # One attempt, no retry loop: a down broker must answer within the timeout.
        conn.ensure_connection(
            max_retries=1, interval_start=0, interval_step=0, interval_max=0, timeout=timeout
        )
        _ = conn.default_channel  # opens a channel: the transport really talks to the broker
    finally:
        conn.release()
    return {"transport": conn.transport_cls if isinstance(conn.transport_cls, str) else "custom"}


def check_beat() -> dict:
    """Age of the last beat tick (notifications.selectors.last_beat_tick, if present)."""
    try:
        from notifications.selectors import last_beat_tick
    except ImportError:
        return {"status": "unknown", "detail": "no beat tick recorded by this version"}
    tick = last_beat_tick()
    tick = getattr(tick, "started_at", tick)  # a datetime, or a SweepRun-like row
    if tick is None:
        return {
            "status": "unknown",
            "detail": "no beat tick yet",
            "last_tick": None,
            "age_seconds": None,
        }
    age = (timezone.now() - tick).total_seconds()
    status = OK if age <= settings.HEALTHZ_BEAT_MAX_AGE_SECONDS else "stale"
    return {"status": status, "last_tick": tick.isoformat(), "age_seconds": round(age, 1)}


CHECKS = {
    "database": check_database,
    "redis": check_redis,
    "broker": check_broker,
    "beat": check_beat,
}


def run_checks() -> tuple[bool, dict]:
    checks = {name: _timed(check) for name, check in CHECKS.items()}
    required = ["database", "redis", "broker"]
    healthy = all(checks[name]["status"] == OK for name in required)
    if settings.HEALTHZ_REQUIRE_BEAT and checks["beat"]["status"] != OK:
        healthy = False
    return healthy, checks


@never_cache
@require_GET
def healthz(request):
    healthy, checks = run_checks()
    body = {
        "status": OK if healthy else ERROR,
        "checks": checks,
        "time": timezone.now().isoformat(),
    }
    return JsonResponse(body, status=200 if healthy else 503)
