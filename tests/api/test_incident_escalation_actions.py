"""The R7/R8 escalation actions of /incidents/{id}/: `onsite/` and `product-escalations/`
(staff, Performance critical) and `rsm/` (Core; staff or the customer's own key). Each
records a timeline event and answers 201 with it, under Idempotency-Key."""

import datetime as dt
import json

import pytest
import time_machine

from core.models import IdempotencyRecord
from incidents.choices import EventKind
from incidents.models import IncidentEvent
from tests.incidents.support import ams, open_incident, work_order

OPENED = ams(2026, 3, 6, 16, 0)  # Friday, CET
DAY_LATER = OPENED + dt.timedelta(hours=24)

ONSITE = {"agreed_by": "Dana (IT lead)", "note": "Datacentre visit"}
TEAM = {"team": "Exchange Online", "note": "Mail queue stuck"}
RSM = {"reason": "Several teams involved, need coordination"}


def _incident(customer, staff, *, package, severity):
    wo, contact = work_order(customer=customer, package=package, account_manager=staff)
    with time_machine.travel(OPENED, tick=False):
        return open_incident(wo, contact, by=staff, severity=severity)


@pytest.fixture
def perf_a(customer_a, staff):
    return _incident(customer_a, staff, package="performance", severity="critical")


@pytest.fixture
def core_a(customer_a, staff):
    return _incident(customer_a, staff, package="core", severity="normal")


@pytest.fixture
def personas(api_staff, api_a, api_b, api_anon):
    return {"staff": api_staff, "a": api_a, "b": api_b, "anon": api_anon}


def url(incident, name: str) -> str:
    return f"/api/v1/incidents/{incident.pk}/{name}/"


def post(client, incident, name, body, **headers):
    with time_machine.travel(DAY_LATER, tick=False):
        return client.post(url(incident, name), body, format="json", **headers)


def kinds(incident, kind) -> int:
    return IncidentEvent.objects.filter(incident=incident, kind=kind).count()


# --- persona matrix ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,body,kind",
    [
        ("onsite", ONSITE, EventKind.ONSITE_REQUEST),
        ("product-escalations", TEAM, EventKind.PRODUCT_ESCALATION),
    ],
)
@pytest.mark.parametrize(
    "persona,expected", [("staff", 201), ("a", 403), ("b", 403), ("anon", 401)]
)
def test_r7_actions_are_for_staff_keys_only(
    personas, perf_a, name, body, kind, persona, expected
):  # R7
    response = post(personas[persona], perf_a, name, body)
    assert response.status_code == expected, response.content
    assert kinds(perf_a, kind) == (1 if expected == 201 else 0)
    if expected != 201:
        assert "Dana" not in response.content.decode()


@pytest.mark.parametrize(
    "persona,expected", [("staff", 201), ("a", 201), ("b", 404), ("anon", 401)]
)
def test_rsm_is_for_staff_and_the_customers_own_key(personas, core_a, persona, expected):  # R8
    response = post(personas[persona], core_a, "rsm", RSM)
    assert response.status_code == expected, response.content
    assert kinds(core_a, EventKind.RSM_REQUEST) == (1 if expected == 201 else 0)
    if persona == "b":
        assert core_a.number not in response.content.decode()


# --- the recorded event ------------------------------------------------------------------


def test_onsite_answers_201_with_the_recorded_event_in_utc(api_staff, perf_a):  # R7
    response = post(api_staff, perf_a, "onsite", ONSITE)
    assert response.status_code == 201
    body = response.json()
    event = IncidentEvent.objects.get(incident=perf_a, kind=EventKind.ONSITE_REQUEST)
    assert body == {
        "id": event.pk,
        "incident": perf_a.pk,
        "kind": "onsite_request",
        "created_at": "2026-03-07T15:00:00Z",  # 16:00 Amsterdam (CET) is 15:00 UTC
        "data": {"agreed_by": "Dana (IT lead)", "note": "Datacentre visit"},
    }


def test_product_escalation_answers_201_with_the_team(api_staff, perf_a):  # R7
    response = post(api_staff, perf_a, "product-escalations", {"team": "Entra ID"})
    assert response.status_code == 201
    body = response.json()
    assert body["kind"] == "product_escalation"
    assert body["data"] == {"team": "Entra ID", "note": ""}
    assert body["created_at"].endswith("Z")


def test_rsm_by_the_customers_key_answers_201_with_the_reason(api_a, core_a):  # R8
    response = post(api_a, core_a, "rsm", RSM)
    assert response.status_code == 201
    assert response.json()["kind"] == "rsm_request"
    assert response.json()["data"] == {"reason": RSM["reason"]}


# --- rule refusals -------------------------------------------------------------------------


@pytest.mark.parametrize("package,severity", [("advanced", "critical"), ("performance", "normal")])
@pytest.mark.parametrize("name,body", [("onsite", ONSITE), ("product-escalations", TEAM)])
def test_r7_actions_outside_performance_critical_are_400_naming_r7(
    api_staff, customer_a, staff, package, severity, name, body
):  # R7
    incident = _incident(customer_a, staff, package=package, severity=severity)
    response = post(api_staff, incident, name, body)
    assert response.status_code == 400
    assert "(R7)" in json.dumps(response.json())
    assert not incident.events.filter(
        kind__in=[EventKind.ONSITE_REQUEST, EventKind.PRODUCT_ESCALATION]
    ).exists()


def test_onsite_before_24_hours_is_400_naming_r7(api_staff, perf_a):  # R7
    with time_machine.travel(DAY_LATER - dt.timedelta(minutes=1), tick=False):
        response = api_staff.post(url(perf_a, "onsite"), ONSITE, format="json")
    assert response.status_code == 400
    assert "agreed_by" in response.json() and "(R7)" in json.dumps(response.json())


@pytest.mark.parametrize(
    "name,field,message",
    [
        ("onsite", "agreed_by", "Say who at the customer agreed to onsite resources (R7)."),
        ("product-escalations", "team", "Name the product team to escalate to (R7)."),
        ("rsm", "reason", "Say why you request Reactive Support Management (R8)."),
    ],
)
@pytest.mark.parametrize("body", [{}, "blank"])
def test_a_missing_or_blank_required_text_is_400_naming_the_rule(
    api_staff, perf_a, name, field, message, body
):  # R7, R8
    payload = {field: "   "} if body == "blank" else {}
    response = post(api_staff, perf_a, name, payload)
    assert response.status_code == 400
    assert response.json()[field] == [message]


def test_rsm_on_an_advanced_work_order_is_400_naming_r8(api_a, perf_a):  # R8
    response = post(api_a, perf_a, "rsm", RSM)
    assert response.status_code == 400
    assert "(R8)" in json.dumps(response.json())
    assert kinds(perf_a, EventKind.RSM_REQUEST) == 0


def test_a_second_onsite_request_is_409(api_staff, perf_a):  # R7
    assert post(api_staff, perf_a, "onsite", ONSITE).status_code == 201
    again = post(api_staff, perf_a, "onsite", {"agreed_by": "Someone else"})
    assert again.status_code == 409
    assert again.json()["rule"] == "R7" and again.json()["code"] == "already_requested"
    assert kinds(perf_a, EventKind.ONSITE_REQUEST) == 1


def test_the_same_product_team_twice_is_409_another_team_is_201(api_staff, perf_a):  # R7
    assert post(api_staff, perf_a, "product-escalations", TEAM).status_code == 201
    again = post(api_staff, perf_a, "product-escalations", {"team": "exchange online"})
    assert again.status_code == 409
    assert again.json()["rule"] == "R7" and again.json()["field"] == "team"
    other = post(api_staff, perf_a, "product-escalations", {"team": "Entra ID"})
    assert other.status_code == 201
    assert kinds(perf_a, EventKind.PRODUCT_ESCALATION) == 2


def test_a_second_rsm_request_is_409(api_a, api_staff, core_a):  # R8
    assert post(api_a, core_a, "rsm", RSM).status_code == 201
    again = post(api_staff, core_a, "rsm", {"reason": "Asked again"})
    assert again.status_code == 409
    assert again.json()["rule"] == "R8" and again.json()["code"] == "already_requested"
    assert kinds(core_a, EventKind.RSM_REQUEST) == 1


# --- Idempotency-Key ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "persona,fixture,name,body,kind",
    [
        ("staff", "perf_a", "onsite", ONSITE, EventKind.ONSITE_REQUEST),
        ("staff", "perf_a", "product-escalations", TEAM, EventKind.PRODUCT_ESCALATION),
        ("a", "core_a", "rsm", RSM, EventKind.RSM_REQUEST),
    ],
)
def test_a_replay_with_the_same_idempotency_key_returns_the_stored_response(
    request, personas, persona, fixture, name, body, kind
):
    incident = request.getfixturevalue(fixture)
    client = personas[persona]
    first = post(client, incident, name, body, HTTP_IDEMPOTENCY_KEY=f"{name}-1")
    again = post(client, incident, name, body, HTTP_IDEMPOTENCY_KEY=f"{name}-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert kinds(incident, kind) == 1
    # Without the key the same request is a second request: 409, not a replay.
    assert post(client, incident, name, body).status_code == 409


def test_the_same_idempotency_key_with_another_body_is_409(api_staff, perf_a):
    post(api_staff, perf_a, "product-escalations", TEAM, HTTP_IDEMPOTENCY_KEY="pe-2")
    other = post(
        api_staff, perf_a, "product-escalations", {"team": "Entra ID"}, HTTP_IDEMPOTENCY_KEY="pe-2"
    )
    assert other.status_code == 409
    assert kinds(perf_a, EventKind.PRODUCT_ESCALATION) == 1


def test_a_refused_request_stores_no_idempotency_record(api_staff, core_a):  # R7
    response = post(api_staff, core_a, "onsite", ONSITE, HTTP_IDEMPOTENCY_KEY="o-3")
    assert response.status_code == 400
    assert not IdempotencyRecord.objects.filter(key="o-3").exists()


# --- schema --------------------------------------------------------------------------------


@pytest.fixture
def schema(api_anon):
    response = api_anon.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return json.loads(response.content)


@pytest.mark.parametrize(
    "path,request_schema,fields",
    [
        ("/api/v1/incidents/{id}/onsite/", "OnsiteRequestRequest", {"agreed_by", "note"}),
        (
            "/api/v1/incidents/{id}/product-escalations/",
            "ProductEscalationRequest",
            {"team", "note"},
        ),
        ("/api/v1/incidents/{id}/rsm/", "RsmRequestRequest", {"reason"}),
    ],
)
def test_the_schema_lists_each_action_with_its_body_201_and_idempotency_key(
    schema, path, request_schema, fields
):
    operation = schema["paths"][path]["post"]
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert ref.endswith(f"/{request_schema}")
    assert set(schema["components"]["schemas"][request_schema]["properties"]) == fields
    assert operation["summary"]
    assert "Idempotency-Key" in {p["name"] for p in operation["parameters"] if p["in"] == "header"}
    assert {"201", "400", "401", "403", "404", "409"} <= set(operation["responses"])
    assert "200" not in operation["responses"]
    created = operation["responses"]["201"]["content"]["application/json"]["schema"]["$ref"]
    assert created.endswith("/IncidentEvent")
    event = schema["components"]["schemas"]["IncidentEvent"]["properties"]
    assert {"id", "incident", "kind", "created_at", "data"} <= set(event)
