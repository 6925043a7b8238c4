"""API.md Revision 2, "Provisioning": "A body field that the endpoint does not know is 400
naming it, never silently ignored." Every writable resource, on PATCH and on create,
with an unknown field and with a field it only reads: 400 naming the field, and the
object (or the set) is left as it was."""

from decimal import Decimal

import pytest

from tests import factories as f


@pytest.fixture
def line_a(work_order_a, staff):
    from contracts import services

    return services.work_order_line_add(
        work_order=work_order_a,
        service=f.service("proactive-credits"),
        quantity=Decimal("10"),
        by=staff,
    )


def _patch_urls(customer_a, work_order_a, contact_a, incident_a, line_a):
    return {
        "customer": (f"/api/v1/customers/{customer_a.code}/", {"name": "Renamed"}),
        "location": (
            f"/api/v1/locations/{work_order_a.support_location_id}/",
            {"name": "Renamed"},
        ),
        "work_order": (f"/api/v1/work-orders/{work_order_a.pk}/", {"low_credit_threshold": 7}),
        "line": (
            f"/api/v1/work-orders/{work_order_a.pk}/lines/{line_a.pk}/",
            {"quantity": "12"},
        ),
        "contact": (
            f"/api/v1/work-orders/{work_order_a.pk}/contacts/{contact_a.pk}/",
            {"phone": "+31 10 123 4567"},
        ),
        "incident": (f"/api/v1/incidents/{incident_a.pk}/", {"title": "Renamed"}),
    }


#: A field each resource's GET returns but no write may set.
READ_ONLY = {
    "customer": "updated_at",
    "location": "id",
    "work_order": "status",
    "line": "used",
    "contact": "updated_at",
    "incident": "number",
}

RESOURCES = sorted(READ_ONLY)


@pytest.mark.parametrize("resource", RESOURCES)
@pytest.mark.parametrize("kind", ["unknown", "read_only"])
def test_a_patch_naming_an_unknown_or_read_only_field_is_400_and_changes_nothing(
    api_staff, customer_a, work_order_a, contact_a, incident_a, line_a, resource, kind
):
    url, good = _patch_urls(customer_a, work_order_a, contact_a, incident_a, line_a)[resource]
    detail = url if resource != "line" else f"/api/v1/work-orders/{work_order_a.pk}/lines/"
    before = api_staff.get(detail).json()
    name = "colour" if kind == "unknown" else READ_ONLY[resource]
    body = {**good, name: "2020-01-01T00:00:00Z" if name == "updated_at" else "x"}
    response = api_staff.patch(url, body, format="json")
    assert response.status_code == 400, (resource, response.status_code, response.content)
    assert name in response.json(), response.json()
    assert api_staff.get(detail).json() == before


CREATES = {
    "location": lambda c, w: f"/api/v1/customers/{c.code}/locations/",
    "line": lambda c, w: f"/api/v1/work-orders/{w.pk}/lines/",
    "contact": lambda c, w: f"/api/v1/work-orders/{w.pk}/contacts/",
    "time_entry": lambda c, w: f"/api/v1/work-orders/{w.pk}/time-entries/",
    "redemption": lambda c, w: f"/api/v1/work-orders/{w.pk}/redemptions/",
    "work_order": lambda c, w: "/api/v1/work-orders/",
    "customer": lambda c, w: "/api/v1/customers/",
    "rate": lambda c, w: "/api/v1/rates/",
    "webhook": lambda c, w: "/api/v1/webhooks/",
    "incident": lambda c, w: "/api/v1/incidents/",
}


@pytest.mark.parametrize("resource", sorted(CREATES))
def test_a_create_naming_an_unknown_field_is_400_and_creates_nothing(
    api_staff, customer_a, work_order_a, resource
):
    url = CREATES[resource](customer_a, work_order_a)
    before = api_staff.get(url).json()
    response = api_staff.post(url, {"colour": "red"}, format="json")
    assert response.status_code == 400, (resource, response.status_code, response.content)
    assert "colour" in response.json(), response.json()
    assert api_staff.get(url).json()["count"] == before["count"]


def test_a_comment_naming_an_unknown_field_is_400(api_staff, incident_a):
    url = f"/api/v1/incidents/{incident_a.pk}/comments/"
    response = api_staff.post(url, {"body": "hello", "colour": "red"}, format="json")
    assert response.status_code == 400 and "colour" in response.json()
    assert api_staff.get(url).json()["count"] == 0


def test_an_attachment_naming_an_unknown_field_is_400(api_staff, incident_a):
    from django.core.files.uploadedfile import SimpleUploadedFile

    url = f"/api/v1/incidents/{incident_a.pk}/attachments/"
    upload = SimpleUploadedFile("log.txt", b"hello", content_type="text/plain")
    response = api_staff.post(url, {"file": upload, "colour": "red"}, format="multipart")
    assert response.status_code == 400 and "colour" in response.json()
    assert api_staff.get(url).json()["count"] == 0


@pytest.mark.parametrize("fmt", ["json", "multipart"])
def test_a_webhook_customer_that_is_empty_is_400_not_every_customer(api_staff, fmt):
    body = {"url": "https://hooks.example/e", "events": ["incident.created"], "customer": ""}
    response = api_staff.post("/api/v1/webhooks/", body, format=fmt)
    assert response.status_code == 400 and "customer" in response.json()
    assert api_staff.get("/api/v1/webhooks/").json()["count"] == 0
