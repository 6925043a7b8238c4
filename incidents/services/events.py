"""An incident's timeline entries and its notices (outbox rows: e-mails in each
reader's language, the webhook payload from incidents.notices)."""

from __future__ import annotations

from core.actors import actor_label, person
from core.scoping import actor_is_staff
from incidents import notices
from incidents.models import Incident, IncidentEvent
from notifications.choices import Urgency
from notifications.localize import (
    contact_reader,
    localized_notify,
    readers_for,
    staff_reader,
)


def record_event(
    incident: Incident,
    kind: str,
    by,
    *,
    body: str = "",
    data: dict | None = None,
    internal: bool = False,
) -> IncidentEvent:
    event = event_row(incident, kind, by, body=body, data=data, internal=internal)
    event.save(force_insert=True)
    return event


def event_row(
    incident: Incident,
    kind: str,
    by,
    *,
    body: str = "",
    data: dict | None = None,
    internal: bool = False,
) -> IncidentEvent:
    """A timeline entry, unsaved (see record_event). `internal`: staff only, never the customer's."""
    return IncidentEvent(
        incident=incident,
        kind=kind,
        author=person(by),
        author_label=actor_label(by),
        from_customer=by is not None and not actor_is_staff(by),
        internal=internal,
        body=body,
        data=data or {},
    )


def payload(incident: Incident, **detail) -> dict:
    """The outbox payload of an incident event (incidents.notices, the one place)."""
    return notices.incident_payload(incident, **detail)


def manager_email(incident: Incident) -> str:
    manager = incident.work_order.account_manager
    return manager.email if manager else ""


def _readers(incident: Incident, emails) -> list:
    """Each address as a notifications.localize.Reader: the account manager, the
    incident's contact, or (anyone else) looked up by address."""
    manager = incident.work_order.account_manager
    contact = incident.contact if incident.contact_id else None
    readers = []
    for email in emails:
        if not email:
            continue
        if manager is not None and email == manager.email:
            readers.append(staff_reader(manager))
        elif contact is not None and email == contact.email:
            readers.append(contact_reader(contact, incident.work_order))
        else:
            readers += readers_for([email], customer=incident.work_order.customer)
    return readers


def notify_incident(
    incident: Incident,
    event: str,
    key: str,
    *,
    emails,
    subject=None,
    webhook: bool = True,
    batch=None,
    urgency: str = Urgency.IMMEDIATE,
    calendars=None,
    **extra,
):
    """Outbox rows for an incident event; each e-mail in its reader's language and zone.

    `subject` is a callable (rendered per reader) or None for "<number>: <title>";
    `batch` (a core.batch.InsertBatch) takes the INSERT to send with others;
    `urgency` Urgency.BUSINESS_HOURS holds each e-mail for its reader's next opening
    in `calendars` ({email: clock}, notifications.calendars)."""

    def render() -> tuple[str, str]:
        text = subject() if subject is not None else f"{incident.number}: {incident.title}"
        return text, notices.email_body(incident, event, extra)

    localized_notify(
        readers=_readers(incident, emails),
        render=render,
        event=event,
        key=key,
        customer=incident.work_order.customer,
        payload=payload(incident, **extra),
        webhook=webhook,
        batch=batch,
        urgency=urgency,
        calendars=calendars,
        # One digest e-mail per reader per incident for what happens within the window
        # (issue #17); deadline notices (the sweep) and business-hours ones are not held.
        digest=f"incident:{incident.pk}"
        if urgency == Urgency.IMMEDIATE and event != "incident.created"
        else "",
    )
