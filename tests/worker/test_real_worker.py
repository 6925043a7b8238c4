"""A REAL Celery worker and beat against Redis and PostgreSQL (issue #5).

- Incidents whose deadlines have passed are swept by the beat-scheduled worker: the
  DeadlineEvents and outbox rows appear, and the outbox is delivered (file backend,
  Message-ID from the key).
- SIGKILL of the worker in the middle of a sweep over thousands of due incidents,
  then a new worker: every event, timeline entry and outbox row exists exactly once.

Processes use the pytest-django test database (transaction=True, so they see the
committed rows) and Redis db 6 as broker. Redis down is a failure, not a skip.
"""

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone

from incidents.models import DeadlineEvent, Incident, IncidentEvent, ResponseTarget
from notifications.models import OutboxMessage
from tests import factories as f

# Transactional: the worker and beat processes must see committed rows. The flush
# after the test wipes seeded rows; tests/conftest.py re-seeds them.
pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

BROKER = os.environ.get("WORKER_TEST_BROKER_URL", "redis://127.0.0.1:6379/6")
CELERY = str(Path(sys.executable).with_name("celery"))
ROOT = Path(settings.BASE_DIR)


def _database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def broker():
    client = redis.Redis.from_url(BROKER, socket_connect_timeout=2)
    client.ping()  # raises: the test fails when Redis is unreachable
    client.flushdb()
    yield client
    client.flushdb()


class Processes:
    """Starts celery worker/beat subprocesses and kills them, whatever happens."""

    def __init__(self, tmp: Path, **env):
        self.tmp = tmp
        self.procs: list[subprocess.Popen] = []
        self.env = {
            **os.environ,
            "DATABASE_URL": _database_url(),
            "REDIS_URL": BROKER,
            "SWEEP_INTERVAL_SECONDS": "2",
            "PORTAL_VAR_DIR": str(tmp),
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "LOG_FORMAT": "plain",
            "LOG_LEVEL": "WARNING",
            "DB_CONN_MAX_AGE": "0",
            **env,
        }

    def start(self, *args: str, name: str) -> subprocess.Popen:
        log = open(self.tmp / f"{name}.log", "ab")
        proc = subprocess.Popen(
            [CELERY, "-A", "portal", *args],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: SIGKILL reaches the pool children
        )
        self.procs.append(proc)
        return proc

    def worker(self, name: str) -> subprocess.Popen:
        return self.start(
            "worker",
            "-l",
            "WARNING",
            "--concurrency=1",
            "-n",
            f"{name}@%h",
            "--without-mingle",
            "--without-gossip",
            name=name,
        )

    def beat(self) -> subprocess.Popen:
        return self.start(
            "beat", "-l", "WARNING", "-s", str(self.tmp / "beat-schedule"), name="beat"
        )

    def kill(self, proc: subprocess.Popen) -> None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(10)

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                self.kill(proc)

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in self.tmp.glob("*.log"))


@pytest.fixture
def processes(tmp_path, broker):
    procs = Processes(tmp_path)
    yield procs
    procs.stop_all()
    # The worker's connections must be gone before pytest-django flushes the tables.
    connection.close()


def wait_for(predicate, timeout: float, what: str, procs: Processes):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout}s waiting for {what}\n{procs.logs()}")


def test_a_real_worker_and_beat_record_breaches_and_deliver_the_outbox(
    processes, staff, customer_a, tmp_path
):
    # R4/R7: a Performance critical incident opened 40 minutes ago (entered by staff
    # afterwards): its 30-minute target is breached and its warning passed.
    from incidents.services import incident_open

    # R4 seed row (a transactional test may run after another one's flush).
    ResponseTarget.objects.get_or_create(
        package="performance",
        severity="critical",
        rapid_response=False,
        defaults={"minutes": 30, "clock": "24x7"},
    )
    wo = f.WorkOrderFactory(customer=customer_a, package="performance", account_manager=staff)
    contact = f.NamedContactFactory(work_order=wo, email="lead@acme.example", is_lead=True)
    incident = incident_open(
        work_order=wo,
        contact=contact,
        title="Production down",
        severity="critical",
        channel="phone",
        opened_at=timezone.now() - dt.timedelta(minutes=40),
        by=staff,
    )
    assert incident.next_deadline_at <= timezone.now()
    processes.worker("w1")
    processes.beat()

    def swept():
        kinds = set(
            DeadlineEvent.objects.filter(incident=incident).values_list("deadline", "threshold")
        )
        return {
            ("response", "warning"),
            ("response", "breach"),
            ("critical_situation", "due"),
        } <= kinds

    wait_for(swept, 30, "the deadline events", processes)
    incident.refresh_from_db()
    assert incident.response_breached
    assert OutboxMessage.objects.filter(
        event="incident.response_breached", recipient=staff.email
    ).exists()
    assert OutboxMessage.objects.filter(
        event="incident.escalated", recipient="lead@acme.example"
    ).exists()

    def delivered():
        return not OutboxMessage.objects.filter(channel="email", state="pending").exists()

    wait_for(delivered, 20, "outbox delivery", processes)
    mails = "".join(p.read_text() for p in (tmp_path / "mail").glob("*.log"))
    breach = OutboxMessage.objects.get(event="incident.response_breached", recipient=staff.email)
    from notifications.delivery import message_id

    # Unfold the headers (RFC 5322 2.2.3): a long key is folded onto a second line.
    unfolded = re.sub(r"\r?\n(?=[ \t])", "", mails)
    assert re.search(rf"^Message-ID:\s+{re.escape(message_id(breach.key))}$", unfolded, re.M)
    assert re.search(rf"^X-Portal-Delivery:\s+{re.escape(breach.key)}$", unfolded, re.M)


def _due_incidents(count: int, *, staff, customer) -> list[int]:
    wo = f.WorkOrderFactory(customer=customer, package="advanced", account_manager=staff)
    contact = f.NamedContactFactory(work_order=wo, email="ops@acme.example")
    opened = timezone.now() - dt.timedelta(hours=5)
    rows = [
        Incident(
            number=f"INC-K{i:06d}",
            work_order=wo,
            contact=contact,
            title=f"Load {i}",
            opened_at=opened,
            target_minutes=240,
            target_clock="24x7",
            target_rule="R4 test",
            response_warning_at=opened + dt.timedelta(hours=3),
            response_due_at=opened + dt.timedelta(hours=4),
            next_deadline_at=opened + dt.timedelta(hours=3),
        )
        for i in range(count)
    ]
    return [i.pk for i in Incident.objects.bulk_create(rows, batch_size=1000)]


def test_killing_the_worker_mid_sweep_loses_nothing_and_records_nothing_twice(
    processes, staff, customer_a
):
    count = 4000
    ids = _due_incidents(count, staff=staff, customer=customer_a)
    # Small batches (each its own transaction) so the kill lands between and inside them.
    processes.env.update(
        SWEEP_BATCH_SIZE="50", EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"
    )
    first = processes.worker("w1")
    processes.beat()

    wait_for(lambda: DeadlineEvent.objects.exists(), 30, "the sweep to start", processes)
    time.sleep(0.3)
    processes.kill(first)
    recorded_at_kill = DeadlineEvent.objects.count()
    assert 0 < recorded_at_kill < 2 * count, "the kill must land in the middle of the sweep"

    processes.worker("w2")
    wait_for(
        lambda: not Incident.objects.filter(pk__in=ids, next_deadline_at__isnull=False).exists(),
        120,  # returns as soon as done; a loaded machine (load 10 on 2 cores) needed over 40 s
        "the new worker to finish the sweep",
        processes,
    )

    assert DeadlineEvent.objects.filter(incident_id__in=ids).count() == 2 * count
    # Exactly once: warning, breach and escalation entries per incident, no more.
    per_incident = IncidentEvent.objects.filter(incident_id__in=ids).values_list(
        "incident_id", flat=True
    )
    assert len(per_incident) == 3 * count and len(set(per_incident)) == count
    # Warning and breach to the manager, the contact and the webhook, plus the breach
    # escalation to the manager: 7 outbox rows per incident, each key once.
    assert OutboxMessage.objects.filter(key__startswith="incident:").count() == 7 * count
    assert Incident.objects.filter(pk__in=ids, response_breached=True).count() == count
