"""API.md: every `POST` that creates something accepts an `Idempotency-Key`: the same key
with the same body returns the first response again and creates nothing new; the same
key with a different body is 409. Tried on each creating endpoint of the table."""

import datetime as dt

import pytest
from django.utils import timezone

from contracts.models import Customer, NamedContact, WorkOrder
from credits.models import Rate, Redemption
from incidents.models import Incident
from notifications.models import WebhookSubscription


def in_days(n: int) -> str:
    return (timezone.localdate() + dt.timedelta(days=n)).isoformat()


# (name, client fixture, path, body, changed field, model whose rows it creates)
CREATES = [
    (
        "customer",
        "api_staff",
        "/api/v1/customers/",
        {"code": "initech", "name": "Initech", "country": "US", "timezone": "America/Chicago"},
        {"name": "Initrode"},
        Customer,
    ),
    (
        "work order",
        "api_staff",
        "/api/v1/work-orders/",
        {
            "number": "WO-IDEM",
            "customer": "acme",
            "package": "core",
            "start_date": "2026-01-01",
            "end_date": "2030-12-31",
        },
        {"package": "advanced"},
        WorkOrder,
    ),
    (
        "named contact",
        "api_a",
        "/api/v1/work-orders/{wo}/contacts/",
        {"email": "new@acme.example", "name": "New"},
        {"name": "Other"},
        NamedContact,
    ),
    (
        "rate",
        "api_staff",
        "/api/v1/rates/",
        {
            "service": "workshops",
            "customer": "acme",
            "credits_per_unit": "8.5",
            "valid_from": "2026-01-01",
        },
        {"credits_per_unit": "9"},
        Rate,
    ),
    (
        "redemption",
        "api_a",
        "/api/v1/work-orders/{wo}/redemptions/",
        {
            "service": "workshops",
            "quantity": "1",
            "scheduled_for": "+40d",
            "delivery_mode": "per_participant",
        },
        {"quantity": "2"},
        Redemption,
    ),
    (
        "incident",
        "api_a",
        "/api/v1/incidents/",
        {
            "work_order": "{wo}",
            "contact": "bob@acme.example",
            "title": "Down",
            "severity": "normal",
        },
        {"title": "Still down"},
        Incident,
    ),
    (
        "webhook",
        "api_a",
        "/api/v1/webhooks/",
        {"url": "https://tickets.example/hook", "events": ["incident.created"]},
        {"events": ["credits.low"]},
        WebhookSubscription,
    ),
]


def _fill(body: dict, wo: int) -> dict:
    out = {}
    for key, value in body.items():
        if value == "{wo}":
            value = wo
        elif value == "+40d":
            value = in_days(40)
        out[key] = value
    return out


@pytest.fixture
def ready(credits_a, contact_a, rate_workshops):
    return credits_a


@pytest.mark.parametrize(
    ("name", "persona", "path", "body", "change", "model"), CREATES, ids=[c[0] for c in CREATES]
)
def test_the_same_key_and_body_replays_the_first_response_and_creates_nothing(
    request, ready, name, persona, path, body, change, model
):
    client = request.getfixturevalue(persona)
    url = path.format(wo=ready.pk)
    body = _fill(body, ready.pk)
    first = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=f"idem-{name}")
    assert first.status_code == 201, first.content
    count = model.objects.count()
    again = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=f"idem-{name}")
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert model.objects.count() == count


@pytest.mark.parametrize(
    ("name", "persona", "path", "body", "change", "model"), CREATES, ids=[c[0] for c in CREATES]
)
def test_the_same_key_with_another_body_is_409_and_creates_nothing(
    request, ready, name, persona, path, body, change, model
):
    client = request.getfixturevalue(persona)
    url = path.format(wo=ready.pk)
    body = _fill(body, ready.pk)
    assert client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="reused").status_code == 201
    count = model.objects.count()
    other = client.post(url, {**body, **change}, format="json", HTTP_IDEMPOTENCY_KEY="reused")
    assert other.status_code == 409
    assert "detail" in other.json()
    assert model.objects.count() == count


def test_without_a_key_each_post_creates_anew(api_a, ready):
    body = {
        "work_order": ready.pk,
        "contact": "bob@acme.example",
        "title": "Down",
        "severity": "normal",
    }
    api_a.post("/api/v1/incidents/", body, format="json")
    api_a.post("/api/v1/incidents/", body, format="json")
    assert Incident.objects.count() == 2


def test_an_empty_or_oversized_key_is_400_naming_the_header(api_a, ready):
    body = {
        "work_order": ready.pk,
        "contact": "bob@acme.example",
        "title": "Down",
        "severity": "normal",
    }
    for key in ("   ", "k" * 201):
        response = api_a.post("/api/v1/incidents/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)
        assert response.status_code == 400
        assert "Idempotency-Key" in response.json()
    assert not Incident.objects.exists()
