"""Writes to the outbox. Callers are inside their own transaction: the outbox row
commits or rolls back with the event it reports."""

import datetime as dt

from django.utils import timezone

from notifications.choices import Channel, Urgency
from notifications.models import OutboxMessage


def notify(
    *,
    event: str,
    key: str,
    customer=None,
    payload: dict | None = None,
    emails: list[str] | tuple[str, ...] = (),
    subject: str = "",
    body: str = "",
    urgency: str = Urgency.IMMEDIATE,
    occurred_at: dt.datetime | None = None,
    deliver_after: dt.datetime | None = None,
    webhook: bool = True,
) -> list[OutboxMessage]:
    """Record a notification of `event` once per recipient (unique `key` per row).

    One e-mail row per address and, when `webhook`, one webhook row that the
    delivery task fans out to the matching subscriptions. A repeat of the same
    event key writes nothing (ON CONFLICT DO NOTHING).
    """
    occurred_at = occurred_at or timezone.now()
    deliver_after = deliver_after or timezone.now()
    rows = []
    for email in dict.fromkeys(e.strip().lower() for e in emails if e and e.strip()):
        rows.append(
            OutboxMessage(
                key=f"{key}:email:{email}"[:255], event=event, channel=Channel.EMAIL, urgency=urgency,
                customer=customer, recipient=email, subject=subject, body=body, payload=payload or {},
                occurred_at=occurred_at, deliver_after=deliver_after,
            )
        )
    if webhook:
        rows.append(
            OutboxMessage(
                key=f"{key}:webhook"[:255], event=event, channel=Channel.WEBHOOK, urgency=Urgency.IMMEDIATE,
                customer=customer, payload=payload or {}, occurred_at=occurred_at, deliver_after=timezone.now(),
            )
        )
    return OutboxMessage.objects.bulk_create(rows, ignore_conflicts=True)
