"""Every endpoint of API.md by persona: staff key, customer A's key, customer B's key,
no key. All objects belong to customer A; B gets 403/404 and never A's data."""

import datetime as dt

import pytest
from django.utils import timezone

PERSONAS = ["staff", "a", "b", "anon"]
A_MARKERS = [
    "acme",
    "WO-A-1",
    "ACME-1",
    "bob@acme.example",
    "A&#x27;s database",
    "A's database",
    "acme-secret",
]


def in_30_days() -> str:
    return (timezone.localdate() + dt.timedelta(days=30)).isoformat()


# (name, method, path template, body or None, expected status for staff, a, b, anon)
ENDPOINTS = [
    ("services", "get", "/api/v1/services/", None, (200, 200, 200, 401)),
    ("service", "get", "/api/v1/services/dse/", None, (200, 200, 200, 401)),
    ("customers", "get", "/api/v1/customers/", None, (200, 403, 403, 401)),
    ("customer", "get", "/api/v1/customers/acme/", None, (200, 403, 403, 401)),
    (
        "customer create",
        "post",
        "/api/v1/customers/",
        {
            "code": "initech",
            "name": "Initech",
            "country": "US",
            "timezone": "America/Chicago",
            "language": "en",
        },
        (201, 403, 403, 401),
    ),
    ("work orders", "get", "/api/v1/work-orders/", None, (200, 200, 200, 401)),
    (
        "work order create",
        "post",
        "/api/v1/work-orders/",
        {
            "number": "WO-NEW",
            "customer": "acme",
            "package": "core",
            "start_date": "2026-01-01",
            "end_date": "2030-12-31",
        },
        (201, 403, 403, 401),
    ),
    ("work order", "get", "/api/v1/work-orders/{wo}/", None, (200, 200, 404, 401)),
    (
        "work order patch",
        "patch",
        "/api/v1/work-orders/{wo}/",
        {"named_contact_limit": 60},
        (200, 403, 403, 401),
    ),
    ("contacts", "get", "/api/v1/work-orders/{wo}/contacts/", None, (200, 200, 404, 401)),
    (
        "contact add",
        "post",
        "/api/v1/work-orders/{wo}/contacts/",
        {"email": "new@acme.example", "name": "New"},
        (201, 201, 404, 401),
    ),
    ("rates", "get", "/api/v1/rates/", None, (200, 200, 200, 401)),
    (
        "rate create",
        "post",
        "/api/v1/rates/",
        {
            "service": "workshops",
            "customer": "acme",
            "credits_per_unit": "8.5",
            "valid_from": "2026-01-01",
        },
        (201, 403, 403, 401),
    ),
    ("credits", "get", "/api/v1/work-orders/{wo}/credits/", None, (200, 200, 404, 401)),
    ("redemptions", "get", "/api/v1/work-orders/{wo}/redemptions/", None, (200, 200, 404, 401)),
    (
        "redeem",
        "post",
        "/api/v1/work-orders/{wo}/redemptions/",
        {
            "service": "workshops",
            "quantity": "1",
            "scheduled_for": "+30d",
            "delivery_mode": "per_participant",
        },
        (201, 201, 404, 401),
    ),
    ("redemption", "get", "/api/v1/redemptions/{red}/", None, (200, 200, 404, 401)),
    (
        "cancel",
        "post",
        "/api/v1/redemptions/{red}/cancel/",
        {"reason": "moved"},
        (200, 200, 404, 401),
    ),
    (
        "reschedule",
        "post",
        "/api/v1/redemptions/{red}/reschedule/",
        {"scheduled_for": "+45d", "reason": "venue"},
        (200, 200, 404, 401),
    ),
    ("incidents", "get", "/api/v1/incidents/", None, (200, 200, 200, 401)),
    (
        "incident create",
        "post",
        "/api/v1/incidents/",
        {
            "work_order": "{wo}",
            "contact": "bob@acme.example",
            "title": "Down",
            "severity": "normal",
        },
        (201, 201, 400, 401),
    ),
    ("incident", "get", "/api/v1/incidents/{inc}/", None, (200, 200, 404, 401)),
    (
        "incident patch",
        "patch",
        "/api/v1/incidents/{inc}/",
        {"description": "more detail"},
        (200, 200, 404, 401),
    ),
    ("respond", "post", "/api/v1/incidents/{inc}/respond/", {}, (200, 403, 403, 401)),
    (
        "severity",
        "post",
        "/api/v1/incidents/{inc}/severity/",
        {"severity": "critical", "reason": "production down"},
        (200, 202, 404, 401),
    ),
    ("webhooks", "get", "/api/v1/webhooks/", None, (200, 200, 200, 401)),
    (
        "webhook create",
        "post",
        "/api/v1/webhooks/",
        {"url": "https://tickets.example/hook", "events": ["incident.created"]},
        (201, 201, 201, 401),
    ),
    ("webhook", "get", "/api/v1/webhooks/{hook}/", None, (200, 200, 404, 401)),
    ("webhook delete", "delete", "/api/v1/webhooks/{hook}/", None, (204, 204, 404, 401)),
    ("webhook delete by id", "delete", "/api/v1/webhooks/?id={hook}", None, (204, 204, 404, 401)),
    # The incident conversation (API.md Revision 2, issues #16/#17).
    ("comments", "get", "/api/v1/incidents/{inc}/comments/", None, (200, 200, 404, 401)),
    (
        "comment add",
        "post",
        "/api/v1/incidents/{inc}/comments/",
        {"body": "A's database is back?"},
        (201, 201, 404, 401),
    ),
    (
        "internal note add",
        "post",
        "/api/v1/incidents/{inc}/comments/",
        {"body": "Staff only", "internal": True},
        (201, 403, 404, 401),
    ),
    ("attachments", "get", "/api/v1/incidents/{inc}/attachments/", None, (200, 200, 404, 401)),
    (
        "attachment download",
        "get",
        "/api/v1/incidents/{inc}/attachments/{att}/download/",
        None,
        (200, 200, 404, 401),
    ),
    ("timeline", "get", "/api/v1/incidents/{inc}/timeline/", None, (200, 200, 404, 401)),
    ("explain", "get", "/api/v1/incidents/{inc}/explain/", None, (200, 200, 404, 401)),
    ("severity requests", "get", "/api/v1/severity-requests/", None, (200, 200, 200, 401)),
    ("severity request", "get", "/api/v1/severity-requests/{sreq}/", None, (200, 200, 404, 401)),
    (
        "severity request decline",
        "post",
        "/api/v1/severity-requests/{sreq}/decline/",
        {"reason": "One user only"},
        (200, 403, 403, 401),
    ),
    (
        "incident assign",
        "patch",
        "/api/v1/incidents/{inc}/",
        {"assignee": "alice"},
        (200, 403, 404, 401),
    ),
]


@pytest.fixture
def world(
    work_order_a,
    contact_a,
    credits_a,
    incident_a,
    redemption_a,
    webhook_a,
    work_order_b,
    contact_b,
    incident_b,
    attachment_a,
    severity_request_a,
):
    return {
        "wo": work_order_a.pk,
        "inc": incident_a.pk,
        "att": attachment_a.pk,
        "sreq": severity_request_a.pk,
        "red": redemption_a.pk,
        "hook": webhook_a.pk,
    }


def _client(request, persona):
    return request.getfixturevalue(
        {"staff": "api_staff", "a": "api_a", "b": "api_b", "anon": "api_anon"}[persona]
    )


def _fill(value, ids):
    if isinstance(value, str):
        if value == "+30d":
            return in_30_days()
        if value == "+45d":
            return (timezone.localdate() + dt.timedelta(days=45)).isoformat()
        out = value.format(**ids)
        return int(out) if value.startswith("{") and out.isdigit() else out
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
def test_endpoint_answers_each_persona_as_api_md_says(request, world, endpoint, persona):
    name, method, path, body, expected = endpoint
    client = _client(request, persona)
    url = path.format(**world)
    kwargs = {"format": "json"} if body is not None else {}
    response = (
        getattr(client, method)(url, _fill(body, world), **kwargs)
        if body is not None
        else getattr(client, method)(url)
    )
    assert response.status_code == expected[PERSONAS.index(persona)], (
        name,
        persona,
        response.content[:500],
    )
    if persona == "b":
        # B never receives anything of A's, whatever the status.
        text = response.content.decode()
        for marker in A_MARKERS:
            assert marker not in text, (name, marker, text[:500])


def test_customer_b_lists_only_its_own_rows(world, api_b, webhook_b):
    for url in [
        "/api/v1/work-orders/",
        "/api/v1/incidents/",
        "/api/v1/webhooks/",
        "/api/v1/rates/",
    ]:
        body = api_b.get(url).json()
        text = str(body)
        for marker in A_MARKERS:
            assert marker not in text, (url, marker)
    assert [i["external_reference"] for i in api_b.get("/api/v1/incidents/").json()["results"]] == [
        "GLOBEX-1"
    ]
    assert [w["url"] for w in api_b.get("/api/v1/webhooks/").json()["results"]] == [webhook_b.url]


def test_customer_b_cannot_file_on_a_work_order_and_is_not_told_it_exists(world, api_b):
    missing = api_b.post(
        "/api/v1/incidents/",
        {"work_order": 999999, "contact": "x@y.example", "title": "t", "severity": "normal"},
        format="json",
    )
    foreign = api_b.post(
        "/api/v1/incidents/",
        {
            "work_order": world["wo"],
            "contact": "bob@acme.example",
            "title": "t",
            "severity": "normal",
        },
        format="json",
    )
    assert missing.status_code == foreign.status_code == 400
    # The same message for an unknown id and for A's id: no hint that A's exists.
    assert missing.json()["work_order"][0].replace("999999", "X") == foreign.json()["work_order"][
        0
    ].replace(str(world["wo"]), "X")


def test_customer_webhook_subscription_is_always_for_its_own_customer(world, api_b):
    response = api_b.post(
        "/api/v1/webhooks/",
        {"url": "https://b.example/hook", "events": ["incident.created"], "customer": "acme"},
        format="json",
    )
    # Another customer's code reads as unknown (400), never as A's subscription.
    assert response.status_code == 400
    assert "customer" in response.json()


def test_browser_session_needs_csrf_for_writes_and_reads_its_own_rows(world, user_a):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user_a)
    listing = browser.get("/api/v1/incidents/")
    assert listing.status_code == 200
    # A's two incidents: incident_a and the one severity_request_a asks about.
    assert listing.json()["count"] == 2
    body = '{"description": "x"}'
    no_token = browser.patch(
        f"/api/v1/incidents/{world['inc']}/", body, content_type="application/json"
    )
    assert no_token.status_code == 403
    assert "CSRF" in no_token.json()["detail"]
    browser.get("/api/v1/incidents/")
    token = browser.cookies.get("csrftoken")
    if token is None:  # the API does not set the cookie itself; the portal's pages do
        from django.middleware.csrf import _get_new_csrf_string, _mask_cipher_secret

        secret = _get_new_csrf_string()
        browser.cookies["csrftoken"] = secret
        masked = _mask_cipher_secret(secret)
    else:
        masked = token.value
    with_token = browser.patch(
        f"/api/v1/incidents/{world['inc']}/",
        body,
        content_type="application/json",
        HTTP_X_CSRFTOKEN=masked,
    )
    assert with_token.status_code == 200, with_token.content
