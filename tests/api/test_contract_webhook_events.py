"""API.md's webhooks, end to end from the API: a customer key subscribes, what its
incidents go through through the API arrives as signed JSON POSTs with
`X-Portal-Event`, a unique `X-Portal-Delivery` and `X-Portal-Signature`, which the
receiver checks with nothing but the secret and hashlib."""

import hashlib
import hmac
import json
import time

import pytest

from notifications import webhooks
from notifications.models import OutboxMessage, WebhookSubscription
from tests.api.test_webhooks import Receiver


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def deliver_all():
    """What the worker does with the outbox's webhook rows."""
    for row in OutboxMessage.objects.filter(channel="webhook"):
        webhooks.fan_out(row)
    webhooks.webhooks_deliver_due()


def signature_ok(secret: str, header: str, body: bytes) -> bool:
    parts = dict(item.split("=", 1) for item in header.split(","))
    assert set(parts) == {"t", "v1"}
    assert abs(time.time() - int(parts["t"])) < 300  # unix seconds, now
    expected = hmac.new(secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256)
    return hmac.compare_digest(expected.hexdigest(), parts["v1"])


def test_incident_events_from_the_api_arrive_signed_with_their_headers(
    api_a, api_staff, work_order_a, contact_a, receiver
):
    events = ["incident.created", "incident.updated", "incident.severity_changed"]
    created = api_a.post(
        "/api/v1/webhooks/", {"url": receiver.url, "events": events}, format="json"
    )
    assert created.status_code == 201, created.content
    secret = created.json()["secret"]

    incident = api_a.post(
        "/api/v1/incidents/",
        {
            "work_order": work_order_a.pk,
            "contact": contact_a.email,
            "title": "Down",
            "severity": "normal",
            "external_reference": "JIRA-9",
        },
        format="json",
    ).json()
    url = f"/api/v1/incidents/{incident['id']}/"
    assert api_a.patch(url, {"description": "since 9:00"}, format="json").status_code == 200
    changed = api_staff.post(
        f"{url}severity/", {"severity": "critical", "reason": "all users down"}, format="json"
    )
    assert changed.status_code == 200
    deliver_all()

    got = {r["headers"]["X-Portal-Event"]: r for r in receiver.requests}
    assert set(got) == set(events)
    deliveries = {r["headers"]["X-Portal-Delivery"] for r in receiver.requests}
    assert len(deliveries) == len(receiver.requests)  # a unique id per delivery
    for event, request in got.items():
        assert request["headers"]["Content-Type"] == "application/json"
        assert signature_ok(secret, request["headers"]["X-Portal-Signature"], request["body"])
        body = json.loads(request["body"])
        assert body["event"] == event
        assert body["data"]["id"] == incident["id"]
        assert body["data"]["external_reference"] == "JIRA-9"
    assert json.loads(got["incident.severity_changed"]["body"])["data"]["severity"] == "critical"


def test_a_subscription_receives_only_the_events_it_names(api_a, work_order_a, contact_a, receiver):
    api_a.post("/api/v1/webhooks/", {"url": receiver.url, "events": ["credits.low"]}, format="json")
    api_a.post(
        "/api/v1/incidents/",
        {
            "work_order": work_order_a.pk,
            "contact": contact_a.email,
            "title": "Down",
            "severity": "normal",
        },
        format="json",
    )
    deliver_all()
    assert receiver.requests == []


def test_another_customer_s_subscription_never_receives_a_s_events(
    api_a, api_b, work_order_a, contact_a, receiver
):
    api_b.post(
        "/api/v1/webhooks/", {"url": receiver.url, "events": ["incident.created"]}, format="json"
    )
    api_a.post(
        "/api/v1/incidents/",
        {
            "work_order": work_order_a.pk,
            "contact": contact_a.email,
            "title": "Down",
            "severity": "normal",
        },
        format="json",
    )
    deliver_all()
    assert receiver.requests == []


def test_staff_manage_every_subscription_and_customers_only_their_own(
    api_staff, api_a, api_b, webhook_a, webhook_b
):
    assert {w["url"] for w in api_staff.get("/api/v1/webhooks/").json()["results"]} == {
        webhook_a.url,
        webhook_b.url,
    }
    assert api_b.delete(f"/api/v1/webhooks/{webhook_a.pk}/").status_code == 404
    assert api_a.delete(f"/api/v1/webhooks/?id={webhook_a.pk}").status_code == 204
    assert api_staff.delete(f"/api/v1/webhooks/{webhook_b.pk}/").status_code == 204
    assert not WebhookSubscription.objects.exists()
