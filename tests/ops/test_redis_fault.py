"""Redis (cache and Celery broker) stops and comes back, on a small scale (CI-sized
bench/faults.py): incidents are still filed through the API, their notifications wait
in the outbox, and after recovery each is delivered exactly once.

Uses its own redis-server on a spare port, started and stopped here; the shared Redis
is never touched. Fails (never skips) when redis-server is not installed.
"""

import shutil
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import redis
from django.core import mail

from incidents.models import Incident
from notifications.models import OutboxMessage, WebhookDelivery
from portal.celery import app as celery_app
from tests import factories as f

pytestmark = pytest.mark.django_db(transaction=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OwnRedis:
    def __init__(self):
        if shutil.which("redis-server") is None:
            pytest.fail(
                "redis-server is not installed (apt-get install redis-server): the fault test needs it"
            )
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if self.client().ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.05)
        pytest.fail(f"redis-server on port {self.port} did not start")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def client(self):
        return redis.Redis.from_url(self.url, socket_connect_timeout=0.5)


def _point_celery_at(url: str) -> str:
    old = celery_app.conf.broker_url
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
        celery_app._pool = None
    celery_app.amqp._producer_pool = None
    celery_app.conf.broker_url = url
    return old


@pytest.fixture
def own_redis(settings):
    server = OwnRedis()
    server.start()
    settings.REDIS_URL = server.url
    settings.CACHES = {
        "default": {
            "BACKEND": "core.cache.ResilientRedisCache",
            "LOCATION": server.url,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    old = _point_celery_at(server.url)
    try:
        yield server
    finally:
        server.stop()
        _point_celery_at(old)


class Receiver:
    """A webhook endpoint on loopback that counts deliveries by X-Portal-Delivery."""

    def __init__(self):
        self.received: list[str] = []
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                received.append(self.headers["X-Portal-Delivery"])
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def _deliver_everything():
    from notifications.tasks import deliver_outbox, deliver_webhooks

    deliver_outbox.apply().get()
    deliver_webhooks.apply().get()


def test_incidents_are_filed_while_redis_is_down_and_each_notification_is_delivered_once_after(
    own_redis, receiver, api_a, work_order_a, contact_a, customer_a, beat_ticking
):
    f.WebhookSubscriptionFactory(customer=customer_a, url=receiver.url, events=["incident.created"])
    own_redis.stop()

    # The web keeps answering: reads, health (which says what is down) and writes.
    assert api_a.get("/api/v1/incidents/").status_code == 200
    health = api_a.get("/healthz")
    assert health.status_code == 503 and health.json()["checks"]["redis"]["status"] == "error"
    started = time.monotonic()
    numbers = []
    for n in range(3):
        response = api_a.post(
            "/api/v1/incidents/",
            {
                "work_order": work_order_a.pk,
                "contact": contact_a.email,
                "title": f"Filed in the dark {n}",
                "severity": "normal",
            },
            format="json",
        )
        assert response.status_code == 201, response.content
        numbers.append(response.json()["number"])
    assert time.monotonic() - started < 10, "a dead broker must not stall requests"

    incidents = list(Incident.objects.filter(number__in=numbers))
    assert len(incidents) == 3
    held = list(OutboxMessage.objects.filter(event="incident.created", state="pending"))
    webhook_rows = [m for m in held if m.channel == "webhook"]
    email_rows = [m for m in held if m.channel == "email"]
    assert {m.payload["data"]["number"] for m in webhook_rows} == set(
        numbers
    )  # one per incident, written with it
    assert email_rows and not mail.outbox and not receiver.received  # nothing went out yet

    own_redis.start()  # back, empty (no persistence): the outbox in PostgreSQL is the truth
    assert api_a.get("/healthz").status_code == 200
    from notifications.tasks import deliver_outbox

    deliver_outbox.delay()  # the broker takes tasks again
    assert own_redis.client().llen("celery") >= 1

    _deliver_everything()
    _deliver_everything()  # a second run (a duplicate tick, a redelivered task) sends nothing more

    assert OutboxMessage.objects.filter(pk__in=[m.pk for m in held], state="sent").count() == len(
        held
    )
    sent_keys = [m.extra_headers["X-Portal-Delivery"] for m in mail.outbox]
    assert sorted(sent_keys) == sorted(m.key for m in email_rows), "each held e-mail exactly once"
    deliveries = WebhookDelivery.objects.filter(outbox__in=webhook_rows)
    assert deliveries.count() == 3 and set(deliveries.values_list("state", flat=True)) == {
        "delivered"
    }
    assert sorted(receiver.received) == sorted(str(d.delivery_id) for d in deliveries), (
        "each webhook exactly once"
    )
