"""`/healthz`: is this instance able to serve? For load balancers and monitoring.

Reports the database, Redis (cache), the Celery broker, the age of the last beat tick
and the deadline sweep, each with how long the check took. 200 when every required
check is ok, 503 with the same JSON body when one is not: a beat that has not ticked
within its allowance and a sweep that fails or falls behind are errors too (issue #14),
since a portal that serves pages but never warns of a breach is not healthy. Every check has a short timeout and
catches everything: the health endpoint reports failures, it never raises them.
"""

import time

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from incidents.selectors import recent_sweep_failures, sweep_health
from notifications.selectors import last_beat_tick

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


def installed_at():
    """When this database was set up: the first migration applied to it.

    A fresh install has not seen a beat tick yet; it gets one allowance from here, not
    forever (issue #14), and needs no table of its own to remember it.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(applied) FROM django_migrations")
        return cursor.fetchone()[0]


def check_beat() -> dict:
    """Age of the last beat tick; an error once it is older than its allowance.

    With no tick yet, the allowance counts from the install (installed_at): a new
    portal whose beat never starts turns to error after one allowance.
    """
    allowance = settings.HEALTHZ_BEAT_MAX_AGE_SECONDS
    now = timezone.now()
    tick = last_beat_tick()
    if tick is None:
        since = installed_at() or now
        waited = (now - since).total_seconds()
        return {
            "status": OK if waited <= allowance else ERROR,
            "detail": "no beat tick yet",
            "last_tick": None,
            "age_seconds": None,
            "waiting_seconds": round(waited, 1),
            "allowance_seconds": allowance,
        }
    age = (now - tick).total_seconds()
    return {
        "status": OK if age <= allowance else ERROR,
        "last_tick": tick.isoformat(),
        "age_seconds": round(age, 1),
        "allowance_seconds": allowance,
    }


def _within_first_allowance() -> bool:
    """A new install whose sweep has not run yet: its backlog is the demo's or the
    import's, and the first sweep is due within one beat allowance."""
    since = installed_at()
    allowance = settings.HEALTHZ_BEAT_MAX_AGE_SECONDS
    return since is None or (timezone.now() - since).total_seconds() <= allowance


def check_sweeps() -> dict:
    """The deadline sweep: an error when it falls behind (its oldest unhandled deadline
    older than two intervals) or when its last runs all failed rows, as every run did
    in the old demo while the health page said "Healthy"."""
    health = sweep_health()
    failing = recent_sweep_failures(runs=settings.HEALTHZ_SWEEP_FAILED_RUNS)
    problems = []
    first_sweep_pending = health["last_run_at"] is None and _within_first_allowance()
    if health["overdue"] and not first_sweep_pending:
        problems.append(f"behind by {health['backlog_age_seconds']:.0f} s")
    if failing:
        problems.append(f"the last {failing} runs failed rows")
    return {
        "status": ERROR if problems else OK,
        "detail": "; ".join(problems)
        or ("waiting for the first sweep" if first_sweep_pending else "keeping up"),
        "last_run_at": health["last_run_at"].isoformat() if health["last_run_at"] else None,
        "last_run_failed": health["last_run_failed"],
        "backlog_age_seconds": health["backlog_age_seconds"],
    }


CHECKS = {
    "database": check_database,
    "redis": check_redis,
    "broker": check_broker,
    "beat": check_beat,
    "sweeps": check_sweeps,
}


def run_checks() -> tuple[bool, dict]:
    checks = {name: _timed(check) for name, check in CHECKS.items()}
    required = ["database", "redis", "broker", "sweeps"]
    if settings.HEALTHZ_REQUIRE_BEAT:
        required.append("beat")
    healthy = all(checks[name]["status"] == OK for name in required)
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
