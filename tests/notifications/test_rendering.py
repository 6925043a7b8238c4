"""Issue #20: a new incident's e-mails are rendered by the delivery worker, in each
reader's language and zone, not in the request that opened the incident."""

import pytest
from django.core import mail
from django.utils import translation

from incidents import services as incident_services
from notifications.delivery import outbox_deliver_due
from notifications.models import OutboxMessage
from notifications.rendering import RENDER_KEY

pytestmark = pytest.mark.django_db


def test_the_request_writes_the_event_recipients_and_language_not_the_text(
    staff, work_order_a, contact_a, user_a
):  # R22: each reader's language
    incident = incident_services.incident_open(
        work_order=work_order_a, contact=contact_a, title="VPN", severity="normal", by=user_a
    )
    rows = {
        r.recipient: r
        for r in OutboxMessage.objects.filter(event="incident.created", channel="email")
    }
    assert set(rows) == {contact_a.email, staff.email}
    for row in rows.values():
        assert row.body == "" and row.subject == ""
        assert row.payload["data"]["number"] == incident.number
    assert rows[contact_a.email].payload[RENDER_KEY]["language"] == "nl"  # customer_a's
    assert rows[staff.email].payload[RENDER_KEY]["language"] == "en"
    webhook = OutboxMessage.objects.get(event="incident.created", channel="webhook")
    assert RENDER_KEY not in webhook.payload  # integrators see the API representation only


def test_the_delivery_renders_each_email_in_its_readers_language(
    staff, work_order_a, contact_a, user_a
):  # R22
    with translation.override("en"):  # whoever opened it, the contact reads Dutch
        incident = incident_services.incident_open(
            work_order=work_order_a, contact=contact_a, title="VPN", severity="normal", by=user_a
        )
    outbox_deliver_due()
    sent = {m.to[0]: m for m in mail.outbox}
    assert sent[contact_a.email].subject == f"{incident.number}: VPN"
    assert sent[contact_a.email].body.startswith(
        f"Incident {incident.number} (VPN) is geopend met probleemniveau normaal"
    )
    assert sent[staff.email].body.startswith(
        f"Incident {incident.number} (VPN) was opened with severity normal"
    )
    assert f"/incidents/{incident.pk}/" in sent[staff.email].body
    # The text is kept on the row: what staff see, what a retry sends.
    row = OutboxMessage.objects.get(recipient=contact_a.email, event="incident.created")
    assert row.body.startswith(f"Incident {incident.number} (VPN) is geopend")
