"""Hardening round two (#22): what a hostile string, a deep body or an extreme date
did (500s, undeliverable e-mail), and the password reset throttle."""

import pytest
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

from incidents.models import Incident
from notifications.delivery import _send_email
from notifications.models import OutboxMessage


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


def incident_body(work_order, **extra):
    return {
        "work_order": work_order.pk,
        "contact": "bob@acme.example",
        "title": "Mail is down",
        "severity": "normal",
        **extra,
    }


# --- 3. control characters in single-line fields --------------------------------------


def test_a_line_break_in_an_incident_title_is_a_400(api_staff, work_order_a, contact_a):
    response = api_staff.post(
        "/api/v1/incidents/",
        incident_body(work_order_a, title="Down\r\nBcc: everyone@example.com"),
        format="json",
    )
    assert response.status_code == 400
    assert "title" in response.json()
    assert not Incident.objects.exists()


def test_a_line_break_in_a_description_is_fine(api_staff, work_order_a, contact_a):
    response = api_staff.post(
        "/api/v1/incidents/",
        incident_body(work_order_a, description="line one\nline two"),
        format="json",
    )
    assert response.status_code == 201, response.content


def test_an_e_mail_whose_subject_quotes_a_line_break_is_still_sent(db, customer_a):
    row = OutboxMessage.objects.create(
        key="incident:1:created:email:am@x",
        event="incident.created",
        channel="email",
        recipient="am@example.com",
        subject="New incident: Down\nBcc: victim@example.com",
        body="...",
    )
    _send_email(row, None)
    assert mail.outbox[-1].subject == "New incident: Down Bcc: victim@example.com"
    assert "victim" not in str(mail.outbox[-1].bcc)


# --- 5. NUL bytes, deep JSON, odd ids, extreme dates ----------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/rates/?service=a%00b",
        "/api/v1/rates/?customer=a%00b",
        "/api/v1/redemptions/?service=a%00b",
        "/api/v1/work-orders/?number=a%00b",
    ],
)
def test_a_nul_byte_in_an_api_filter_is_a_json_400(api_staff, path):
    response = api_staff.get(path)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")


def test_a_nul_byte_in_a_webhook_delete_filter_is_a_400(api_a):
    assert api_a.delete("/api/v1/webhooks/?url=http://x%00y/").status_code == 400


def test_a_nul_byte_in_the_customer_search_is_a_400(client_staff):
    assert client_staff.get("/customers/?q=a%00b").status_code == 400


def test_json_nested_1000_deep_is_a_400(api_staff):
    body = "[" * 1000 + "]" * 1000
    response = api_staff.generic(
        "POST", "/api/v1/incidents/", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")


def test_a_new_work_order_page_with_a_non_numeric_customer_is_not_a_500(client_staff):
    assert client_staff.get("/work-orders/new/?customer=abc").status_code == 200


@pytest.mark.parametrize("year", ["0001", "9999"])
def test_work_order_dates_of_year_1_or_9999_are_a_400(api_staff, customer_a, year):
    response = api_staff.post(
        "/api/v1/work-orders/",
        {
            "customer": customer_a.code,
            "number": "WO-EXTREME",
            "package": "advanced",
            "start_date": "2026-01-01",
            "end_date": f"{year}-12-31",
        },
        format="json",
    )
    assert response.status_code == 400, response.content


def test_opened_at_of_year_1_is_a_400(api_staff, work_order_a, contact_a):
    response = api_staff.post(
        "/api/v1/incidents/",
        incident_body(work_order_a, opened_at="0001-01-01T00:00:00Z"),
        format="json",
    )
    assert response.status_code == 400
    assert "opened_at" in response.json()


# --- 7. password reset throttle --------------------------------------------------------


def test_password_reset_is_throttled_per_address(client, user_a):
    statuses = [
        client.post(reverse("password_reset"), {"email": user_a.email}).status_code
        for _ in range(8)
    ]
    assert statuses[:5] == [302] * 5
    assert statuses[5:] == [429] * 3
    assert len(mail.outbox) == 5  # nothing sent past the limit


def test_password_reset_is_throttled_per_client(client, user_a):
    statuses = [
        client.post(reverse("password_reset"), {"email": f"nobody{i}@example.com"}).status_code
        for i in range(6)
    ]
    assert statuses[-1] == 429
    assert client.post(reverse("password_reset"), {"email": user_a.email}).status_code == 429
    assert len(mail.outbox) == 0
