"""A PostgreSQL outage answers a clear 503 JSON (UI and API, before or inside the view),
writes nothing half-way, and the portal recovers by itself when the database is back."""

import socket
from contextlib import contextmanager

import pytest
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from incidents.models import Incident

pytestmark = pytest.mark.django_db(transaction=True)


def _closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return str(s.getsockname()[1])


@contextmanager
def database_down():
    """Points the connection at a closed port: every new connection is refused, as when
    PostgreSQL is stopped. Restored (and reconnected lazily) on exit."""
    original_port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = _closed_port()
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["PORT"] = original_port


def _assert_clear_503(response):
    assert response.status_code == 503, (response.status_code, response.content[:300])
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "database_unavailable"
    assert response["Retry-After"]
    assert b"Traceback" not in response.content


def test_a_signed_in_page_answers_503_json_when_the_session_lookup_fails(user_a):
    client = Client(raise_request_exception=False)
    client.force_login(user_a)
    with database_down():
        # The session and user are loaded by middleware, before any view runs.
        _assert_clear_503(client.get("/"))
        _assert_clear_503(client.get("/incidents/"))
    assert client.get("/").status_code == 200  # back without a restart


def test_the_api_answers_503_json_when_the_key_lookup_fails(key_a):
    api = APIClient(raise_request_exception=False)
    api.credentials(HTTP_AUTHORIZATION="Bearer sp_acme_" + "a" * 40)
    with database_down():
        _assert_clear_503(api.get("/api/v1/incidents/"))
        _assert_clear_503(api.get("/api/v1/work-orders/"))
    assert api.get("/api/v1/incidents/").status_code == 200


def test_an_anonymous_login_page_post_answers_503_json():
    client = Client(raise_request_exception=False)
    with database_down():
        _assert_clear_503(client.post("/accounts/login/", {"username": "x", "password": "y"}))


def test_healthz_reports_the_database_down_and_up_again(beat_ticking):
    client = Client(raise_request_exception=False)
    with database_down():
        response = client.get("/healthz")
        assert response.status_code == 503
        assert response.json()["checks"]["database"]["status"] == "error"
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json()["checks"]["database"]["status"] == "ok"


def test_filing_an_incident_during_an_outage_leaves_nothing_behind_and_works_after(
    key_a, work_order_a, contact_a
):
    api = APIClient(raise_request_exception=False)
    api.credentials(HTTP_AUTHORIZATION="Bearer sp_acme_" + "a" * 40)
    body = {
        "work_order": work_order_a.pk,
        "contact": contact_a.email,
        "title": "Outage test",
        "severity": "normal",
    }
    with database_down():
        _assert_clear_503(api.post("/api/v1/incidents/", body, format="json"))
    assert not Incident.objects.filter(title="Outage test").exists()
    response = api.post("/api/v1/incidents/", body, format="json")
    assert response.status_code == 201, response.content
    assert Incident.objects.filter(title="Outage test").count() == 1
