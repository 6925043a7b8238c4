"""Signed webhook delivery: fan-out, headers, signature, retries with backoff for at
least 24 hours, attempt log, redelivery. A real HTTP server on 127.0.0.1 receives."""

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from notifications import webhooks
from notifications.models import OutboxMessage, WebhookAttempt, WebhookDelivery
from tests import factories as f
from tests.factories import notify


class Receiver:
    """A local HTTP server recording what it receives; answers `status`."""

    def __init__(self):
        self.requests = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def webhook_row(customer, event="incident.created", key="incident:1:created"):
    notify(event=event, key=key, customer=customer, payload={"id": 1, "title": "Down"})
    return OutboxMessage.objects.get(key=f"{key}:webhook")


def test_fan_out_reaches_the_customers_own_and_staff_wide_subscriptions_only(
    customer_a, customer_b
):
    own = f.WebhookSubscriptionFactory(customer=customer_a, events=["incident.created"])
    staff_wide = f.WebhookSubscriptionFactory(
        customer=None, events=["incident.created", "credits.low"]
    )
    f.WebhookSubscriptionFactory(
        customer=customer_b, events=["incident.created"]
    )  # B's: never A's events
    f.WebhookSubscriptionFactory(customer=customer_a, events=["credits.low"])  # another event
    f.WebhookSubscriptionFactory(customer=customer_a, events=["incident.created"], active=False)
    row = webhook_row(customer_a)
    webhooks.fan_out(row)
    webhooks.fan_out(row)  # a repeat writes nothing
    assert set(WebhookDelivery.objects.values_list("subscription_id", flat=True)) == {
        own.pk,
        staff_wide.pk,
    }


def test_delivery_is_signed_with_event_and_stable_delivery_id_headers(customer_a, receiver):
    sub = f.WebhookSubscriptionFactory(customer=customer_a, url=receiver.url, secret="s" * 32)
    webhooks.fan_out(webhook_row(customer_a))
    assert webhooks.webhooks_deliver_due() == {"delivered": 1, "failed": 0}
    (got,) = receiver.requests
    delivery = WebhookDelivery.objects.get(subscription=sub)
    assert got["headers"]["X-Portal-Event"] == "incident.created"
    assert got["headers"]["X-Portal-Delivery"] == str(delivery.delivery_id)
    assert webhooks.verify("s" * 32, got["headers"]["X-Portal-Signature"], got["body"])
    assert not webhooks.verify(
        "wrong-secret-xxxxxxxx", got["headers"]["X-Portal-Signature"], got["body"]
    )
    assert not webhooks.verify("s" * 32, got["headers"]["X-Portal-Signature"], got["body"] + b" ")
    body = json.loads(got["body"])
    assert body["event"] == "incident.created"
    assert body["data"] == {"id": 1, "title": "Down"}
    assert delivery.state == "delivered"


def test_signature_is_hmac_sha256_of_timestamp_dot_body():
    import hashlib
    import hmac

    header = webhooks.sign("k" * 20, 1700000000, b'{"a":1}')
    expected = hmac.new(b"k" * 20, b'1700000000.{"a":1}', hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"


def test_failures_are_retried_with_exponential_backoff_keeping_the_delivery_id(
    customer_a, receiver
):
    f.WebhookSubscriptionFactory(customer=customer_a, url=receiver.url)
    webhooks.fan_out(webhook_row(customer_a))
    receiver.status = 500
    delivery = WebhookDelivery.objects.get()
    waits = []
    now = timezone.now()
    for _ in range(4):
        webhooks.webhooks_deliver_due(now=now)
        delivery.refresh_from_db()
        assert delivery.state == "retrying"
        waits.append((delivery.next_attempt_at - now).total_seconds())
        now = delivery.next_attempt_at
    assert waits == [30, 60, 120, 240]
    assert len({r["headers"]["X-Portal-Delivery"] for r in receiver.requests}) == 1
    assert WebhookAttempt.objects.filter(delivery=delivery, status_code=500).count() == 4
    receiver.status = 204
    webhooks.webhooks_deliver_due(now=now)
    delivery.refresh_from_db()
    assert delivery.state == "delivered"
    assert delivery.attempts == 5


def test_retries_last_at_least_24_hours_then_give_up(customer_a):
    # Port 9 (discard) on loopback: connection refused, every time.
    f.WebhookSubscriptionFactory(customer=customer_a, url="http://127.0.0.1:9/refused")
    webhooks.fan_out(webhook_row(customer_a))
    delivery = WebhookDelivery.objects.get()
    start = now = timezone.now()
    for _ in range(100):
        webhooks.webhooks_deliver_due(now=now)
        delivery.refresh_from_db()
        if delivery.state == "gave_up":
            break
        now = delivery.next_attempt_at
    assert delivery.state == "gave_up"
    last = WebhookAttempt.objects.filter(delivery=delivery).order_by("-attempted_at").first()
    assert last.attempted_at - start >= dt.timedelta(hours=24)
    assert last.error  # the reason is logged for staff
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == delivery.attempts


def test_redeliver_sends_the_same_delivery_again(customer_a, receiver):
    f.WebhookSubscriptionFactory(customer=customer_a, url=receiver.url)
    webhooks.fan_out(webhook_row(customer_a))
    webhooks.webhooks_deliver_due()
    delivery = WebhookDelivery.objects.get()
    log = webhooks.webhook_redeliver(delivery=delivery)
    assert log.status_code == 200
    assert [r["headers"]["X-Portal-Delivery"] for r in receiver.requests] == [
        str(delivery.delivery_id)
    ] * 2


def test_opening_an_incident_through_the_api_ends_in_a_signed_delivery(
    api_a, work_order_a, contact_a, customer_a, receiver
):
    created = api_a.post(
        "/api/v1/webhooks/", {"url": receiver.url, "events": ["incident.created"]}, format="json"
    )
    secret = created.json()["secret"]
    response = api_a.post(
        "/api/v1/incidents/",
        {
            "work_order": work_order_a.pk,
            "contact": contact_a.email,
            "title": "Down",
            "severity": "normal",
            "external_reference": "JIRA-7",
        },
        format="json",
    )
    assert response.status_code == 201
    for row in OutboxMessage.objects.filter(channel="webhook", event="incident.created"):
        webhooks.fan_out(row)
    webhooks.webhooks_deliver_due()
    (got,) = receiver.requests
    assert webhooks.verify(secret, got["headers"]["X-Portal-Signature"], got["body"])
    assert json.loads(got["body"])["data"]["external_reference"] == "JIRA-7"


def test_staff_see_every_attempt_and_can_redeliver_from_the_admin(
    client_staff, staff, customer_a, receiver
):
    staff.is_superuser = True
    staff.save()
    f.WebhookSubscriptionFactory(customer=customer_a, url=receiver.url)
    webhooks.fan_out(webhook_row(customer_a))
    receiver.status = 500
    webhooks.webhooks_deliver_due()
    delivery = WebhookDelivery.objects.get()
    page = client_staff.get(f"/admin/notifications/webhookdelivery/{delivery.pk}/change/")
    assert page.status_code == 200
    assert b"500" in page.content
    receiver.status = 200
    response = client_staff.post(
        "/admin/notifications/webhookdelivery/",
        {"action": "redeliver", "_selected_action": [delivery.pk]},
    )
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.state == "delivered"
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == 2


def test_redelivering_a_delivery_that_gave_up_restarts_the_whole_retry_window(customer_a):
    # Port 9 (discard) on loopback refuses every connection: it gave up a day ago.
    f.WebhookSubscriptionFactory(customer=customer_a, url="http://127.0.0.1:9/refused")
    webhooks.fan_out(webhook_row(customer_a))
    delivery = WebhookDelivery.objects.get()
    now = timezone.now() - dt.timedelta(hours=30)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=now)
    while delivery.state != "gave_up":
        webhooks.webhooks_deliver_due(now=now)
        delivery.refresh_from_db()
        now = delivery.next_attempt_at
    gave_up_after = delivery.attempts

    redelivered_at = timezone.now()
    log = webhooks.webhook_redeliver(delivery=delivery)
    delivery.refresh_from_db()
    assert log.status_code is None and log.error  # the failed redelivery is logged
    assert delivery.window_started_at == log.attempted_at  # a new window from now
    assert delivery.state == "retrying"
    assert delivery.next_attempt_at - log.attempted_at == dt.timedelta(seconds=30)  # backoff anew

    waits, now = [], delivery.next_attempt_at
    while delivery.state == "retrying":
        webhooks.webhooks_deliver_due(now=now)
        delivery.refresh_from_db()
        waits.append(delivery.next_attempt_at - now)
        now = delivery.next_attempt_at
    assert waits[:3] == [dt.timedelta(seconds=s) for s in (60, 120, 240)]
    assert delivery.state == "gave_up"
    last = WebhookAttempt.objects.filter(delivery=delivery).order_by("-attempted_at").first()
    assert last.attempted_at - redelivered_at >= dt.timedelta(hours=24)  # a full new window
    assert delivery.attempts > gave_up_after + 10
