"""Hardening round two (#22): a revoked key's webhooks stop, the SSRF guard admits
only globally routable addresses and connects to the address it checked, and a
delivery is logged before it is sent with a lease of seconds."""

import datetime as dt
import socket

import pytest
from django.utils import timezone

from accounts.services import api_key_revoke
from notifications import webhooks
from notifications.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from notifications.targets import is_public_address, url_target_error
from tests import factories as f
from tests.api.test_webhooks import Receiver, webhook_row


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def production_targets(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False


# --- 1. a revoked key's webhooks ---------------------------------------------------


def test_revoking_a_key_stops_its_webhooks(api_a, key_a, customer_a, staff, receiver):
    response = api_a.post(
        "/api/v1/webhooks/", {"url": receiver.url, "events": ["incident.created"]}, format="json"
    )
    assert response.status_code == 201
    api_key_revoke(key=key_a, by=staff)
    assert not WebhookSubscription.objects.get(pk=response.json()["id"]).active
    webhooks.fan_out(webhook_row(customer_a))
    assert webhooks.webhooks_deliver_due() == {"delivered": 0, "failed": 0}
    assert receiver.requests == []


def test_a_delivery_queued_before_the_revocation_is_not_sent(
    api_a, key_a, customer_a, staff, receiver
):
    api_a.post(
        "/api/v1/webhooks/", {"url": receiver.url, "events": ["incident.created"]}, format="json"
    )
    webhooks.fan_out(webhook_row(customer_a))  # queued while the key was good
    # Revoked by any door (even one that forgot the subscriptions): checked at delivery.
    key_a.revoked_at = timezone.now()
    key_a.save(update_fields=["revoked_at"])
    webhooks.webhooks_deliver_due()
    assert receiver.requests == []
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == "gave_up"
    assert delivery.attempt_log.get().error.startswith("not sent")


# --- 2. SSRF: globally routable only, no rebinding ----------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://100.100.100.200/",
        "http://100.64.0.1/",
        "http://192.0.0.192/",
        "http://[2002:7f00:1::]/",  # 6to4 embedding 127.0.0.1
        "http://[2002:a00:1::]/",  # 6to4 embedding 10.0.0.1
        "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 of 169.254.169.254
        "http://[64:ff9b::7f00:1]/",  # NAT64 of 127.0.0.1
        "http://[::ffff:127.0.0.1]/",  # IPv4-mapped
        "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/",  # Teredo, client 127.0.0.1
        "http://198.18.0.1/",
        "http://224.0.0.1/",
        "http://255.255.255.255/",
        "http://[fd00::1]/",
    ],
)
def test_non_global_addresses_are_refused(production_targets, url):
    assert "public addresses" in url_target_error(url)


def test_global_addresses_and_their_embeddings_are_allowed(production_targets):
    assert url_target_error("https://93.184.215.14/hook") is None
    assert is_public_address("2002:808:808::1")  # 6to4 of 8.8.8.8
    assert is_public_address("64:ff9b::808:808")  # NAT64 of 8.8.8.8
    assert is_public_address("2606:4700::1111")


def test_port_65536_is_a_400_not_a_500(production_targets, api_a):
    response = api_a.post(
        "/api/v1/webhooks/",
        {"url": "http://93.184.215.14:65536/", "events": ["incident.created"]},
        format="json",
    )
    assert response.status_code == 400
    assert "url" in response.json()


def test_registration_refuses_shared_address_space(production_targets, api_a):
    response = api_a.post(
        "/api/v1/webhooks/",
        {"url": "http://100.100.100.200/", "events": ["incident.created"]},
        format="json",
    )
    assert response.status_code == 400
    assert not WebhookSubscription.objects.exists()


def _rebinding_dns(monkeypatch, first: str, then: str):
    """A name that resolves to `first` once, then to `then` (a DNS rebinding attack)."""
    real = socket.getaddrinfo
    answers = []

    def fake(host, port, *args, **kwargs):
        if host != "rebind.example":
            return real(host, port, *args, **kwargs)
        address = first if not answers else then
        answers.append(address)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return answers


def test_delivery_connects_to_the_address_it_checked(
    production_targets, settings, monkeypatch, receiver, db
):
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    port = receiver.server.server_port
    # Checked as public (a documentation-free global address), then re-pointed at us.
    answers = _rebinding_dns(monkeypatch, "93.184.215.14", "127.0.0.1")
    connected = []
    real_connect = socket.create_connection

    def record(address, *args, **kwargs):
        connected.append(address[0])
        raise OSError("no network in tests")

    monkeypatch.setattr(socket, "create_connection", record)
    delivery = f.WebhookDeliveryFactory(subscription__url=f"http://rebind.example:{port}/hook")
    webhooks.attempt(delivery)
    monkeypatch.setattr(socket, "create_connection", real_connect)
    assert receiver.requests == []
    assert answers == ["93.184.215.14"]  # resolved once
    assert connected == ["93.184.215.14"]  # and that address is the one connected to


def test_pinned_delivery_sends_the_host_name(settings, monkeypatch, receiver, db):
    port = receiver.server.server_port
    _rebinding_dns(monkeypatch, "127.0.0.1", "127.0.0.1")
    delivery = f.WebhookDeliveryFactory(subscription__url=f"http://rebind.example:{port}/hook")
    log = webhooks.attempt(delivery)
    assert log.status_code == 200
    assert receiver.requests[0]["headers"]["Host"] == f"rebind.example:{port}"


# --- 8. log before sending, a lease of seconds --------------------------------------


class WorkerKilled(BaseException):
    """Stands in for kill -9 after the request left (nothing after it runs)."""


def test_a_delivery_in_flight_at_a_kill_is_logged_and_retried_within_seconds(
    monkeypatch, receiver, db
):
    delivery = f.WebhookDeliveryFactory(subscription__url=receiver.url)
    real_post = webhooks._post

    def send_then_die(url, body, headers):
        real_post(url, body, headers)
        raise WorkerKilled

    monkeypatch.setattr(webhooks, "_post", send_then_die)
    now = timezone.now()
    with pytest.raises(WorkerKilled):
        webhooks.webhooks_deliver_due(now=now)
    assert len(receiver.requests) == 1
    # The send is in the log although the worker died before it could record an answer.
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == 1
    delivery.refresh_from_db()
    assert delivery.attempts == 1
    assert delivery.next_attempt_at - now <= dt.timedelta(seconds=30)  # seconds, not minutes

    monkeypatch.setattr(webhooks, "_post", real_post)
    assert webhooks.webhooks_deliver_due(now=now + dt.timedelta(seconds=10)) == {
        "delivered": 0,
        "failed": 0,
    }
    assert webhooks.webhooks_deliver_due(now=now + dt.timedelta(seconds=30)) == {
        "delivered": 1,
        "failed": 0,
    }
    assert len(receiver.requests) == 2
    # Sent twice, logged twice: the first with no answer, the second delivered.
    log = list(WebhookAttempt.objects.filter(delivery=delivery).order_by("id"))
    assert [a.error.startswith("in flight") for a in log] == [True, False]
    assert log[1].status_code == 200
    delivery.refresh_from_db()
    assert delivery.attempts == 2


def test_a_worker_whose_lease_was_taken_over_sends_nothing(monkeypatch, db):
    sent = []
    monkeypatch.setattr(webhooks, "_post", lambda url, body, headers: sent.append(url) or (204, ""))
    f.WebhookDeliveryFactory()
    now = timezone.now()
    slow = webhooks.claim_due(now=now)  # worker 1 claims, then stalls past its lease
    later = now + dt.timedelta(seconds=webhooks.lease_seconds() + 1)
    assert webhooks.webhooks_deliver_due(now=later) == {"delivered": 1, "failed": 0}  # worker 2
    assert webhooks.attempt(slow[0], now=later, lease=slow[0].next_attempt_at) is None
    assert len(sent) == 1
