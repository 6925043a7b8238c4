"""Writes to the outbox. Callers are inside their own transaction: the outbox row
commits or rolls back with the event it reports."""

import datetime as dt
import json
import logging
from collections.abc import Mapping

from django.db import connection, transaction
from django.utils import timezone

from notifications.choices import Channel, Urgency
from notifications.models import OutboxMessage, SweepRun
from notifications.selectors import BEAT_JOB

logger = logging.getLogger(__name__)


def outbox_rows(
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
    calendars: Mapping | None = None,
    calendar=None,
    now: dt.datetime | None = None,
) -> list[OutboxMessage]:
    """The unsaved outbox rows of one notification (see notify); for callers that
    write many notifications in one bulk insert (the deadline sweep)."""
    now = now or timezone.now()
    occurred_at = occurred_at or now
    calendars = {k.strip().lower(): v for k, v in (calendars or {}).items()}
    rows = []
    for email in dict.fromkeys(e.strip().lower() for e in emails if e and e.strip()):
        after = deliver_after
        if after is None:
            after = now
            clock = calendars.get(email, calendar)
            if urgency == Urgency.BUSINESS_HOURS and clock is not None:
                after = _next_opening(clock, now)
        rows.append(
            OutboxMessage(
                key=f"{key}:email:{email}"[:255],
                event=event,
                channel=Channel.EMAIL,
                urgency=urgency,
                customer=customer,
                recipient=email,
                subject=subject[:300],
                body=body,
                payload=payload or {},
                occurred_at=occurred_at,
                deliver_after=after,
            )
        )
    if webhook:
        rows.append(
            OutboxMessage(
                key=f"{key}:webhook"[:255],
                event=event,
                channel=Channel.WEBHOOK,
                urgency=Urgency.IMMEDIATE,
                customer=customer,
                payload=payload or {},
                occurred_at=occurred_at,
                deliver_after=now,
            )
        )
    return rows


_OUTBOX_COLUMNS = (
    "key",
    "event",
    "channel",
    "urgency",
    "customer_id",
    "recipient",
    "subject",
    "body",
    "payload",
    "occurred_at",
    "deliver_after",
    "state",
    "attempts",
    "last_error",
    "created_at",
)


def outbox_write(rows: list[OutboxMessage], *, now: dt.datetime | None = None) -> int:
    """Insert outbox rows; a key already there is skipped (ON CONFLICT DO NOTHING).

    On PostgreSQL one multi-row INSERT (execute_values): the deadline sweep writes
    thousands of rows per run and the ORM's per-object overhead would dominate.
    Returns the number of rows handed in.
    """
    if not rows:
        return 0
    now = now or timezone.now()
    if connection.vendor == "postgresql":
        from psycopg2.extras import execute_values

        values = [
            (
                r.key,
                r.event,
                r.channel,
                r.urgency,
                r.customer_id,
                r.recipient,
                r.subject,
                r.body,
                json.dumps(r.payload or {}),
                r.occurred_at,
                r.deliver_after,
                r.state,
                r.attempts,
                r.last_error,
                r.created_at,
            )
            for r in rows
        ]
        with connection.cursor() as cursor:
            execute_values(
                cursor.cursor,
                f"INSERT INTO notifications_outboxmessage ({', '.join(_OUTBOX_COLUMNS)}) VALUES %s ON CONFLICT (key) DO NOTHING",
                values,
                page_size=1000,
            )
    else:
        OutboxMessage.objects.bulk_create(rows, ignore_conflicts=True)
    if any(row.deliver_after <= now for row in rows):
        request_delivery()
    return len(rows)


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
    calendars: Mapping | None = None,
    calendar=None,
) -> list[OutboxMessage]:
    """Record a notification of `event` once per recipient (unique `key` per row).

    One e-mail row per address and, when `webhook`, one webhook row that the
    delivery task fans out to the matching subscriptions. A repeat of the same
    event key writes nothing (ON CONFLICT DO NOTHING).

    Business-hours urgency: each e-mail waits for its recipient's next business
    opening, from `calendars[email]` or else `calendar` (a contracts.clock clock),
    so nobody is woken for what can wait. Webhooks go at once: a machine is not
    woken, and the ticketing tool decides for itself.
    """
    now = timezone.now()
    rows = outbox_rows(
        event=event,
        key=key,
        customer=customer,
        payload=payload,
        emails=emails,
        subject=subject,
        body=body,
        urgency=urgency,
        occurred_at=occurred_at,
        deliver_after=deliver_after,
        webhook=webhook,
        calendars=calendars,
        calendar=calendar,
        now=now,
    )
    outbox_write(rows, now=now)
    return rows


def _next_opening(clock, at: dt.datetime) -> dt.datetime:
    try:
        return clock.next_opening(at)
    except Exception:  # a broken calendar must not lose the notification: send now
        logger.exception("business-hours deferral failed; delivering at once")
        return at


def _enqueue_delivery() -> None:
    # Imported here: tasks import services, not the other way round at module load.
    from notifications.tasks import deliver_outbox

    try:
        # retry=False: a broker that is down must not stall the committing request;
        # the beat entry delivers the row within seconds anyway.
        deliver_outbox.apply_async(retry=False)
    except Exception as exc:  # the broker is an accelerator here, not a requirement
        logger.warning("could not enqueue outbox delivery: %s", exc)


def request_delivery() -> None:
    """Ask for an outbox delivery run once the current transaction commits.

    Registered at most once per transaction, so a sweep writing thousands of rows
    enqueues one task, not thousands.
    """
    if connection.in_atomic_block and any(
        entry[1] is _enqueue_delivery for entry in connection.run_on_commit
    ):
        return
    transaction.on_commit(_enqueue_delivery)


def sweep_run_start(*, job: str) -> SweepRun:
    """Record that a periodic job started (committed at once, so a crash leaves a trace)."""
    return SweepRun.objects.create(job=job, started_at=timezone.now())


def sweep_run_finish(
    *, run: SweepRun, handled: int, failed: int, detail: dict | None = None
) -> SweepRun:
    """Record how a periodic job ended: counts, and any poison rows in `detail`."""
    run.finished_at = timezone.now()
    run.handled = handled
    run.failed = failed
    run.detail = detail or {}
    run.save(update_fields=["finished_at", "handled", "failed", "detail"])
    return run


def beat_tick_record(*, at: dt.datetime | None = None) -> None:
    """Record that beat (through a worker) is alive: one row, updated in place."""
    at = at or timezone.now()
    updated = SweepRun.objects.filter(job=BEAT_JOB).update(started_at=at, finished_at=at)
    if not updated:
        SweepRun.objects.create(job=BEAT_JOB, started_at=at, finished_at=at)
