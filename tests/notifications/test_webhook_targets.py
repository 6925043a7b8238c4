"""Webhook targets: no requests into our own network in production (SSRF)."""

import pytest

from notifications.models import WebhookAttempt
from notifications.targets import url_target_error
from notifications.webhooks import attempt
from tests import factories as f


@pytest.fixture
def production_targets(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://0.0.0.0/hook",
    ],
)
def test_private_and_loopback_targets_are_refused_in_production(production_targets, url):
    assert "private, loopback or link-local" in url_target_error(url)


def test_a_public_address_is_allowed(production_targets):
    assert url_target_error("https://93.184.215.14/hook") is None


def test_other_schemes_are_refused(production_targets):
    assert url_target_error("ftp://93.184.215.14/hook") is not None
    assert url_target_error("file:///etc/passwd") is not None


def test_subscribing_a_private_url_is_a_400_naming_the_field(production_targets, api_a):
    response = api_a.post(
        "/api/v1/webhooks/",
        {"url": "http://169.254.169.254/x", "events": ["incident.created"]},
        format="json",
    )
    assert response.status_code == 400
    assert "url" in response.json()


def test_a_delivery_to_a_private_address_is_refused_and_logged_not_sent(production_targets, db):
    delivery = f.WebhookDeliveryFactory(subscription__url="http://127.0.0.1:9/hook")
    logged = attempt(delivery)
    assert logged.status_code is None
    assert logged.error.startswith("refused:")
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == 1


def test_one_task_run_drains_more_than_one_batch(db, monkeypatch):
    """After an outage the backlog must drain within a run, not 50 per beat tick."""
    from notifications import webhooks
    from notifications.models import WebhookDelivery

    monkeypatch.setattr(webhooks, "_post", lambda url, body, headers: (204, ""))
    subscription = f.WebhookSubscriptionFactory()
    for _ in range(7):
        f.WebhookDeliveryFactory(subscription=subscription)
    totals = webhooks.deliver_until_drained(limit=3)
    assert totals == {"delivered": 7, "failed": 0, "batches": 3}
    assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {"delivered"}
