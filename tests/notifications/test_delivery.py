"""Outbox delivery (notifications/delivery.py): e-mail through Django's mail backend,
webhook rows handed to the API's fan-out, retries with backoff, at-least-once with
the unique key on every copy."""

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.db import transaction
from django.utils import timezone

import notifications.delivery as delivery
from contracts.clock import BusinessCalendar
from notifications.delivery import message_id, outbox_deliver_due
from notifications.models import OutboxMessage
from notifications.retry import backoff
from tests.factories import notify

UTC = dt.UTC


@pytest.fixture(autouse=True)
def locmem_mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def test_an_email_row_is_sent_once_with_its_key_in_message_id_and_header(db, customer_a):
    notify(
        event="incident.response_breached",
        key="incident:1:response:breach",
        customer=customer_a,
        emails=["am@vendor.example"],
        subject="Breached",
        body="Late",
        webhook=False,
    )
    assert outbox_deliver_due() == {"sent": 1, "failed": 0}
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    key = "incident:1:response:breach:email:am@vendor.example"
    assert sent.to == ["am@vendor.example"] and sent.subject == "Breached"
    assert sent.extra_headers["Message-ID"] == message_id(key)
    assert sent.extra_headers["X-Portal-Delivery"] == key
    assert sent.extra_headers["X-Portal-Event"] == "incident.response_breached"
    row = OutboxMessage.objects.get()
    assert row.state == "sent" and row.attempts == 1 and row.sent_at is not None
    # A second run sends nothing.
    assert outbox_deliver_due() == {"sent": 0, "failed": 0}
    assert len(mail.outbox) == 1


def test_message_id_is_stable_per_key_so_receivers_can_drop_repeats():
    assert message_id("k:1") == message_id("k:1")
    assert message_id("k:1") != message_id("k:2")
    assert message_id("k:1").startswith("<") and message_id("k:1").endswith("@portal>")


def test_a_row_waits_for_its_deliver_after(db):
    later = timezone.now() + dt.timedelta(hours=2)
    notify(
        event="work_order.expiring",
        key="wo:1:x",
        emails=["a@x.example"],
        deliver_after=later,
        webhook=False,
    )
    assert outbox_deliver_due() == {"sent": 0, "failed": 0}
    assert outbox_deliver_due(now=later + dt.timedelta(seconds=1))["sent"] == 1


def test_a_failed_send_is_retried_with_backoff_and_attempts_counted(db, monkeypatch):
    notify(event="credits.low", key="wo:1:low", emails=["a@x.example"], webhook=False)

    def refuse(row, connection):
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr(delivery, "_send_email", refuse)
    start = timezone.now()
    assert outbox_deliver_due()["failed"] == 1
    row = OutboxMessage.objects.get()
    assert row.state == "pending" and row.attempts == 1
    assert "smtp down" in row.last_error
    assert row.deliver_after >= start + dt.timedelta(seconds=30)
    # Not retried before its backoff has run out.
    assert outbox_deliver_due()["failed"] == 0
    monkeypatch.undo()
    mail_settings = outbox_deliver_due(now=row.deliver_after + dt.timedelta(seconds=1))
    assert mail_settings["sent"] == 1
    row.refresh_from_db()
    assert row.state == "sent" and row.attempts == 2


def test_a_row_gives_up_after_max_attempts(db, monkeypatch):
    notify(event="credits.low", key="wo:2:low", emails=["a@x.example"], webhook=False)
    OutboxMessage.objects.update(attempts=delivery.MAX_ATTEMPTS - 1)
    monkeypatch.setattr(
        delivery, "_send_email", lambda row, c: (_ for _ in ()).throw(OSError("gone"))
    )
    outbox_deliver_due()
    row = OutboxMessage.objects.get()
    assert row.state == "failed" and row.attempts == delivery.MAX_ATTEMPTS


def test_backoff_grows_and_is_capped():
    cap = delivery.BACKOFF_CAP_SECONDS
    assert backoff(1, cap_seconds=cap) == dt.timedelta(seconds=30)
    assert backoff(2, cap_seconds=cap) == dt.timedelta(seconds=60)
    assert backoff(30, cap_seconds=cap) == dt.timedelta(hours=1)


def test_webhook_rows_are_handed_to_the_webhook_fan_out(db, customer_a, monkeypatch):
    handed = []
    monkeypatch.setattr(delivery, "fan_out", handed.append)
    notify(event="incident.created", key="incident:9:created", customer=customer_a, emails=[])
    assert outbox_deliver_due()["sent"] == 1
    assert [m.key for m in handed] == ["incident:9:created:webhook"]
    assert OutboxMessage.objects.get().state == "sent"


def test_a_repeated_event_key_writes_no_second_row(db):
    for _ in range(2):
        notify(
            event="incident.created",
            key="incident:5:created",
            emails=["a@x.example", "A@X.example "],
        )
    assert OutboxMessage.objects.count() == 2  # one e-mail (addresses normalised) + one webhook


def test_outbox_rows_roll_back_with_the_event_they_report(db):
    with pytest.raises(RuntimeError), transaction.atomic():
        notify(event="incident.created", key="incident:6:created", emails=["a@x.example"])
        raise RuntimeError
    assert not OutboxMessage.objects.exists()


def test_business_hours_reminders_wait_for_the_recipients_opening_and_immediate_ones_do_not(db):
    amsterdam = BusinessCalendar.standard("Europe/Amsterdam")
    new_york = BusinessCalendar.standard("America/New_York")
    saturday_night = dt.datetime(2026, 3, 7, 2, 0, tzinfo=UTC)
    with time_machine.travel(saturday_night, tick=False):
        notify(
            event="work_order.expiring",
            key="wo:3:expiring_30",
            emails=["ams@x.example", "nyc@x.example"],
            calendars={"ams@x.example": amsterdam, "nyc@x.example": new_york},
            urgency="business_hours",
        )
        notify(
            event="incident.response_breached",
            key="incident:7:response:breach",
            emails=["ams@x.example"],
            calendar=amsterdam,
            urgency="immediate",
        )
    rows = {
        (r.event, r.recipient): r.deliver_after
        for r in OutboxMessage.objects.filter(channel="email")
    }
    # Monday 09:00 local: 08:00 UTC in Amsterdam, 13:00 UTC in New York (EST, before DST).
    assert rows[("work_order.expiring", "ams@x.example")] == dt.datetime(
        2026, 3, 9, 8, 0, tzinfo=UTC
    )
    assert rows[("work_order.expiring", "nyc@x.example")] == dt.datetime(
        2026, 3, 9, 13, 0, tzinfo=UTC
    )
    assert rows[("incident.response_breached", "ams@x.example")] == saturday_night
    # The webhook row of a reminder goes at once.
    assert OutboxMessage.objects.get(key="wo:3:expiring_30:webhook").deliver_after == saturday_night


def test_delivery_is_enqueued_once_per_transaction_on_commit(
    db, django_capture_on_commit_callbacks
):
    from notifications.services import _enqueue_delivery

    with django_capture_on_commit_callbacks() as callbacks:
        with transaction.atomic():
            notify(event="incident.created", key="incident:8:a", emails=["a@x.example"])
            notify(event="incident.created", key="incident:8:b", emails=["a@x.example"])
    assert [cb for cb in callbacks if cb is _enqueue_delivery] == [_enqueue_delivery]
