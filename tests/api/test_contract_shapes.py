"""API.md's resource table, field by field: every name it lists is in the response, with
the values it promises; timestamps are UTC with `Z`, dates `YYYY-MM-DD`. Fields may be
added (API.md allows it), so these check inclusion, never equality of the key set."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from incidents.choices import IncidentStatus, Severity
from services.choices import Availability

UTC_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
DATE = re.compile(r"^\d{4}-\d\d-\d\d$")


def assert_utc_z(*values):
    for value in values:
        assert value is None or UTC_Z.match(value), value


def assert_date(*values):
    for value in values:
        assert DATE.match(value), value


def test_services_carry_code_name_category_unit_and_availability_per_package(api_a):
    rows = api_a.get("/api/v1/services/?page_size=200").json()["results"]
    assert rows
    for row in rows:
        assert {"code", "name", "category", "unit", "availability"} <= set(row)
        assert set(row["availability"]) == {"core", "advanced", "performance"}
        assert set(row["availability"].values()) <= {
            "included",
            "add_on",
            "limited",
            "unavailable",
        }
    assert set(Availability.values) == {"included", "add_on", "limited", "unavailable"}
    # The codes API.md names are in the catalogue, with the units it describes.
    units = {row["code"]: row["unit"] for row in rows}
    assert units["proactive-credits"] == "credits"
    assert {units["dse"], units["developer-advanced"], units["rsm-add-on"]} == {"hours"}


def test_a_service_is_read_by_its_code(api_a):
    body = api_a.get("/api/v1/services/dse/").json()
    assert body["code"] == "dse"


def test_customers_carry_code_name_country_timezone_language(api_staff, customer_a):
    (row,) = [
        r for r in api_staff.get("/api/v1/customers/").json()["results"] if r["code"] == "acme"
    ]
    assert {"code", "name", "country", "timezone", "language"} <= set(row)
    assert (row["code"], row["country"], row["timezone"]) == ("acme", "NL", "Europe/Amsterdam")


def test_customer_create_takes_the_api_md_fields_and_returns_them(api_staff):
    body = {
        "code": "initech",
        "name": "Initech",
        "country": "US",
        "timezone": "America/Chicago",
        "language": "en",
    }
    response = api_staff.post("/api/v1/customers/", body, format="json")
    assert response.status_code == 201, response.content
    assert {k: response.json()[k] for k in body} == body


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"country": "Netherlands"}, "country"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"code": "x" * 40}, "code"),
        ({"code": "acme"}, "code"),  # unique
        ({"name": ""}, "name"),
    ],
)
def test_customer_create_refuses_bad_values_with_400_naming_the_field(
    api_staff, customer_a, change, field
):
    body = {"code": "newco", "name": "New", "country": "NL", "timezone": "Europe/Amsterdam"}
    response = api_staff.post("/api/v1/customers/", {**body, **change}, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_work_orders_carry_the_api_md_fields_and_lines(api_a, credits_a):
    body = api_a.get(f"/api/v1/work-orders/{credits_a.pk}/").json()
    assert {
        "id",
        "number",
        "customer",
        "package",
        "start_date",
        "end_date",
        "status",
        "named_contact_limit",
        "version",
        "lines",
    } <= set(body)
    assert body["customer"] == "acme"  # the code
    assert body["package"] in {"core", "advanced", "performance"}
    assert isinstance(body["version"], int)
    assert_date(body["start_date"], body["end_date"])
    (line,) = body["lines"]
    assert {"service", "quantity", "unit", "used", "remaining"} <= set(line)
    assert (line["service"], line["unit"]) == ("proactive-credits", "credits")


def test_named_contacts_carry_email_name_phone_active(api_a, work_order_a, contact_a):
    (row,) = api_a.get(f"/api/v1/work-orders/{work_order_a.pk}/contacts/").json()["results"]
    assert {"email", "name", "phone", "active"} <= set(row)
    assert (row["email"], row["active"]) == ("bob@acme.example", True)


def test_rates_carry_service_customer_credits_per_unit_and_valid_from(
    api_staff, customer_a, rate_workshops
):
    from tests import factories as f

    f.RateFactory(service=f.service("workshops"), customer=customer_a, credits_per_unit="9.5")
    rows = api_staff.get("/api/v1/rates/").json()["results"]
    for row in rows:
        assert {"service", "customer", "credits_per_unit", "valid_from"} <= set(row)
        assert_date(row["valid_from"])
    # `customer` is a code, or null for the default rate; the rate is a decimal.
    assert sorted((r["customer"] or "", r["credits_per_unit"]) for r in rows) == [
        ("", "10.0000"),
        ("acme", "9.5000"),
    ]


def test_credits_carry_the_balance_and_the_ledger_entries(api_a, credits_a):
    body = api_a.get(f"/api/v1/work-orders/{credits_a.pk}/credits/").json()
    assert body["balance"] == 100
    (entry,) = body["entries"]
    assert {"kind", "amount", "balance_after", "created_at", "reference"} <= set(entry)
    assert (entry["kind"], entry["amount"], entry["balance_after"]) == ("grant", 100, 100)
    assert_utc_z(entry["created_at"])


def test_redemptions_carry_service_quantity_scheduled_for_and_credits(api_a, redemption_a):
    url = f"/api/v1/work-orders/{redemption_a.work_order_id}/redemptions/"
    (row,) = api_a.get(url).json()["results"]
    assert {"id", "service", "quantity", "scheduled_for", "credits"} <= set(row)
    assert (row["service"], row["credits"]) == ("workshops", 20)  # R10: 2 x 10 credits
    assert_date(row["scheduled_for"])
    assert_utc_z(row["created_at"], row["cancelled_at"])


def test_incidents_carry_every_field_of_the_api_md_table(api_a, incident_a):
    body = api_a.get(f"/api/v1/incidents/{incident_a.pk}/").json()
    assert {
        "id",
        "number",
        "work_order",
        "contact",
        "title",
        "description",
        "severity",
        "product",
        "is_cloud",
        "around_the_clock",
        "external_reference",
        "status",
        "opened_at",
        "response_due_at",
        "responded_at",
        "response_breached",
    } <= set(body)
    assert body["work_order"] == incident_a.work_order_id  # an id
    assert body["contact"] == "bob@acme.example"  # an e-mail
    assert body["severity"] in Severity.values
    assert body["status"] == "new"
    assert (body["is_cloud"], body["around_the_clock"], body["response_breached"]) == (
        False,
        False,
        False,
    )
    assert_utc_z(body["opened_at"], body["response_due_at"], body["responded_at"])


def test_incident_severity_and_status_values_are_exactly_api_md_s():
    assert set(Severity.values) == {"normal", "critical"}
    assert set(IncidentStatus.values) == {
        "new",
        "responded",
        "in_progress",
        "awaiting_customer",
        "resolved",
        "closed",
    }


def test_incident_defaults_on_create_are_api_md_s(api_a, work_order_a, contact_a):
    before = timezone.now()
    response = api_a.post(
        "/api/v1/incidents/",
        {
            "work_order": work_order_a.pk,
            "contact": "bob@acme.example",
            "title": "Down",
            "severity": "normal",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["is_cloud"], body["around_the_clock"], body["external_reference"]) == (
        False,
        False,
        "",
    )
    assert body["status"] == "new" and body["responded_at"] is None
    opened = dt.datetime.fromisoformat(body["opened_at"].replace("Z", "+00:00"))
    assert before - dt.timedelta(seconds=1) <= opened <= timezone.now()  # default now
    assert body["number"] and body["number"] != str(body["id"])  # human-readable


def test_incident_numbers_are_unique(api_a, work_order_a, contact_a):
    body = {
        "work_order": work_order_a.pk,
        "contact": "bob@acme.example",
        "title": "Down",
        "severity": "normal",
    }
    numbers = {
        api_a.post("/api/v1/incidents/", body, format="json").json()["number"] for _ in range(3)
    }
    assert len(numbers) == 3


def test_severity_request_and_webhook_timestamps_are_utc_with_z(api_a, incident_a):
    asked = api_a.post(
        f"/api/v1/incidents/{incident_a.pk}/severity/",
        {"severity": "critical", "reason": "all users down"},
        format="json",
    )
    assert asked.status_code == 202
    assert_utc_z(asked.json()["requested_at"])
    created = api_a.post(
        "/api/v1/webhooks/",
        {"url": "https://tickets.example/hook", "events": ["incident.created"]},
        format="json",
    )
    assert_utc_z(created.json()["created_at"])


def test_webhook_subscriptions_carry_url_and_events_and_the_secret_once(api_a):
    created = api_a.post(
        "/api/v1/webhooks/",
        {
            "url": "https://tickets.example/hook",
            "events": ["incident.created", "credits.low"],
            "secret": "my-own-secret-0123456789",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert {"url", "events", "secret"} <= set(body)
    assert body["secret"] == "my-own-secret-0123456789"  # a secret the client chose is kept
    assert body["events"] == ["incident.created", "credits.low"]


@pytest.mark.parametrize(
    "event",
    [
        "incident.created",
        "incident.updated",
        "incident.response_warning",
        "incident.response_breached",
        "incident.severity_changed",
        "credits.low",
        "work_order.expiring",
        "entitlement.expired",
    ],
)
def test_every_event_of_api_md_can_be_subscribed_to(api_a, event):
    response = api_a.post(
        "/api/v1/webhooks/",
        {"url": "https://tickets.example/hook", "events": [event]},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["events"] == [event]
