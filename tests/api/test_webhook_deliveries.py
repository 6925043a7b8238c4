"""API.md Revision 2: `/webhooks/{id}/deliveries/` lists deliveries and attempts to the
subscription's owner; `/deliveries/{delivery_id}/redeliver/` sends one again."""

import pytest

from notifications.models import OutboxMessage, WebhookAttempt, WebhookDelivery
from notifications.webhooks import fan_out


@pytest.fixture
def delivered(api_a, incident_a, settings, monkeypatch):
    from notifications import webhooks

    monkeypatch.setattr(webhooks, "_post", lambda url, body, headers: (500, "HTTP 500"))
    sub = api_a.post(
        "/api/v1/webhooks/", {"url": "https://hooks.example/a", "events": ["incident.created"]}
    ).json()
    fan_out(OutboxMessage.objects.get(channel="webhook", event="incident.created"))
    webhooks.webhooks_deliver_due()
    return sub


def test_the_owner_lists_deliveries_with_their_attempts(api_a, delivered):
    body = api_a.get(f"/api/v1/webhooks/{delivered['id']}/deliveries/").json()
    assert body["count"] == 1
    row = body["results"][0]
    assert row["event"] == "incident.created"
    assert row["attempt_log"][0]["status_code"] == 500
    assert row["attempt_log"][0]["error"] == "HTTP 500"


def test_the_owner_redelivers(api_a, delivered, monkeypatch):
    from notifications import webhooks

    monkeypatch.setattr(webhooks, "_post", lambda url, body, headers: (204, ""))
    delivery = WebhookDelivery.objects.get()
    response = api_a.post(
        f"/api/v1/webhooks/{delivered['id']}/deliveries/{delivery.delivery_id}/redeliver/"
    )
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "delivered"
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == 2


def test_another_customer_sees_and_redelivers_nothing(api_b, delivered):
    delivery = WebhookDelivery.objects.get()
    assert api_b.get(f"/api/v1/webhooks/{delivered['id']}/deliveries/").status_code == 404
    url = f"/api/v1/webhooks/{delivered['id']}/deliveries/{delivery.delivery_id}/redeliver/"
    assert api_b.post(url).status_code == 404
    assert WebhookAttempt.objects.count() == 1


def test_staff_see_them_and_an_unknown_delivery_is_404(api_staff, delivered):
    assert api_staff.get(f"/api/v1/webhooks/{delivered['id']}/deliveries/").json()["count"] == 1
    url = f"/api/v1/webhooks/{delivered['id']}/deliveries/not-a-uuid/redeliver/"
    assert api_staff.post(url).status_code == 404
