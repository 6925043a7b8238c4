"""API.md's incident table and its workflow endpoints: what a client writes, what it
reads back (`response_breached`, `responded_at`), and who may call `respond`."""

import datetime as dt

import pytest
from django.utils import timezone

from incidents.models import Incident
from tests import factories as f


def body(work_order, **extra):
    return {
        "work_order": work_order.pk,
        "contact": "bob@acme.example",
        "title": "Mail is down",
        "severity": "normal",
        **extra,
    }


def iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


# --- response_breached -------------------------------------------------------------------


def test_an_incident_imported_past_its_deadline_reads_as_breached_at_once(
    api_staff, work_order_a, contact_a
):  # R4
    """API.md: `response_breached` is true once `response_due_at` passed with no
    response; not only after the next deadline sweep has run."""
    opened = timezone.now() - dt.timedelta(days=3)
    created = api_staff.post(
        "/api/v1/incidents/",
        body(work_order_a, severity="critical", opened_at=opened.isoformat()),
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["response_breached"] is True
    pk = created.json()["id"]
    assert api_staff.get(f"/api/v1/incidents/{pk}/").json()["response_breached"] is True
    listed = api_staff.get("/api/v1/incidents/?breached=true").json()["results"]
    assert [row["id"] for row in listed] == [pk]
    assert api_staff.get("/api/v1/incidents/?response_breached=false").json()["count"] == 0


def test_an_incident_whose_deadline_passes_reads_as_breached_before_the_sweep(
    api_a, incident_a
):  # R4
    url = f"/api/v1/incidents/{incident_a.pk}/"
    assert api_a.get(url).json()["response_breached"] is False
    Incident.objects.filter(pk=incident_a.pk).update(
        response_due_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert api_a.get(url).json()["response_breached"] is True
    assert api_a.get("/api/v1/incidents/?breached=true").json()["count"] == 1


def test_a_response_in_time_is_never_breached_even_after_the_deadline(api_staff, incident_a):  # R4
    api_staff.post(f"/api/v1/incidents/{incident_a.pk}/respond/", {}, format="json")
    Incident.objects.filter(pk=incident_a.pk).update(
        response_due_at=timezone.now() - dt.timedelta(seconds=1)
    )
    body = api_staff.get(f"/api/v1/incidents/{incident_a.pk}/").json()
    assert body["responded_at"] is not None
    assert body["response_breached"] is False
    assert api_staff.get("/api/v1/incidents/?breached=true").json()["count"] == 0


def test_a_late_response_stays_breached(api_staff, work_order_a, contact_a):  # R4
    opened = timezone.now() - dt.timedelta(days=3)
    pk = api_staff.post(
        "/api/v1/incidents/",
        body(work_order_a, severity="critical", opened_at=opened.isoformat()),
        format="json",
    ).json()["id"]
    responded = api_staff.post(f"/api/v1/incidents/{pk}/respond/", {}, format="json")
    assert responded.status_code == 200
    assert responded.json()["response_breached"] is True


# --- respond ---------------------------------------------------------------------------------


def test_respond_records_now_by_default(api_staff, incident_a):
    before = timezone.now()
    response = api_staff.post(f"/api/v1/incidents/{incident_a.pk}/respond/", {}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    responded = dt.datetime.fromisoformat(body["responded_at"].replace("Z", "+00:00"))
    assert before <= responded <= timezone.now()
    assert body["status"] == "responded"


def test_respond_records_the_time_it_is_given(api_staff, work_order_a, contact_a):
    opened = (timezone.now() - dt.timedelta(hours=2)).replace(microsecond=0)
    pk = api_staff.post(
        "/api/v1/incidents/", body(work_order_a, opened_at=opened.isoformat()), format="json"
    ).json()["id"]
    at = opened + dt.timedelta(minutes=30)
    response = api_staff.post(
        f"/api/v1/incidents/{pk}/respond/", {"responded_at": iso(at)}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["responded_at"] == iso(at)


def test_respond_refuses_a_time_in_the_future_with_400(api_staff, incident_a):
    later = timezone.now() + dt.timedelta(hours=1)
    response = api_staff.post(
        f"/api/v1/incidents/{incident_a.pk}/respond/",
        {"responded_at": later.isoformat()},
        format="json",
    )
    assert response.status_code == 400
    assert "responded_at" in response.json()
    assert Incident.objects.get(pk=incident_a.pk).responded_at is None


@pytest.mark.parametrize("persona", ["api_a", "api_b"])
def test_only_staff_record_the_first_response(request, incident_a, persona):
    client = request.getfixturevalue(persona)
    response = client.post(f"/api/v1/incidents/{incident_a.pk}/respond/", {}, format="json")
    assert response.status_code in (403, 404)
    assert Incident.objects.get(pk=incident_a.pk).responded_at is None


# --- what the client writes ------------------------------------------------------------------


def test_every_writable_field_of_the_table_is_stored_as_sent(api_a, work_order_a, contact_a):
    sent = body(
        work_order_a,
        description="Since 09:00",
        severity="critical",
        product="Exchange Online",
        is_cloud=True,
        around_the_clock=True,
        external_reference="JIRA-42",
    )
    response = api_a.post("/api/v1/incidents/", sent, format="json")
    assert response.status_code == 201, response.content
    got = response.json()
    assert {k: got[k] for k in sent} == sent


def test_a_work_order_whose_term_does_not_cover_now_is_refused_naming_the_field(
    api_a, customer_a
):  # R2
    today = timezone.localdate()
    ended = f.WorkOrderFactory(
        customer=customer_a,
        number="WO-OLD",
        start_date=today - dt.timedelta(days=400),
        end_date=today - dt.timedelta(days=2),
    )
    f.NamedContactFactory(work_order=ended, email="bob@acme.example")
    response = api_a.post("/api/v1/incidents/", body(ended), format="json")
    assert response.status_code == 400
    assert "work_order" in response.json()
    assert not Incident.objects.exists()


def test_a_contact_who_is_not_named_on_the_work_order_is_refused(
    api_a, work_order_a, contact_a
):  # R2
    response = api_a.post(
        "/api/v1/incidents/", body(work_order_a, contact="stranger@acme.example"), format="json"
    )
    assert response.status_code == 400
    assert "contact" in response.json()


def test_the_client_cannot_write_the_computed_fields_on_patch(api_staff, incident_a):
    for field, value in [
        ("response_due_at", iso(timezone.now())),
        ("responded_at", iso(timezone.now())),
        ("response_breached", True),
        ("opened_at", iso(timezone.now())),
    ]:
        response = api_staff.patch(
            f"/api/v1/incidents/{incident_a.pk}/", {field: value}, format="json"
        )
        assert response.status_code == 400, field
        assert field in response.json()
