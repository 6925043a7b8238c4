"""API.md Revision 2, "Errors and history": JSON for every error under /api/v1/,
whatever the method, size or cause; a key's change is recorded under the key's name."""

import json

import pytest

from incidents.models import Incident


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_an_unknown_path_is_a_json_404_for_every_method(api_staff, client, method, db):
    for c in (api_staff, client):  # a key, and a browser without a CSRF token
        response = getattr(c, method)("/api/v1/no-such-thing/", {})
        assert response.status_code == 404, (method, response.status_code)
        assert response["Content-Type"].startswith("application/json")
        assert "detail" in response.json()


def test_a_5_mb_body_is_a_json_413_and_changes_nothing(api_staff, work_order_a, contact_a):
    body = json.dumps(
        {
            "work_order": work_order_a.pk,
            "contact": contact_a.email,
            "title": "big",
            "severity": "normal",
            "description": "x" * 5_000_000,
        }
    )
    response = api_staff.generic(
        "POST", "/api/v1/incidents/", body, content_type="application/json"
    )
    assert response.status_code == 413
    assert response["Content-Type"].startswith("application/json")
    assert "detail" in response.json()
    assert not Incident.objects.exists()


def test_a_session_write_without_csrf_is_json(user_a, incident_a):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user_a)
    response = browser.patch(
        f"/api/v1/incidents/{incident_a.pk}/", {"title": "x"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/json")


def test_a_method_not_allowed_is_json(api_staff, incident_a):
    response = api_staff.delete(f"/api/v1/incidents/{incident_a.pk}/")
    assert response.status_code == 405
    assert response["Content-Type"].startswith("application/json")


def test_history_records_the_key_name(api_staff, incident_a, key_staff):
    api_staff.patch(f"/api/v1/incidents/{incident_a.pk}/", {"title": "renamed by a tool"})
    record = Incident.history.filter(id=incident_a.pk).order_by("-history_id").first()
    assert key_staff.name in record.history_change_reason
    assert record.history_change_reason != "system"


def test_history_of_a_key_created_incident_names_the_key(api_a, key_a, work_order_a, contact_a):
    response = api_a.post(
        "/api/v1/incidents/",
        {
            "work_order": work_order_a.pk,
            "contact": contact_a.email,
            "title": "t",
            "severity": "normal",
        },
    )
    record = Incident.history.get(id=response.json()["id"], history_type="+")
    assert key_a.name in record.history_change_reason
