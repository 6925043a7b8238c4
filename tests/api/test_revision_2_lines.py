"""Lines of API.md's "Revision 2" that had no test of their own (issue #16's note lists
every line with the test that proves it)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from incidents.models import Incident
from notifications.models import OutboxMessage
from tests import factories as f


def test_a_location_edit_recomputes_the_open_incidents_that_use_it(
    api_staff, incident_a, django_capture_on_commit_callbacks
):  # R5: "an edit recomputes the open incidents that use it"
    url = f"/api/v1/incidents/{incident_a.pk}/"
    before = api_staff.get(url).json()
    location = incident_a.work_order.support_location
    due_day = incident_a.response_due_at.astimezone(
        __import__("zoneinfo").ZoneInfo(location.timezone)
    ).date()
    with django_capture_on_commit_callbacks(execute=True):
        response = api_staff.patch(
            f"/api/v1/locations/{location.pk}/", {"closures": [due_day.isoformat()]}, format="json"
        )
    assert response.status_code == 200, response.content
    after = api_staff.get(url).json()
    assert after["response_due_at"] > before["response_due_at"]
    assert after["version"] > before["version"] and after["updated_at"] > before["updated_at"]


def test_lines_in_a_work_order_patch_replace_the_whole_set(api_staff, work_order_a, staff):
    from contracts import services

    services.work_order_line_add(
        work_order=work_order_a, service=f.service("proactive-credits"), quantity=10, by=staff
    )
    services.work_order_line_add(
        work_order=work_order_a, service=f.service("dse"), quantity=Decimal("40"), by=staff
    )
    url = f"/api/v1/work-orders/{work_order_a.pk}/"
    response = api_staff.patch(
        url, {"lines": [{"service": "proactive-credits", "quantity": "20"}]}, format="json"
    )
    assert response.status_code == 200, response.content
    lines = {line["service"]: line["quantity"] for line in response.json()["lines"]}
    assert set(lines) == {"proactive-credits"}  # dse is gone: the set was replaced
    assert Decimal(str(lines["proactive-credits"])) == 20


def test_a_deactivated_contact_can_no_longer_file(api_staff, api_a, work_order_a, contact_a):
    # R2/R25: `active: false` ends the contact's right to file; its history is kept.
    url = f"/api/v1/work-orders/{work_order_a.pk}/contacts/{contact_a.pk}/"
    assert api_staff.patch(url, {"active": False}, format="json").status_code == 200
    response = api_a.post(
        "/api/v1/incidents/",
        {
            "work_order": work_order_a.pk,
            "contact": contact_a.email,
            "title": "t",
            "severity": "normal",
        },
    )
    assert response.status_code in (400, 403, 409), response.content
    assert not Incident.objects.filter(title="t").exists()
    assert api_staff.get(url).json()["active"] is False


def test_the_timeline_is_every_event_oldest_first(api_staff, incident_a):
    url = f"/api/v1/incidents/{incident_a.pk}/"
    api_staff.post(f"{url}comments/", {"body": "Looking"}, format="json")
    api_staff.post(f"{url}respond/", {}, format="json")
    api_staff.patch(url, {"status": "in_progress"})
    entries = api_staff.get(f"{url}timeline/").json()["results"]
    assert len(entries) >= 4
    stamps = [(e["created_at"], e["id"]) for e in entries]
    assert stamps == sorted(stamps)


def test_a_work_order_event_carries_the_work_order_as_get_returns_it(api_staff, credits_a, staff):
    from credits.entitlements import run_entitlement_sweep
    from credits.services import credits_adjust

    credits_a.account_manager = staff
    credits_a.low_credit_threshold = 50
    credits_a.save()
    credits_adjust(work_order=credits_a, amount=Decimal("-60"), reason="test", by=staff)
    run_entitlement_sweep()
    low = OutboxMessage.objects.get(channel="webhook", event="credits.low")
    data = dict(low.payload["data"])
    detail = data.pop("detail")
    assert data == api_staff.get(f"/api/v1/work-orders/{credits_a.pk}/").json()
    assert detail["url"].endswith(f"/work-orders/{credits_a.pk}/") and "balance" in str(detail)


def test_a_throttled_request_is_json(api_a):
    from django.core.cache import cache
    from rest_framework.settings import api_settings

    from core.api.throttling import ApiKeyRateThrottle

    cache.clear()
    original = ApiKeyRateThrottle.THROTTLE_RATES
    ApiKeyRateThrottle.THROTTLE_RATES = {**api_settings.DEFAULT_THROTTLE_RATES, "api_key": "3/min"}
    try:
        responses = [api_a.get("/api/v1/services/") for _ in range(4)]
    finally:
        ApiKeyRateThrottle.THROTTLE_RATES = original
        cache.clear()
    response = responses[-1]
    assert response.status_code == 429
    assert response["Content-Type"].startswith("application/json") and response.json()["detail"]


@pytest.mark.parametrize("method", ["get", "post", "patch", "delete"])
def test_a_server_error_is_json_whatever_the_method(key_staff, monkeypatch, method):
    from services.api.views import ServiceViewSet

    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(ServiceViewSet, "initial", boom)
    client = Client(raise_request_exception=False)
    response = getattr(client, method)(
        "/api/v1/services/",
        HTTP_AUTHORIZATION="Bearer sp_staff_" + "s" * 40,
        content_type="application/json",
    )
    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json")
    assert "boom" not in response.content.decode()  # never the exception's text


def test_an_unauthenticated_request_is_json_whatever_the_method(db):
    client = Client()
    for method in ("get", "post", "patch", "delete", "put"):
        response = getattr(client, method)(
            "/api/v1/incidents/", HTTP_AUTHORIZATION="Bearer nope", content_type="application/json"
        )
        assert response.status_code == 401, (method, response.status_code)
        assert response["Content-Type"].startswith("application/json")


def test_an_updated_after_in_the_future_is_an_empty_list_on_nested_lists_too(
    api_staff, incident_a, work_order_a
):
    future = (timezone.now() + dt.timedelta(days=1)).isoformat().replace("+00:00", "Z")
    for path in (
        f"/api/v1/incidents/{incident_a.pk}/timeline/",
        f"/api/v1/incidents/{incident_a.pk}/comments/",
        f"/api/v1/work-orders/{work_order_a.pk}/contacts/",
        f"/api/v1/work-orders/{work_order_a.pk}/lines/",
        f"/api/v1/customers/{work_order_a.customer.code}/locations/",
    ):
        response = api_staff.get(path, {"updated_after": future})
        assert response.status_code == 200, (path, response.content)
        assert response.json()["results"] == [], path
        past = api_staff.get(path, {"updated_after": "2000-01-01T00:00:00Z", "ordering": "-id"})
        assert past.status_code == 200, (path, past.content)


def _moved(api, incident, before):
    after = api.get(f"/api/v1/incidents/{incident.pk}/").json()
    return after["updated_at"] > before["updated_at"] and after["version"] > before["version"]


def test_the_worker_moves_updated_at_for_a_warning_and_an_escalation(
    api_staff, work_order_a, contact_a, staff
):
    """ "It moves on every change to the object, whoever makes it: ... the worker (a
    warning, a breach, an escalation, ...)" (a breach: test_webhook_envelope.py)."""
    import time_machine

    from incidents.sweep import run_deadline_sweep

    normal = f.open_incident(work_order=work_order_a, contact=contact_a, title="n", by=staff)
    critical = f.open_incident(
        work_order=work_order_a, contact=contact_a, title="c", severity="critical", by=staff
    )
    normal.refresh_from_db()
    critical.refresh_from_db()
    # R8: a critical Advanced incident's status update falls due (the escalation's
    # clock), before anything of the normal one.
    assert critical.next_status_update_at < normal.response_warning_at < normal.response_due_at
    before = {i.pk: api_staff.get(f"/api/v1/incidents/{i.pk}/").json() for i in (normal, critical)}
    with time_machine.travel(critical.next_status_update_at + dt.timedelta(seconds=30)):
        run_deadline_sweep()
    assert _moved(api_staff, critical, before[critical.pk])
    before[normal.pk] = api_staff.get(f"/api/v1/incidents/{normal.pk}/").json()
    with time_machine.travel(normal.response_warning_at + dt.timedelta(seconds=30)):
        run_deadline_sweep()
    assert _moved(api_staff, normal, before[normal.pk])  # the response warning
