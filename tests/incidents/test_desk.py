"""The incident desk's services (issue #17): internal notes, attachments, assignment,
severity requests (R3), the customer's closure and rating, digest e-mails."""

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from core.errors import Conflict, RuleViolation, TooLarge
from incidents import services as s
from incidents.models import IncidentAttachment, IncidentEvent, SeverityRequest
from notifications.delivery import outbox_deliver_due
from notifications.models import OutboxMessage
from tests import factories as f


@pytest.fixture
def incident(work_order_a, contact_a, user_a):
    return f.open_incident(
        work_order=work_order_a, contact=contact_a, title="Mail is down", by=user_a
    )


def upload(name="trace.pcap", content=b"0123456789"):
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


class TestComments:
    def test_an_internal_note_is_never_sent_nor_shown_to_the_customer(self, incident, staff):
        before = OutboxMessage.objects.count()
        note = s.incident_comment(
            incident=incident, body="Customer ran an old build", internal=True, by=staff
        )
        assert note.internal
        assert OutboxMessage.objects.count() == before  # no e-mail, no webhook
        from incidents.selectors import incident_comments, incident_detail

        customer = incident.contact.user
        assert not incident_comments(incident=incident, actor=customer).filter(pk=note.pk).exists()
        detail = incident_detail(actor=customer, pk=incident.pk)
        assert note.pk not in [e.pk for e in detail.timeline]

    def test_a_public_reply_is_sent_to_the_customer(self, incident, staff):
        reply = s.incident_comment(incident=incident, body="Please restart", by=staff)
        rows = OutboxMessage.objects.filter(key__contains=f":comment:{reply.pk}")
        assert {r.recipient for r in rows if r.channel == "email"} == {"bob@acme.example"}

    def test_customers_cannot_write_internal_notes(self, incident, user_a):
        with pytest.raises(PermissionDenied):
            s.incident_comment(incident=incident, body="x", internal=True, by=user_a)

    def test_a_note_with_files_keeps_its_files_internal(self, incident, staff):
        note = s.incident_comment(
            incident=incident, body="dump", internal=True, files=[upload()], by=staff
        )
        file = IncidentAttachment.objects.get(comment=note)
        assert file.internal and file.size == 10

    def test_the_wrong_customer_cannot_comment(self, incident, user_b):
        with pytest.raises(PermissionDenied):
            s.incident_comment(incident=incident, body="hi", by=user_b)


class TestAttachments:
    def test_a_file_is_stored_and_readable(self, incident, user_a):
        a = s.incident_attach(incident=incident, file=upload(content=b"hello"), by=user_a)
        assert a.name == "trace.pcap" and a.size == 5 and a.from_customer
        assert a.file.open("rb").read() == b"hello"
        assert not a.file.name.startswith("/")  # a storage key, not a public path

    def test_zero_bytes_are_refused_and_nothing_is_written(self, incident, user_a):
        with pytest.raises(RuleViolation):
            s.incident_attach(incident=incident, file=upload(content=b""), by=user_a)
        assert not IncidentAttachment.objects.exists()

    def test_a_file_above_the_limit_is_refused(self, incident, user_a, settings):
        settings.ATTACHMENT_MAX_BYTES = 8
        with pytest.raises(TooLarge):
            s.incident_attach(incident=incident, file=upload(content=b"123456789"), by=user_a)
        assert not IncidentAttachment.objects.exists()

    def test_a_failed_comment_leaves_no_stored_file(
        self, incident, staff, settings, _attachments_in_tmp
    ):
        settings.ATTACHMENT_MAX_BYTES = 8
        with pytest.raises(TooLarge):
            s.incident_comment(
                incident=incident,
                body="two files",
                files=[upload(content=b"1"), upload(content=b"123456789")],
                by=staff,
            )
        assert not IncidentAttachment.objects.exists()
        assert not IncidentEvent.objects.filter(kind="comment").exists()
        assert not any(p.is_file() for p in _attachments_in_tmp.rglob("*"))


class TestSeverityRequests:
    def test_a_second_identical_open_request_is_refused(self, incident, user_a):
        # R3: the request is taken once, not silently twice.
        s.incident_request_severity_change(
            incident=incident, severity="critical", reason="All users down", by=user_a
        )
        with pytest.raises(Conflict):
            s.incident_request_severity_change(
                incident=incident, severity="critical", reason="Again", by=user_a
            )
        assert SeverityRequest.objects.filter(incident=incident, state="open").count() == 1

    def test_accepting_changes_the_severity_and_records_the_reason(self, incident, user_a, staff):
        # R3
        event = s.incident_request_severity_change(
            incident=incident, severity="critical", reason="All users down", by=user_a
        )
        done = s.severity_request_accept(
            request=event.severity_request, reason="Confirmed by phone", by=staff
        )
        incident.refresh_from_db()
        assert done.state == "accepted" and done.decision_reason == "Confirmed by phone"
        assert incident.severity == "critical"
        assert "critical" in incident.target_rule.lower()

    def test_declining_needs_a_reason_and_tells_the_customer(self, incident, user_a, staff):
        # R3
        event = s.incident_request_severity_change(
            incident=incident, severity="critical", reason="All users down", by=user_a
        )
        with pytest.raises(RuleViolation):
            s.severity_request_decline(request=event.severity_request, reason=" ", by=staff)
        done = s.severity_request_decline(
            request=event.severity_request, reason="One user only", by=staff
        )
        assert done.state == "declined" and done.decided_by == staff
        incident.refresh_from_db()
        assert incident.severity == "normal"
        assert OutboxMessage.objects.filter(
            key__contains="severity_decision", recipient="bob@acme.example"
        ).exists()
        with pytest.raises(Conflict):
            s.severity_request_accept(
                request=event.severity_request, reason="changed mind", by=staff
            )

    def test_customers_cannot_decide(self, incident, user_a):
        event = s.incident_request_severity_change(
            incident=incident, severity="critical", reason="down", by=user_a
        )
        with pytest.raises(PermissionDenied):
            s.severity_request_accept(request=event.severity_request, reason="x", by=user_a)


class TestTriage:
    def test_assigning_to_staff_records_it_internally(self, incident, staff):
        other = f.StaffFactory(username="dora", email="dora@vendor.example")
        s.incident_assign(incident=incident, assignee="dora", by=staff)
        incident.refresh_from_db()
        assert incident.assignee == other
        event = IncidentEvent.objects.get(incident=incident, kind="assigned")
        assert event.internal
        assert OutboxMessage.objects.filter(recipient="dora@vendor.example").exists()

    def test_a_customer_user_cannot_be_the_assignee(self, incident, staff, user_a):
        with pytest.raises(RuleViolation):
            s.incident_assign(incident=incident, assignee=user_a.username, by=staff)

    def test_bulk_update_assigns_and_reports_refusals(self, work_order_a, contact_a, staff):
        one = f.open_incident(work_order=work_order_a, contact=contact_a, title="1", by=staff)
        two = f.open_incident(work_order=work_order_a, contact=contact_a, title="2", by=staff)
        s.incident_set_status(incident=two, status="closed", by=staff)
        done, refused = s.incidents_bulk_update(
            incidents=[one, two], by=staff, assignee=staff, status="in_progress"
        )
        assert [i.pk for i in done] == [one.pk]
        assert refused and refused[0][0].pk == two.pk
        two.refresh_from_db()
        assert two.assignee is None  # its refused status undid its assignment too
        one.refresh_from_db()
        assert one.assignee == staff and one.status == "in_progress"


class TestClosureAndRating:
    def test_the_customer_marks_solved_then_rates_once(self, incident, user_a, staff):
        with pytest.raises(Conflict):
            s.incident_rate(incident=incident, score=5, by=user_a)  # still open
        s.incident_set_status(incident=incident, status="resolved", by=user_a)
        rating = s.incident_rate(incident=incident, score=4, comment="Quick", by=user_a)
        assert rating.score == 4 and rating.rated_at is not None
        with pytest.raises(Conflict):
            s.incident_rate(incident=incident, score=5, by=user_a)

    @pytest.mark.parametrize("score", [0, 6, "5", True])
    def test_scores_outside_one_to_five_are_refused(self, incident, user_a, score):
        s.incident_set_status(incident=incident, status="resolved", by=user_a)
        with pytest.raises(RuleViolation):
            s.incident_rate(incident=incident, score=score, by=user_a)

    def test_staff_and_other_customers_do_not_rate(self, incident, user_a, user_b, staff):
        s.incident_set_status(incident=incident, status="resolved", by=user_a)
        with pytest.raises(PermissionDenied):
            s.incident_rate(incident=incident, score=3, by=staff)
        with pytest.raises(PermissionDenied):
            s.incident_rate(incident=incident, score=3, by=user_b)


class TestDigest:
    def test_one_email_per_recipient_per_incident_within_the_window(
        self, incident, staff, settings, user_a
    ):
        settings.INCIDENT_DIGEST_SECONDS = 120
        user_a.language = "en"
        user_a.save()
        outbox_deliver_due()  # the opening's own e-mails go at once (not digested)
        s.incident_respond(incident=incident, by=staff)
        s.incident_comment(incident=incident, body="Please send a trace", by=staff)
        s.incident_set_status(incident=incident, status="awaiting_customer", by=staff)
        mail.outbox.clear()
        outbox_deliver_due()
        assert [m for m in mail.outbox if "bob@acme.example" in m.to] == []  # held
        outbox_deliver_due(now=timezone.now() + dt.timedelta(seconds=121))
        to_bob = [m for m in mail.outbox if "bob@acme.example" in m.to]
        assert len(to_bob) == 1
        assert "3 updates" in to_bob[0].subject
        assert "Please send a trace" in to_bob[0].body
        assert not OutboxMessage.objects.filter(
            recipient="bob@acme.example", state="pending"
        ).exists()

    def test_the_digest_is_in_the_recipients_language(self, incident, staff, settings, user_a):
        settings.INCIDENT_DIGEST_SECONDS = 0
        user_a.language = "nl"
        user_a.save()
        outbox_deliver_due()
        s.incident_respond(incident=incident, by=staff)
        s.incident_comment(incident=incident, body="Graag een trace", by=staff)
        mail.outbox.clear()
        outbox_deliver_due(now=timezone.now() + dt.timedelta(seconds=1))
        to_bob = [m for m in mail.outbox if "bob@acme.example" in m.to]
        assert len(to_bob) == 1
        assert "2 wijzigingen" in to_bob[0].subject
        assert "Graag een trace" in to_bob[0].body
