"""API.md's error conventions: 400 with DRF's field-to-messages body, 401 without valid
credentials, 409 for a conflict with the current state, JSON throughout, never a 500
for bad input."""

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer not-a-key", "Bearer two parts", "Token abc", "Basic Ym9iOnNlY3JldA=="],
)
def test_requests_without_valid_credentials_are_401_with_a_bearer_challenge(
    db, key_a, authorization
):
    client = APIClient()
    if authorization:
        client.credentials(HTTP_AUTHORIZATION=authorization)
    response = client.get("/api/v1/incidents/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert "detail" in response.json()


def test_bad_input_is_400_with_a_list_of_messages_per_field(api_a, work_order_a, contact_a):
    response = api_a.post(
        "/api/v1/incidents/",
        {"work_order": work_order_a.pk, "contact": "not-an-email", "severity": "urgent"},
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert {"contact", "severity", "title"} <= set(body)
    assert all(isinstance(m, list) and all(isinstance(x, str) for x in m) for m in body.values())


def test_a_domain_rule_refusal_is_400_in_the_same_field_to_messages_shape(
    api_staff, customer_a
):  # R1
    response = api_staff.post(
        "/api/v1/work-orders/",
        {
            "number": "WO-CORE",
            "customer": "acme",
            "package": "core",
            "start_date": "2026-01-01",
            "end_date": "2030-12-31",
            "named_contact_limit": 20,
        },
        format="json",
    )
    assert response.status_code == 400
    (message,) = response.json()["named_contact_limit"]
    assert message.startswith("R1")


def test_a_conflict_is_409_with_detail_rule_and_code(api_a, credits_a, rate_workshops):  # R10
    scheduled = (timezone.localdate() + dt.timedelta(days=40)).isoformat()
    response = api_a.post(
        f"/api/v1/work-orders/{credits_a.pk}/redemptions/",
        {
            "service": "workshops",
            "quantity": "50",
            "scheduled_for": scheduled,
            "delivery_mode": "per_participant",
        },
        format="json",
    )
    assert response.status_code == 409
    body = response.json()
    assert body["rule"] == "R10" and body["detail"] and body["code"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/customers/",
        "/api/v1/work-orders/",
        "/api/v1/work-orders/{wo}/contacts/",
        "/api/v1/rates/",
        "/api/v1/work-orders/{wo}/redemptions/",
        "/api/v1/incidents/",
        "/api/v1/incidents/{inc}/respond/",
        "/api/v1/incidents/{inc}/severity/",
        "/api/v1/redemptions/{red}/cancel/",
        "/api/v1/webhooks/",
    ],
)
@pytest.mark.parametrize("body", ["[]", '"text"', "null", "42", '{"title": '])
def test_a_post_body_that_is_not_a_json_object_is_400_never_500(
    api_staff, work_order_a, incident_a, redemption_a, path, body
):
    url = path.format(wo=work_order_a.pk, inc=incident_a.pk, red=redemption_a.pk)
    response = api_staff.post(url, body, content_type="application/json")
    assert response.status_code == 400, (url, body, response.content[:300])
    assert response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize(
    "path", ["/api/v1/no-such-thing/", "/api/v1/incidents/1/no-such-action/", "/api/v1/v2/"]
)
def test_an_unknown_api_path_is_a_json_404(api_a, path):
    response = api_a.get(path)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert "detail" in response.json()


def test_an_api_path_without_its_trailing_slash_is_sent_to_it(api_a):
    response = api_a.get("/api/v1/services")
    assert response.status_code == 301
    assert response["Location"].endswith("/api/v1/services/")


def test_a_method_a_resource_does_not_offer_is_a_json_405(api_staff, incident_a):
    response = api_staff.delete(f"/api/v1/incidents/{incident_a.pk}/")
    assert response.status_code == 405
    assert "detail" in response.json()


def test_an_object_that_does_not_exist_is_a_json_404(api_staff):
    for path in [
        "/api/v1/incidents/999999/",
        "/api/v1/work-orders/999999/",
        "/api/v1/work-orders/999999/credits/",
        "/api/v1/redemptions/999999/cancel/",
        "/api/v1/incidents/abc/",
    ]:
        method = api_staff.post if path.endswith("cancel/") else api_staff.get
        response = method(path)
        assert response.status_code == 404, path
        assert "detail" in response.json()
