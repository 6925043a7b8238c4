"""API.md Revision 2, "Webhooks": one envelope for every event, built in one place
(incidents/notices.py, credits.entitlements._payload, notifications.webhooks.envelope),
checked against notifications/envelope.schema.json."""

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import jsonschema
import pytest
import time_machine
from django.utils import timezone

from credits.entitlements import run_entitlement_sweep
from credits.services import credits_adjust
from incidents import services as incident_services
from incidents.sweep import run_deadline_sweep
from notifications import rendering
from notifications.models import OutboxMessage, WebhookDelivery, WebhookSubscription
from notifications.webhooks import body_of, envelope, fan_out
from tests import factories as f

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "notifications" / "envelope.schema.json").read_text()
)
VALIDATOR = jsonschema.Draft202012Validator(
    SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
)


def envelope_of(message: OutboxMessage) -> dict:
    delivery = WebhookDelivery(
        subscription=WebhookSubscription(url="https://hooks.example/x", secret="s" * 20),
        outbox=message,
        event=message.event,
        payload=message.payload,
        created_at=timezone.now(),
    )
    return envelope(delivery)


@pytest.fixture
def everything(work_order_a, contact_a, staff, settings):
    """Every kind of event the portal sends as a webhook, made by the real code paths."""
    settings.PORTAL_PUBLIC_URL = "https://support.example.com"
    work_order_a.account_manager = staff
    work_order_a.low_credit_threshold = 50
    work_order_a.save()
    opened = timezone.now() - dt.timedelta(days=3)
    incident = f.open_incident(
        work_order=work_order_a,
        contact=contact_a,
        title="Database down",
        external_reference="T-1",
        opened_at=opened,
        by=staff,
    )
    incident_services.incident_update(incident=incident, by=staff, title="Database down hard")
    incident_services.incident_change_severity(
        incident=incident, severity="critical", reason="production down", by=staff
    )
    run_deadline_sweep()  # warning and breach, long past
    from contracts import services as contract_services

    contract_services.work_order_line_add(
        work_order=work_order_a,
        service=f.service("proactive-credits"),
        quantity=Decimal("100"),
        by=staff,
    )
    credits_adjust(work_order=work_order_a, amount=Decimal("-60"), reason="test", by=staff)
    end = work_order_a.end_date
    for days_left in (90, 60, 30, 7, 0, -1):
        day = end - dt.timedelta(days=days_left)
        with time_machine.travel(dt.datetime.combine(day, dt.time(4, 5), tzinfo=dt.UTC)):
            run_entitlement_sweep(today=day)
    return incident


def test_every_event_validates_against_the_one_envelope_schema(everything):
    messages = list(OutboxMessage.objects.filter(channel="webhook"))
    events = {m.event for m in messages}
    # API.md's list: every one of them was built and checked.
    assert {
        "incident.created",
        "incident.updated",
        "incident.response_warning",
        "incident.response_breached",
        "incident.severity_changed",
        "credits.low",
        "work_order.expiring",
        "entitlement.expired",
    } <= events, events
    for message in messages:
        body = envelope_of(message)
        errors = sorted(VALIDATOR.iter_errors(body), key=str)
        assert not errors, (message.event, [e.message for e in errors[:3]])


def test_incident_data_is_exactly_what_get_returns(everything, api_staff):
    """The newest incident event carries the incident as GET returns it now (the
    sweep's breach moved version and updated_at, and the payload has them)."""
    latest = (
        OutboxMessage.objects.filter(channel="webhook", event__startswith="incident.")
        .order_by("-created_at", "-id")
        .first()
    )
    got = api_staff.get(f"/api/v1/incidents/{everything.pk}/").json()
    assert envelope_of(latest)["data"] == got


def test_incident_created_carries_the_incident_as_created(work_order_a, contact_a, api_staff):
    response = api_staff.post(
        "/api/v1/incidents/",
        {
            "work_order": work_order_a.pk,
            "contact": contact_a.email,
            "title": "Mail is down",
            "severity": "normal",
            "external_reference": "T-9",
        },
    )
    assert response.status_code == 201, response.content
    created = OutboxMessage.objects.get(channel="webhook", event="incident.created")
    assert envelope_of(created)["data"] == response.json()
    assert (
        envelope_of(created)["data"]
        == api_staff.get(f"/api/v1/incidents/{response.json()['id']}/").json()
    )


def test_links_use_the_configured_public_url(everything):
    created = OutboxMessage.objects.get(channel="webhook", event="incident.created")
    assert created.payload["detail"]["url"].startswith("https://support.example.com/incidents/")
    email = OutboxMessage.objects.filter(channel="email", event="incident.created").first()
    # Rendered by the delivery worker (issue #20): render it as the worker does.
    body = email.body or rendering.render_row(email)[1]
    assert "https://support.example.com/incidents/" in body
    expiring = OutboxMessage.objects.filter(channel="webhook", event="work_order.expiring").first()
    assert expiring.payload["data"]["detail"]["url"].startswith("https://support.example.com/")


def test_the_sweep_moves_version_and_updated_at_of_a_breached_incident(
    work_order_a, contact_a, staff, api_staff
):
    incident = f.open_incident(
        work_order=work_order_a,
        contact=contact_a,
        title="Slow",
        opened_at=timezone.now() - dt.timedelta(days=5),
        by=staff,
    )
    before = api_staff.get(f"/api/v1/incidents/{incident.pk}/").json()
    run_deadline_sweep()
    after = api_staff.get(f"/api/v1/incidents/{incident.pk}/").json()
    assert after["version"] > before["version"]
    assert after["updated_at"] > before["updated_at"]
    # ... and a sync client finds it again after what it had.
    changed = api_staff.get("/api/v1/incidents/", {"updated_after": before["updated_at"]}).json()
    assert [row["id"] for row in changed["results"]] == [incident.pk]
    breach = OutboxMessage.objects.get(channel="webhook", event="incident.response_breached")
    assert breach.payload["data"] == after


def test_a_delivery_body_is_the_envelope(everything):
    sub = WebhookSubscription.objects.create(
        url="https://hooks.example/in", events=["incident.created"], secret="x" * 20
    )
    message = OutboxMessage.objects.get(channel="webhook", event="incident.created")
    fan_out(message)
    delivery = WebhookDelivery.objects.get(subscription=sub)
    body = json.loads(body_of(delivery))
    assert not list(VALIDATOR.iter_errors(body))
    assert body["id"] == str(delivery.delivery_id)


# --- the whole incident, assignee included; assignment sends incident.updated ----------


def test_the_schema_lists_every_field_of_the_incident_as_get_returns_it(incident_a, api_staff):
    got = api_staff.get(f"/api/v1/incidents/{incident_a.pk}/").json()
    incident = SCHEMA["$defs"]["incident"]
    assert set(incident["properties"]) == set(got)
    assert set(incident["required"]) == set(got)
    assert incident["additionalProperties"] is False


def _assigned(incident) -> dict:
    """The newest webhook of the incident: an `incident.updated` for the assignment."""
    message = (
        OutboxMessage.objects.filter(channel="webhook", key__contains=f"incident:{incident.pk}:")
        .order_by("-created_at", "-id")
        .first()
    )
    assert message is not None and message.event == "incident.updated"
    assert ":assigned:" in message.key
    body = envelope_of(message)
    assert not list(VALIDATOR.iter_errors(body))
    return body


def test_an_api_assignment_sends_incident_updated_with_the_whole_incident(
    api_staff, incident_a, staff
):
    dora = f.StaffFactory(username="dora", email="dora@vendor.example")
    url = f"/api/v1/incidents/{incident_a.pk}/"
    assert api_staff.patch(url, {"assignee": dora.username}).status_code == 200
    body = _assigned(incident_a)
    got = api_staff.get(url).json()
    assert body["data"] == got  # every field, assignee included
    assert got["assignee"] == "dora"
    assert body["detail"]["assigned_to"] == "dora" and body["detail"]["previous_assignee"] is None
    # Unassigning is an update too.
    assert api_staff.patch(url, {"assignee": None}, format="json").status_code == 200
    body = _assigned(incident_a)
    assert body["data"] == api_staff.get(url).json()
    assert body["data"]["assignee"] is None and body["detail"]["previous_assignee"] == "dora"


def test_a_desk_assignment_sends_incident_updated(client_staff, api_staff, incident_a, staff):
    from django.urls import reverse

    response = client_staff.post(reverse("incidents:assign", args=[incident_a.pk]), {"me": "1"})
    assert response.status_code == 302
    body = _assigned(incident_a)
    got = api_staff.get(f"/api/v1/incidents/{incident_a.pk}/").json()
    assert body["data"] == got and got["assignee"] == staff.username


def test_a_bulk_assignment_sends_incident_updated_for_each(
    client_staff, api_staff, incident_a, work_order_a, contact_a, staff
):
    from django.urls import reverse

    other = f.open_incident(work_order=work_order_a, contact=contact_a, title="Two", by=staff)
    data = {"incidents": [incident_a.pk, other.pk], "assignee": staff.pk, "confirm": "true"}
    assert client_staff.post(reverse("incidents:bulk"), data).status_code == 302
    for incident in (incident_a, other):
        body = _assigned(incident)
        got = api_staff.get(f"/api/v1/incidents/{incident.pk}/").json()
        assert body["data"] == got and got["assignee"] == staff.username


def test_the_assignment_webhook_is_due_at_once_and_asked_for_on_commit(api_staff, incident_a):
    from django.db import connection

    f.StaffFactory(username="erin", email="erin@vendor.example")
    connection.run_on_commit.clear()  # the fixtures' own request is no longer pending
    response = api_staff.patch(f"/api/v1/incidents/{incident_a.pk}/", {"assignee": "erin"})
    assert response.status_code == 200
    message = OutboxMessage.objects.get(
        channel="webhook", event="incident.updated", key__contains=":assigned:"
    )
    # Due now, not held for a digest; a delivery run is asked for when the write commits.
    assert message.deliver_after <= timezone.now()
    pending = [callback.__name__ for _, callback, _ in connection.run_on_commit]
    assert "_enqueue_delivery" in pending, pending
