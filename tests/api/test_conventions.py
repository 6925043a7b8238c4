"""API.md's conventions: idempotency, If-Match, errors (never a 500 for bad input),
pagination, UTC timestamps, domain conflicts as 409, throttling."""

import datetime as dt

import pytest
from django.core.cache import cache
from django.utils import timezone

from contracts.models import NamedContact
from core.models import IdempotencyRecord
from credits.models import Redemption
from incidents.models import Incident
from tests import factories as f


def incident_body(work_order, **extra):
    return {
        "work_order": work_order.pk,
        "contact": "bob@acme.example",
        "title": "Mail is down",
        "severity": "normal",
        **extra,
    }


# --- Idempotency-Key ------------------------------------------------------------------


def test_same_idempotency_key_and_body_returns_the_first_response_and_creates_nothing(
    api_a, work_order_a, contact_a
):
    body = incident_body(work_order_a, external_reference="T-1")
    first = api_a.post("/api/v1/incidents/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = api_a.post("/api/v1/incidents/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Incident.objects.filter(external_reference="T-1").count() == 1


def test_same_idempotency_key_with_another_body_is_409(api_a, work_order_a, contact_a):
    api_a.post(
        "/api/v1/incidents/", incident_body(work_order_a), format="json", HTTP_IDEMPOTENCY_KEY="k-2"
    )
    other = api_a.post(
        "/api/v1/incidents/",
        incident_body(work_order_a, title="Other"),
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-2",
    )
    assert other.status_code == 409
    assert Incident.objects.count() == 1


def test_idempotency_keys_belong_to_their_principal(api_a, api_staff, work_order_a, contact_a):
    body = incident_body(work_order_a)
    assert (
        api_a.post(
            "/api/v1/incidents/", body, format="json", HTTP_IDEMPOTENCY_KEY="shared"
        ).status_code
        == 201
    )
    # The staff key's "shared" is another key: a new incident, not A's response.
    assert (
        api_staff.post(
            "/api/v1/incidents/", body, format="json", HTTP_IDEMPOTENCY_KEY="shared"
        ).status_code
        == 201
    )
    assert Incident.objects.count() == 2


def test_a_failed_request_stores_nothing_so_the_key_can_be_retried(api_a, work_order_a, contact_a):
    bad = api_a.post(
        "/api/v1/incidents/",
        incident_body(work_order_a, severity="urgent"),
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-3",
    )
    assert bad.status_code == 400
    assert not IdempotencyRecord.objects.filter(key="k-3").exists()
    good = api_a.post(
        "/api/v1/incidents/", incident_body(work_order_a), format="json", HTTP_IDEMPOTENCY_KEY="k-3"
    )
    assert good.status_code == 201


def test_idempotency_records_are_kept_at_least_24_hours(api_a, work_order_a, contact_a):
    api_a.post(
        "/api/v1/incidents/", incident_body(work_order_a), format="json", HTTP_IDEMPOTENCY_KEY="k-4"
    )
    IdempotencyRecord.objects.update(created_at=timezone.now() - dt.timedelta(hours=23, minutes=59))
    again = api_a.post(
        "/api/v1/incidents/", incident_body(work_order_a), format="json", HTTP_IDEMPOTENCY_KEY="k-4"
    )
    assert again["Idempotent-Replayed"] == "true"
    assert Incident.objects.count() == 1


def test_redemption_replay_with_idempotency_key_charges_once(
    api_a, credits_a, rate_workshops
):  # R10
    body = {
        "service": "workshops",
        "quantity": "3",
        "scheduled_for": str(timezone.localdate() + dt.timedelta(days=40)),
        "delivery_mode": "per_participant",
    }
    url = f"/api/v1/work-orders/{credits_a.pk}/redemptions/"
    first = api_a.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="r-1")
    second = api_a.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="r-1")
    assert first.status_code == second.status_code == 201
    assert Redemption.objects.count() == 1
    assert api_a.get(f"/api/v1/work-orders/{credits_a.pk}/credits/").json()["balance"] == 70


# --- If-Match / version -------------------------------------------------------------------


def test_if_match_with_a_stale_version_is_412_and_changes_nothing(api_a, incident_a):
    current = api_a.get(f"/api/v1/incidents/{incident_a.pk}/")
    version = current.json()["version"]
    assert current["ETag"] == f'"{version}"'
    ok = api_a.patch(
        f"/api/v1/incidents/{incident_a.pk}/",
        {"description": "first"},
        format="json",
        HTTP_IF_MATCH=str(version),
    )
    assert ok.status_code == 200
    assert ok.json()["version"] == version + 1
    stale = api_a.patch(
        f"/api/v1/incidents/{incident_a.pk}/",
        {"description": "second"},
        format="json",
        HTTP_IF_MATCH=str(version),
    )
    assert stale.status_code == 412
    incident_a.refresh_from_db()
    assert incident_a.description == "first"


def test_if_match_on_work_orders_is_412_when_stale(api_staff, work_order_a):
    url = f"/api/v1/work-orders/{work_order_a.pk}/"
    version = api_staff.get(url).json()["version"]
    assert (
        api_staff.patch(
            url, {"named_contact_limit": 70}, format="json", HTTP_IF_MATCH=f'"{version}"'
        ).status_code
        == 200
    )
    assert (
        api_staff.patch(
            url, {"named_contact_limit": 80}, format="json", HTTP_IF_MATCH=f'"{version}"'
        ).status_code
        == 412
    )


def test_if_match_that_is_not_a_version_is_400(api_a, incident_a):
    response = api_a.patch(
        f"/api/v1/incidents/{incident_a.pk}/",
        {"description": "x"},
        format="json",
        HTTP_IF_MATCH="abc",
    )
    assert response.status_code == 400
    assert "If-Match" in response.json()


# --- bad input is 400, never 500 -------------------------------------------------------


def test_malformed_json_is_400(api_a, work_order_a):
    response = api_a.post("/api/v1/incidents/", '{"title": ', content_type="application/json")
    assert response.status_code == 400


@pytest.mark.parametrize(
    "change",
    [
        {"work_order": "not-a-number"},
        {"work_order": [1, 2]},
        {"severity": "urgent"},
        {"title": None},
        {"is_cloud": "perhaps"},
        {"opened_at": "yesterday-ish"},
        {"contact": "nobody@acme.example"},
        {"title": "x" * 5000},
    ],
)
def test_wrong_types_and_unknown_values_are_400_naming_the_field(
    api_staff, work_order_a, contact_a, change
):
    response = api_staff.post(
        "/api/v1/incidents/", {**incident_body(work_order_a), **change}, format="json"
    )
    assert response.status_code == 400
    assert set(change) & set(response.json())


def test_a_customer_key_sending_opened_at_is_400_naming_the_field(
    api_a, work_order_a, contact_a
):  # R2
    earlier = (timezone.now() - dt.timedelta(hours=2)).isoformat()
    response = api_a.post(
        "/api/v1/incidents/", incident_body(work_order_a, opened_at=earlier), format="json"
    )
    assert response.status_code == 400
    assert "opened_at" in response.json()


def test_a_staff_key_may_backdate_opened_at_but_not_into_the_future(
    api_staff, work_order_a, contact_a
):  # R2
    earlier = (timezone.now() - dt.timedelta(hours=2)).replace(microsecond=0)
    ok = api_staff.post(
        "/api/v1/incidents/",
        incident_body(work_order_a, opened_at=earlier.isoformat()),
        format="json",
    )
    assert ok.status_code == 201
    assert ok.json()["opened_at"] == earlier.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    future = (timezone.now() + dt.timedelta(hours=2)).isoformat()
    bad = api_staff.post(
        "/api/v1/incidents/", incident_body(work_order_a, opened_at=future), format="json"
    )
    assert bad.status_code == 400
    assert "opened_at" in bad.json()


def test_patch_refuses_severity_and_points_to_the_severity_endpoint(api_a, incident_a):  # R3
    response = api_a.patch(
        f"/api/v1/incidents/{incident_a.pk}/", {"severity": "critical"}, format="json"
    )
    assert response.status_code == 400
    assert "severity" in response.json()["severity"][0]


@pytest.mark.parametrize(
    "query",
    [
        "page_size=100000",
        "page_size=-3",
        "page_size=abc",
        "page=99999",
        "page=abc",
        "work_order=abc",
        "opened_after=notadate",
        "status=bogus",
        "breached=maybe",
        "work_order=99999999999999999999999",
    ],
)
def test_odd_query_parameters_never_cause_a_500(api_staff, incident_a, query):
    response = api_staff.get(f"/api/v1/incidents/?{query}")
    assert response.status_code in (200, 400, 404)


def test_huge_page_size_is_clamped_to_200(api_staff):
    body = api_staff.get("/api/v1/services/?page_size=100000").json()
    assert len(body["results"]) == body["count"] <= 200
    assert set(body) == {"count", "next", "previous", "results"}


# --- filters ---------------------------------------------------------------------------


def test_incidents_filter_by_external_reference_status_severity_breached_and_opened_range(
    api_staff, incident_a, incident_b
):
    def refs(query):
        return [
            i["external_reference"]
            for i in api_staff.get(f"/api/v1/incidents/?{query}").json()["results"]
        ]

    assert refs("external_reference=ACME-1") == ["ACME-1"]
    assert sorted(refs("status=new&severity=normal")) == ["ACME-1", "GLOBEX-1"]
    assert refs(f"work_order={incident_b.work_order_id}") == ["GLOBEX-1"]
    assert refs("breached=true") == []
    after = (timezone.now() + dt.timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    assert refs(f"opened_after={after}") == []


# --- domain conflicts --------------------------------------------------------------------


def test_contact_past_the_core_limit_is_409(api_staff, customer_a):  # R1
    work_order = f.WorkOrderFactory(customer=customer_a, package="core")
    for i in range(10):
        f.NamedContactFactory(work_order=work_order, email=f"c{i}@acme.example")
    response = api_staff.post(
        f"/api/v1/work-orders/{work_order.pk}/contacts/",
        {"email": "eleven@acme.example", "name": "Eleven"},
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["rule"] == "R1"
    assert NamedContact.objects.filter(work_order=work_order).count() == 10


def test_redemption_with_a_short_balance_is_409_and_charges_nothing(
    api_a, credits_a, rate_workshops
):  # R10
    body = {
        "service": "workshops",
        "quantity": "11",
        "scheduled_for": str(timezone.localdate() + dt.timedelta(days=40)),
        "delivery_mode": "per_participant",
    }
    response = api_a.post(f"/api/v1/work-orders/{credits_a.pk}/redemptions/", body, format="json")
    assert response.status_code == 409
    assert api_a.get(f"/api/v1/work-orders/{credits_a.pk}/credits/").json()["balance"] == 100


def test_work_order_create_with_lines_grants_credits(api_staff, customer_a):  # R10
    response = api_staff.post(
        "/api/v1/work-orders/",
        {
            "number": "WO-L",
            "customer": "acme",
            "package": "advanced",
            # R13: DSE is delivered for the work order's one support location.
            "support_location": f.SupportLocationFactory(customer=customer_a).pk,
            "start_date": str(timezone.localdate()),
            "end_date": str(timezone.localdate() + dt.timedelta(days=365)),
            "lines": [
                {"service": "proactive-credits", "quantity": "250"},
                {"service": "dse", "quantity": "40"},
            ],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    lines = {line["service"]: line for line in response.json()["lines"]}
    assert lines["dse"]["remaining"] == "40.00"
    assert (
        api_staff.get(f"/api/v1/work-orders/{response.json()['id']}/credits/").json()["balance"]
        == 250
    )


def test_customer_asking_for_another_severity_records_a_request_and_changes_nothing(
    api_a, incident_a
):  # R3
    response = api_a.post(
        f"/api/v1/incidents/{incident_a.pk}/severity/",
        {"severity": "critical", "reason": "all users down"},
        format="json",
    )
    assert response.status_code == 202
    assert response.json()["requested"] is True
    incident_a.refresh_from_db()
    assert incident_a.severity == "normal"


def test_staff_severity_change_recomputes_the_target(api_staff, incident_a):  # R3
    before = incident_a.response_due_at
    response = api_staff.post(
        f"/api/v1/incidents/{incident_a.pk}/severity/",
        {"severity": "critical", "reason": "confirmed"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["severity"] == "critical"
    incident_a.refresh_from_db()
    assert incident_a.response_due_at != before


# --- shapes ----------------------------------------------------------------------------


def test_timestamps_are_utc_with_z(api_a, incident_a):
    body = api_a.get(f"/api/v1/incidents/{incident_a.pk}/").json()
    assert body["opened_at"].endswith("Z")
    assert body["response_due_at"].endswith("Z")


def test_webhook_secret_is_returned_once_and_never_again(api_a):
    created = api_a.post(
        "/api/v1/webhooks/",
        {"url": "https://t.example/h", "events": ["incident.created"]},
        format="json",
    )
    assert created.status_code == 201
    assert created.json()["secret"].startswith("whsec_")
    listed = api_a.get("/api/v1/webhooks/").json()["results"][0]
    assert "secret" not in listed
    assert "secret" not in api_a.get(f"/api/v1/webhooks/{created.json()['id']}/").json()


def test_webhook_events_are_validated(api_a):
    response = api_a.post(
        "/api/v1/webhooks/",
        {"url": "https://t.example/h", "events": ["incident.exploded"]},
        format="json",
    )
    assert response.status_code == 400
    assert "events" in response.json()


def test_a_revoked_key_is_401(api_a, key_a):
    key_a.revoked_at = timezone.now()
    key_a.save()
    assert api_a.get("/api/v1/services/").status_code == 401


def test_a_key_past_its_rate_is_throttled_with_429(api_a, settings):
    from rest_framework.settings import api_settings

    cache.clear()
    rates = dict(api_settings.DEFAULT_THROTTLE_RATES)
    from core.api.throttling import ApiKeyRateThrottle

    original = ApiKeyRateThrottle.THROTTLE_RATES
    ApiKeyRateThrottle.THROTTLE_RATES = {**rates, "api_key": "3/min"}
    try:
        codes = [api_a.get("/api/v1/services/").status_code for _ in range(4)]
    finally:
        ApiKeyRateThrottle.THROTTLE_RATES = original
        cache.clear()
    assert codes == [200, 200, 200, 429]


def test_patching_lines_makes_the_work_order_hold_exactly_those_lines(
    api_staff, work_order_a
):  # R11, R13
    url = f"/api/v1/work-orders/{work_order_a.pk}/"
    api_staff.patch(
        url,
        {
            "lines": [
                {"service": "dse", "quantity": "40"},
                {"service": "onsite-support", "quantity": "2"},
            ]
        },
        format="json",
    )
    response = api_staff.patch(
        url, {"lines": [{"service": "dse", "quantity": "60"}]}, format="json"
    )
    assert response.status_code == 200, response.content
    assert [(line["service"], line["quantity"]) for line in response.json()["lines"]] == [
        ("dse", "60.00")
    ]


def test_rates_current_keeps_only_the_rate_in_force_today(api_a, customer_a):  # R10
    today = timezone.localdate()
    f.RateFactory(
        service=f.service("workshops"),
        credits_per_unit=10,
        valid_from=today - dt.timedelta(days=100),
    )
    f.RateFactory(
        service=f.service("workshops"),
        credits_per_unit=12,
        valid_from=today - dt.timedelta(days=10),
    )
    f.RateFactory(
        service=f.service("workshops"),
        credits_per_unit=15,
        valid_from=today + dt.timedelta(days=10),
    )
    f.RateFactory(
        service=f.service("workshops"),
        customer=customer_a,
        credits_per_unit=9,
        valid_from=today - dt.timedelta(days=5),
    )
    rows = api_a.get("/api/v1/rates/?current=true").json()["results"]
    assert sorted((r["customer"] or "default", r["credits_per_unit"]) for r in rows) == [
        ("acme", "9.0000"),
        ("default", "12.0000"),
    ]
    assert len(api_a.get("/api/v1/rates/").json()["results"]) == 4


def test_webhooks_can_be_deleted_by_url_on_the_collection(api_a, webhook_a, webhook_b):
    assert api_a.delete("/api/v1/webhooks/?url=http://127.0.0.1:9/acme").status_code == 204
    # B's subscription with B's url is out of A's reach.
    assert api_a.delete("/api/v1/webhooks/?url=http://127.0.0.1:9/globex").status_code == 404
    assert api_a.delete("/api/v1/webhooks/").status_code == 400
