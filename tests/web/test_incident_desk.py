"""The incident desk's pages (issue #17): queue triage, the conversation, attachments,
severity requests, R7 / change control / R23 buttons, closure and rating, the live
change markers; every page tried by the wrong customer."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from incidents import services as s
from incidents.models import IncidentAttachment, SavedQueueView, SeverityRequest
from tests import factories as f


@pytest.fixture
def incident_a(work_order_a, contact_a, user_a):
    return f.open_incident(
        work_order=work_order_a, contact=contact_a, title="Mail is down", by=user_a
    )


@pytest.fixture
def incident_b(work_order_b, contact_b, user_b):
    return f.open_incident(
        work_order=work_order_b, contact=contact_b, title="Globex printer", by=user_b
    )


def detail(incident):
    return reverse("incidents:detail", args=[incident.pk])


class TestConversation:
    def test_the_customer_page_never_shows_an_internal_note(
        self, client_staff, client_a, incident_a, staff
    ):
        client_staff.post(
            reverse("incidents:comment", args=[incident_a.pk]),
            {"body": "Their firewall blocks us", "internal": "on"},
        )
        client_staff.post(
            reverse("incidents:comment", args=[incident_a.pk]),
            {"body": "See https://docs.example/kb/123 " + "x" * 120, "internal": ""},
        )
        staff_page = client_staff.get(detail(incident_a)).content.decode()
        assert "Their firewall blocks us" in staff_page and "internal-badge" in staff_page
        customer_page = client_a.get(detail(incident_a)).content.decode()
        assert "Their firewall blocks us" not in customer_page
        assert "Internal note" not in customer_page.split('id="live-timeline"')[1].split("</ol>")[0]
        # URLs become links; the long word is in a wrapping message block.
        assert '<a href="https://docs.example/kb/123"' in customer_page
        assert 'class="body message"' in customer_page

    def test_a_reply_with_a_file_and_its_scoped_download(
        self, client_a, client_b, client_staff, incident_a
    ):
        response = client_a.post(
            reverse("incidents:comment", args=[incident_a.pk]),
            {"body": "Here is the dump", "files": [SimpleUploadedFile("dump.dmp", b"MDMP")]},
        )
        assert response.status_code == 302
        attachment = IncidentAttachment.objects.get()
        assert attachment.comment.body == "Here is the dump"
        url = reverse("incidents:attachment", args=[incident_a.pk, attachment.pk])
        assert url in client_staff.get(detail(incident_a)).content.decode()
        got = client_staff.get(url)
        assert got.status_code == 200 and b"".join(got.streaming_content) == b"MDMP"
        # The wrong customer: 404 for the download, the page and a comment.
        assert client_b.get(url).status_code == 404
        assert client_b.get(detail(incident_a)).status_code == 404
        posted = client_b.post(
            reverse("incidents:comment", args=[incident_a.pk]), {"body": "hello"}
        )
        assert posted.status_code == 404
        assert not incident_a.events.filter(body="hello").exists()

    def test_a_file_too_large_or_empty_is_a_form_error(self, client_a, incident_a, settings):
        settings.ATTACHMENT_MAX_BYTES = 4
        big = client_a.post(
            reverse("incidents:attach", args=[incident_a.pk]),
            {"file": SimpleUploadedFile("big.bin", b"12345")},
        )
        assert big.status_code == 400 and "at most 4 bytes" in big.content.decode()
        empty = client_a.post(
            reverse("incidents:attach", args=[incident_a.pk]),
            {"file": SimpleUploadedFile("empty.bin", b"")},
        )
        assert empty.status_code == 400 and "empty" in empty.content.decode()
        assert not IncidentAttachment.objects.exists()

    def test_customers_cannot_post_internal_notes_through_the_form(self, client_a, incident_a):
        client_a.post(
            reverse("incidents:comment", args=[incident_a.pk]),
            {"body": "Customer text", "internal": "on"},
        )
        # The customer's form has no internal field: the comment is public.
        event = incident_a.events.get(body="Customer text")
        assert not event.internal


class TestSeverityRequests:
    def test_banner_badge_and_accept(self, client_a, client_staff, incident_a):
        # R3
        client_a.post(
            reverse("incidents:severity", args=[incident_a.pk]),
            {"severity": "critical", "reason": "Everyone is down"},
        )
        again = client_a.post(
            reverse("incidents:severity", args=[incident_a.pk]),
            {"severity": "critical", "reason": "Still down"},
        )
        assert again.status_code == 400
        assert SeverityRequest.objects.filter(state="open").count() == 1
        queue = client_staff.get(reverse("incidents:list")).content.decode()
        assert "severity-request-badge" in queue
        dashboard = client_staff.get("/").content.decode()
        assert "severity-request" in dashboard
        page = client_staff.get(detail(incident_a)).content.decode()
        assert "banner severity-request" in page and "Everyone is down" in page
        request = SeverityRequest.objects.get()
        done = client_staff.post(
            reverse("incidents:severity_request", args=[incident_a.pk, request.pk]),
            {"decision": "accept", "reason": "Confirmed"},
        )
        assert done.status_code == 302
        incident_a.refresh_from_db()
        assert incident_a.severity == "critical"
        page = client_staff.get(detail(incident_a)).content.decode()
        assert "banner severity-request" not in page
        # "Why this deadline" follows the new severity (issue #17).
        assert "critical" in page.split("Why this deadline")[1].split("</dl>")[0].lower()

    def test_decline_needs_a_reason(self, client_a, client_staff, incident_a, user_a):
        event = s.incident_request_severity_change(
            incident=incident_a, severity="critical", reason="down", by=user_a
        )
        url = reverse("incidents:severity_request", args=[incident_a.pk, event.severity_request.pk])
        assert client_staff.post(url, {"decision": "decline", "reason": ""}).status_code == 400
        assert client_a.post(url, {"decision": "decline", "reason": "x"}).status_code == 403
        assert (
            client_staff.post(url, {"decision": "decline", "reason": "One user"}).status_code == 302
        )
        assert "One user" in client_a.get(detail(incident_a)).content.decode()


class TestQueue:
    def test_every_column_sorts_and_the_csv_is_what_the_queue_shows(
        self, client_staff, incident_a, incident_b, staff
    ):
        s.incident_assign(incident=incident_b, assignee=staff, by=staff)
        for key in ("number", "customer", "severity", "status", "due", "assignee", "opened"):
            for sort in (key, "-" + key):
                assert (
                    client_staff.get(reverse("incidents:list") + f"?sort={sort}").status_code == 200
                )
        page = client_staff.get(reverse("incidents:list") + "?sort=-number").content.decode()
        assert page.index(incident_b.number) < page.index(incident_a.number)
        exported = client_staff.get(
            reverse("incidents:list") + "?sort=-number&customer=globex&format=csv"
        )
        rows = list(csv.reader(io.StringIO(exported.content.decode())))
        assert [r[0] for r in rows[1:]] == [incident_b.number]
        assert "alice" in rows[1]

    def test_my_incidents_and_unassigned(self, client_staff, incident_a, incident_b, staff):
        s.incident_assign(incident=incident_a, assignee=staff, by=staff)
        mine = client_staff.get(reverse("incidents:list") + "?assignee=alice").content.decode()
        assert incident_a.number in mine and incident_b.number not in mine
        free = client_staff.get(reverse("incidents:list") + "?unassigned=true").content.decode()
        assert incident_b.number in free and incident_a.number not in free

    def test_a_view_is_saved_per_user(self, client_staff, staff):
        client_staff.post(
            reverse("incidents:view_save"), {"name": "Critical", "query": "severity=critical"}
        )
        view = SavedQueueView.objects.get(user=staff)
        assert view.query == "severity=critical"
        assert "Critical" in client_staff.get(reverse("incidents:list")).content.decode()

    def test_bulk_assign_asks_for_confirmation_first(
        self, client_staff, incident_a, incident_b, staff
    ):
        data = {
            "incidents": [incident_a.pk, incident_b.pk],
            "assignee": staff.pk,
            "status": "in_progress",
        }
        confirm = client_staff.post(reverse("incidents:bulk"), data)
        assert confirm.status_code == 200 and "Confirm" in confirm.content.decode()
        incident_a.refresh_from_db()
        assert incident_a.assignee is None  # nothing changed yet
        done = client_staff.post(reverse("incidents:bulk"), {**data, "confirm": "true"})
        assert done.status_code == 302
        for inc in (incident_a, incident_b):
            inc.refresh_from_db()
            assert inc.assignee == staff and inc.status == "in_progress"

    def test_customers_cannot_bulk_or_see_other_customers(self, client_a, incident_a, incident_b):
        assert (
            client_a.post(reverse("incidents:bulk"), {"incidents": [incident_b.pk]}).status_code
            == 403
        )
        page = client_a.get(reverse("incidents:list")).content.decode()
        assert incident_b.number not in page
        exported = client_a.get(reverse("incidents:list") + "?format=csv").content.decode()
        assert incident_b.number not in exported and incident_a.number in exported

    def test_the_queue_page_has_bounded_queries(
        self, client_staff, work_order_a, contact_a, staff, django_assert_max_num_queries
    ):
        for i in range(8):
            inc = f.open_incident(
                work_order=work_order_a, contact=contact_a, title=f"n{i}", by=staff
            )
            s.incident_assign(incident=inc, assignee=staff, by=staff)
        with django_assert_max_num_queries(20):
            client_staff.get(reverse("incidents:list"))


class TestLiveMarkers:
    def test_the_incident_marker_moves_when_the_incident_changes(
        self, client_a, client_b, incident_a, staff
    ):
        url = reverse("incidents:marker", args=[incident_a.pk])
        before = client_a.get(url).json()["marker"]
        s.incident_comment(incident=incident_a, body="We are on it", by=staff)
        after = client_a.get(url).json()["marker"]
        assert before != after
        assert client_b.get(url).status_code == 404

    def test_the_queue_marker_moves_when_an_incident_changes(self, client_staff, incident_a, staff):
        url = reverse("incidents:queue_marker")
        before = client_staff.get(url).json()["marker"]
        s.incident_respond(incident=incident_a, by=staff)
        assert client_staff.get(url).json()["marker"] != before


class TestActions:
    def test_r7_and_change_control_buttons(
        self, client_staff, client_a, work_order_a, contact_a, user_a, staff
    ):
        # R7 on an Advanced critical incident; the customer's change-control side.
        incident = f.open_incident(
            work_order=work_order_a, contact=contact_a, title="Down", severity="critical", by=user_a
        )
        page = client_staff.get(detail(incident)).content.decode()
        assert "Critical situation resource assigned" in page
        assert "Change-control access granted" in client_a.get(detail(incident)).content.decode()
        assert (
            client_a.post(reverse("incidents:critical_situation", args=[incident.pk])).status_code
            == 403
        )
        client_staff.post(reverse("incidents:critical_situation", args=[incident.pk]))
        client_a.post(reverse("incidents:change_control", args=[incident.pk]))
        incident.refresh_from_db()
        assert incident.critical_situation_assigned_at and incident.change_control_granted_at

    def test_advisory_effort_stops_at_six_hours(
        self, client_staff, client_a, work_order_a, contact_a, user_a
    ):
        # R23: flagged at filing; the effort log stops at the 6-hour cap.
        created = client_a.post(
            reverse("incidents:create"),
            {
                "work_order": work_order_a.pk,
                "title": "How to size the cluster",
                "severity": "normal",
                "is_advisory": "on",
                "language": "en",
            },
        )
        assert created.status_code == 302
        incident = work_order_a.incidents.get(title="How to size the cluster")
        assert incident.is_advisory
        url = reverse("incidents:effort", args=[incident.pk])
        assert client_staff.post(url, {"minutes": 360}).status_code == 302
        page = client_staff.get(detail(incident)).content.decode()
        assert "The 6-hour cap is reached" in page and url not in page

    def test_customer_marks_solved_and_rates(self, client_a, client_staff, client_b, incident_a):
        assert client_b.post(reverse("incidents:solved", args=[incident_a.pk])).status_code == 404
        assert client_a.post(reverse("incidents:solved", args=[incident_a.pk])).status_code == 302
        bad = client_a.post(reverse("incidents:rate", args=[incident_a.pk]), {"score": "9"})
        assert bad.status_code == 400
        assert (
            client_a.post(
                reverse("incidents:rate", args=[incident_a.pk]), {"score": "5", "comment": "Fast"}
            ).status_code
            == 302
        )
        assert "5/5" in client_staff.get(detail(incident_a)).content.decode()
        ratings = client_staff.get(reverse("incidents:ratings")).content.decode()
        assert "Acme BV" in ratings and "Fast" in ratings
        assert client_a.get(reverse("incidents:ratings")).status_code == 403


def test_why_this_deadline_follows_a_severity_change_after_the_response(
    client_staff, client_a, incident_a, staff
):
    # R3 after the first response: the target stays; the explanation says so.
    s.incident_respond(incident=incident_a, by=staff)
    s.incident_change_severity(incident=incident_a, severity="critical", reason="Worse", by=staff)
    page = client_a.get(detail(incident_a)).content.decode()
    assert 'id="severity-after-response"' in page
    assert "Critical" in page.split('id="severity-after-response"')[1][:200]
