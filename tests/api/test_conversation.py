"""The incident conversation over the API (API.md Revision 2; issues #16/#17):
comments with internal notes, attachments (size limit, scoped downloads), timeline,
explanation, severity requests, assignee, the customer-side deadlines, is_advisory."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from incidents import services as s
from incidents.models import IncidentAttachment, SeverityRequest
from notifications.models import OutboxMessage


def upload(content=b"trace-bytes", name="trace.pcap"):
    return SimpleUploadedFile(name, content, content_type="application/vnd.tcpdump.pcap")


def test_an_internal_note_never_reaches_the_customers_key(api_staff, api_a, incident_a):
    note = api_staff.post(
        f"/api/v1/incidents/{incident_a.pk}/comments/",
        {"body": "Looks like their firewall", "internal": True},
        format="json",
    )
    assert note.status_code == 201 and note.json()["internal"] is True
    api_staff.post(
        f"/api/v1/incidents/{incident_a.pk}/comments/", {"body": "Please check"}, format="json"
    )
    staff_view = api_staff.get(f"/api/v1/incidents/{incident_a.pk}/comments/").json()
    customer_view = api_a.get(f"/api/v1/incidents/{incident_a.pk}/comments/").json()
    assert [c["body"] for c in staff_view["results"]] == [
        "Looks like their firewall",
        "Please check",
    ]
    assert [c["body"] for c in customer_view["results"]] == ["Please check"]
    timeline = api_a.get(f"/api/v1/incidents/{incident_a.pk}/timeline/").content.decode()
    assert "firewall" not in timeline
    # Never sent either: no e-mail or webhook row carries the note.
    assert not any("firewall" in (r.body + str(r.payload)) for r in OutboxMessage.objects.all())


def test_a_customer_key_cannot_write_an_internal_note(api_a, incident_a):
    response = api_a.post(
        f"/api/v1/incidents/{incident_a.pk}/comments/",
        {"body": "sneaky", "internal": True},
        format="json",
    )
    assert response.status_code == 403
    assert not incident_a.events.filter(body="sneaky").exists()


def test_attachments_upload_list_and_download(api_a, api_staff, incident_a):
    response = api_a.post(
        f"/api/v1/incidents/{incident_a.pk}/attachments/", {"file": upload()}, format="multipart"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "trace.pcap" and body["size"] == 11
    assert body["download"].endswith(f"/attachments/{body['id']}/download/")
    listed = api_staff.get(f"/api/v1/incidents/{incident_a.pk}/attachments/").json()
    assert [a["id"] for a in listed["results"]] == [body["id"]]
    download = api_staff.get(body["download"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"trace-bytes"
    assert "attachment" in download["Content-Disposition"]


def test_an_attachment_above_the_limit_is_413_and_nothing_is_kept(api_a, incident_a, settings):
    settings.ATTACHMENT_MAX_BYTES = 10
    response = api_a.post(
        f"/api/v1/incidents/{incident_a.pk}/attachments/",
        {"file": upload(b"x" * 11)},
        format="multipart",
    )
    assert response.status_code == 413
    assert "file" in response.json()
    assert not IncidentAttachment.objects.exists()


def test_an_empty_attachment_is_400(api_a, incident_a):
    response = api_a.post(
        f"/api/v1/incidents/{incident_a.pk}/attachments/", {"file": upload(b"")}, format="multipart"
    )
    assert response.status_code == 400
    assert "file" in response.json()
    assert not IncidentAttachment.objects.exists()


def test_the_wrong_customer_gets_404_for_attachments_and_comments(api_b, attachment_a, incident_a):
    base = f"/api/v1/incidents/{incident_a.pk}"
    assert api_b.get(f"{base}/attachments/{attachment_a.pk}/download/").status_code == 404
    assert api_b.get(f"{base}/comments/").status_code == 404
    post = api_b.post(f"{base}/comments/", {"body": "hi"}, format="json")
    assert post.status_code == 404
    upload_b = api_b.post(f"{base}/attachments/", {"file": upload()}, format="multipart")
    assert upload_b.status_code == 404
    assert IncidentAttachment.objects.count() == 1


def test_an_internal_attachment_is_not_downloadable_by_the_customer(api_staff, api_a, incident_a):
    response = api_staff.post(
        f"/api/v1/incidents/{incident_a.pk}/attachments/",
        {"file": upload(), "internal": "true"},
        format="multipart",
    )
    assert response.status_code == 201
    aid = response.json()["id"]
    assert api_a.get(f"/api/v1/incidents/{incident_a.pk}/attachments/").json()["count"] == 0
    assert (
        api_a.get(f"/api/v1/incidents/{incident_a.pk}/attachments/{aid}/download/").status_code
        == 404
    )


def test_explain_says_why_the_deadline_is_what_it_is(api_a, incident_a):
    body = api_a.get(f"/api/v1/incidents/{incident_a.pk}/explain/").json()
    assert body["rule"] and body["sentences"]


def test_severity_requests_are_listed_and_decided(api_staff, api_a, incident_a):
    # R3: the customer asks; staff accept with a reason; a second identical ask is 409.
    asked = api_a.post(
        f"/api/v1/incidents/{incident_a.pk}/severity/",
        {"severity": "critical", "reason": "All users"},
        format="json",
    )
    assert asked.status_code == 202
    again = api_a.post(
        f"/api/v1/incidents/{incident_a.pk}/severity/",
        {"severity": "critical", "reason": "Still all users"},
        format="json",
    )
    assert again.status_code == 409
    listed = api_staff.get("/api/v1/severity-requests/?state=open").json()
    assert listed["count"] == 1
    item = listed["results"][0]
    assert item["incident"] == incident_a.pk and item["state"] == "open"
    assert (
        api_staff.post(
            f"/api/v1/severity-requests/{item['id']}/accept/", {}, format="json"
        ).status_code
        == 400
    )
    done = api_staff.post(
        f"/api/v1/severity-requests/{item['id']}/accept/", {"reason": "Agreed"}, format="json"
    )
    assert done.status_code == 200 and done.json()["state"] == "accepted"
    assert api_a.get(f"/api/v1/incidents/{incident_a.pk}/").json()["severity"] == "critical"
    twice = api_staff.post(
        f"/api/v1/severity-requests/{item['id']}/decline/", {"reason": "No"}, format="json"
    )
    assert twice.status_code == 409


def test_incidents_carry_revision_2_fields(
    api_staff, api_a, incident_a, staff, work_order_a, contact_a
):
    body = api_a.get(f"/api/v1/incidents/{incident_a.pk}/").json()
    for name in (
        "assignee",
        "customer_due_at",
        "change_control_due_at",
        "is_advisory",
        "updated_at",
    ):
        assert name in body
    assigned = api_staff.patch(
        f"/api/v1/incidents/{incident_a.pk}/", {"assignee": "alice"}, format="json"
    )
    assert assigned.status_code == 200 and assigned.json()["assignee"] == "alice"
    assert api_staff.get("/api/v1/incidents/?assignee=alice").json()["count"] == 1
    assert api_staff.get("/api/v1/incidents/?unassigned=true").json()["count"] == 0
    bad = api_staff.patch(f"/api/v1/incidents/{incident_a.pk}/", {"assignee": "bob"}, format="json")
    assert bad.status_code == 400  # bob is a customer's user
    created = api_staff.post(
        "/api/v1/incidents/",
        {
            "work_order": work_order_a.pk,
            "contact": contact_a.email,
            "title": "How should we size the cluster?",
            "severity": "normal",
            "is_advisory": True,
        },
        format="json",
    )
    assert created.status_code == 201 and created.json()["is_advisory"] is True
    s.incident_set_status(incident=incident_a, status="awaiting_customer", by=staff)
    assert api_a.get(f"/api/v1/incidents/{incident_a.pk}/").json()["customer_due_at"]


@pytest.mark.django_db
def test_severity_request_rows_are_scoped(api_b, severity_request_a):
    assert api_b.get("/api/v1/severity-requests/").json()["count"] == 0
    assert SeverityRequest.objects.count() == 1


def test_the_conversation_paths_are_in_the_schema(api_anon):
    import json

    schema = json.loads(
        api_anon.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").content
    )
    for path, methods in {
        "/api/v1/incidents/{id}/comments/": {"get", "post"},
        "/api/v1/incidents/{id}/attachments/": {"get", "post"},
        "/api/v1/incidents/{id}/timeline/": {"get"},
        "/api/v1/incidents/{id}/explain/": {"get"},
        "/api/v1/severity-requests/": {"get"},
        "/api/v1/severity-requests/{id}/accept/": {"post"},
        "/api/v1/severity-requests/{id}/decline/": {"post"},
    }.items():
        assert path in schema["paths"], path
        assert methods <= set(schema["paths"][path]), path
    upload = schema["paths"]["/api/v1/incidents/{id}/attachments/"]["post"]
    assert "413" in upload["responses"]
    assert "multipart/form-data" in upload["requestBody"]["content"]


def test_conversation_lists_have_bounded_queries(
    api_staff, incident_a, staff, user_a, django_assert_max_num_queries
):
    for i in range(6):
        s.incident_comment(
            incident=incident_a, body=f"c{i}", files=[upload(b"x" * (i + 1))], by=staff
        )
        s.incident_attach(incident=incident_a, file=upload(b"y"), by=user_a)
    for path in ("comments", "attachments", "timeline"):
        with django_assert_max_num_queries(12):
            response = api_staff.get(f"/api/v1/incidents/{incident_a.pk}/{path}/")
        assert response.status_code == 200 and response.json()["count"] >= 6
    with django_assert_max_num_queries(12):
        assert api_staff.get("/api/v1/severity-requests/").status_code == 200
