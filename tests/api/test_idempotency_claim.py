"""Idempotency-Key's claim (core.api.idempotency, issue #6): one INSERT ... ON
CONFLICT DO NOTHING, no purge and no savepoint of its own on the way in, and a record
past its lifetime gives the key back."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.api.idempotency import ttl
from core.models import IdempotencyRecord
from incidents.models import Incident


def incident_body(work_order, **extra):
    return {
        "work_order": work_order.pk,
        "contact": "bob@acme.example",
        "title": "Mail is down",
        "severity": "normal",
        **extra,
    }


def test_a_key_past_its_lifetime_is_claimed_afresh_by_another_body(api_a, work_order_a, contact_a):
    first = api_a.post(
        "/api/v1/incidents/", incident_body(work_order_a), format="json", HTTP_IDEMPOTENCY_KEY="old"
    )
    assert first.status_code == 201
    IdempotencyRecord.objects.update(created_at=timezone.now() - ttl() - dt.timedelta(hours=1))
    other = api_a.post(
        "/api/v1/incidents/",
        incident_body(work_order_a, title="Another outage"),
        format="json",
        HTTP_IDEMPOTENCY_KEY="old",
    )
    # Not 409 (the old record is forgotten) and not a replay: a second incident.
    assert other.status_code == 201
    assert "Idempotent-Replayed" not in other
    assert Incident.objects.count() == 2
    record = IdempotencyRecord.objects.get(key="old")
    assert record.response_body["title"] == "Another outage"
    assert record.created_at > timezone.now() - dt.timedelta(minutes=5)


def test_a_failed_first_attempt_leaves_no_claim(api_a, work_order_a, contact_a):
    bad = api_a.post(
        "/api/v1/incidents/",
        incident_body(work_order_a, severity="nonsense"),
        format="json",
        HTTP_IDEMPOTENCY_KEY="fix-me",
    )
    assert bad.status_code == 400
    assert not IdempotencyRecord.objects.filter(key="fix-me").exists()


@pytest.mark.django_db(transaction=True)
def test_a_keyed_create_runs_one_transaction_without_purge_or_claim_savepoint(
    api_a, work_order_a, contact_a
):
    with CaptureQueriesContext(connection) as queries:
        response = api_a.post(
            "/api/v1/incidents/",
            incident_body(work_order_a),
            format="json",
            HTTP_IDEMPOTENCY_KEY="one-tx",
        )
    assert response.status_code == 201
    sql = [q["sql"].lstrip().upper() for q in queries.captured_queries]
    assert not [s for s in sql if s.startswith("DELETE")]
    claims = [s for s in sql if s.startswith("INSERT") and "IDEMPOTENCYRECORD" in s]
    assert len(claims) == 1 and "ON CONFLICT DO NOTHING" in claims[0]
    # incident_open's own atomic block is the only savepoint left (nested under the
    # claim's transaction); the claim itself takes none.
    assert sum(s.startswith("SAVEPOINT") for s in sql) <= 1
    assert IdempotencyRecord.objects.get(key="one-tx").status_code == 201
