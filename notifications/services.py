"""Writes to the outbox. Callers are inside their own transaction: the outbox row
commits or rolls back with the event it reports."""

import datetime as dt
import json
import logging
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from notifications.choices import Channel, OutboxState, Urgency
from notifications.models import OutboxMessage, SweepRun, WorkOrderNotice
from notifications.selectors import BEAT_JOB

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class OutboxRow:
    """An outbox row to insert: a light stand-in for OutboxMessage (the sweep builds
    tens of thousands per run, and a model instance costs ten times as much)."""

    key: str
    event: str
    channel: str
    urgency: str
    customer_id: int | None
    recipient: str
    subject: str
    body: str
    payload: dict
    occurred_at: dt.datetime
    deliver_after: dt.datetime
    digest_group: str = ""
    language: str = ""

    def to_model(self) -> OutboxMessage:
        return OutboxMessage(
            key=self.key,
            event=self.event,
            channel=self.channel,
            urgency=self.urgency,
            customer_id=self.customer_id,
            recipient=self.recipient,
            subject=self.subject,
            body=self.body,
            payload=self.payload,
            occurred_at=self.occurred_at,
            deliver_after=self.deliver_after,
            digest_group=self.digest_group,
            language=self.language,
        )


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
    digest: str = "",
    language: str = "",
) -> list[OutboxRow]:
    """The unsaved outbox rows of one notification: one e-mail row per address and, when
    `webhook`, one webhook row that delivery fans out to the matching subscriptions.
    outbox_write writes them (a repeated key writes nothing); callers that write many
    notifications at once hand all their rows to one outbox_write (the deadline sweep).
    Localized callers go through notifications.localize.localized_notify.

    Business-hours urgency: each e-mail waits for its recipient's next business
    opening, from `calendars[email]` or else `calendar` (a contracts.clock clock).
    Webhooks go at once.

    `digest` (e.g. "incident:42"): each e-mail waits settings.INCIDENT_DIGEST_SECONDS and
    is sent together with the reader's other pending e-mails of that digest, as one."""
    customer_id = customer.pk if customer is not None else None
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
            elif digest:
                after = now + dt.timedelta(seconds=settings.INCIDENT_DIGEST_SECONDS)
        rows.append(
            OutboxRow(
                f"{key}:email:{email}"[:255],
                event,
                Channel.EMAIL,
                urgency,
                customer_id,
                email,
                subject[:300],
                body,
                payload or {},
                occurred_at,
                after,
                f"{digest}:{email}"[:300] if digest else "",
                language,
            )
        )
    if webhook:
        rows.append(
            OutboxRow(
                f"{key}:webhook"[:255],
                event,
                Channel.WEBHOOK,
                Urgency.IMMEDIATE,
                customer_id,
                "",
                "",
                "",
                payload or {},
                occurred_at,
                now,
            )
        )
    return rows


def outbox_write(rows: list[OutboxRow], *, now: dt.datetime | None = None, batch=None) -> int:
    """Insert outbox rows; a key already there is skipped (ON CONFLICT DO NOTHING).

    One INSERT ... SELECT FROM unnest(arrays): the deadline sweep writes
    thousands of rows per run, and per-row parameter handling would dominate its time.
    With `batch` (a core.batch.InsertBatch) the statement joins the caller's other
    INSERTs in one round trip there. Returns the number of rows handed in.
    """
    if not rows:
        return 0
    now = now or timezone.now()
    statement = _outbox_insert(rows, now=now)
    if batch is not None:
        batch.add_sql(*statement)
    else:
        with connection.cursor() as cursor:
            cursor.execute(*statement)
    if any(row.deliver_after <= now for row in rows):
        request_delivery()
    return len(rows)


def _outbox_insert(rows: list[OutboxRow], *, now: dt.datetime) -> tuple[str, list]:
    """outbox_write's PostgreSQL statement and its parameters."""
    columns = zip(
        *(
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
                r.digest_group,
                r.language,
            )
            for r in rows
        ),
        strict=True,
    )
    sql = (
        "INSERT INTO notifications_outboxmessage (key, event, channel, urgency, customer_id, recipient, subject, "
        "body, payload, occurred_at, deliver_after, digest_group, language, state, attempts, "
        "last_error, created_at) "
        "SELECT k, e, ch, u, c, r, s, b, p::jsonb, o, d, g, l, %s, 0, '', %s FROM unnest("
        "%s::text[], %s::text[], %s::text[], %s::text[], %s::bigint[], %s::text[], %s::text[], %s::text[], "
        "%s::text[], %s::timestamptz[], %s::timestamptz[], %s::text[], %s::text[]) "
        "AS t(k, e, ch, u, c, r, s, b, p, o, d, g, l) "
        "ON CONFLICT (key) DO NOTHING"
    )
    return sql, [OutboxState.PENDING, now, *(list(c) for c in columns)]


def _next_opening(clock, at: dt.datetime) -> dt.datetime:
    try:
        return clock.next_opening(at)
    except Exception:  # a broken calendar must not lose the notification: send now
        logger.exception("business-hours deferral failed; delivering at once")
        return at


def _publish_delivery() -> None:
    # Imported here: tasks import services, not the other way round at module load.
    from notifications.tasks import deliver_outbox

    try:
        # retry=False: a broker that is down must not stall the publisher;
        # the beat entry delivers the row within seconds anyway.
        deliver_outbox.apply_async(retry=False)
    except Exception as exc:  # the broker is an accelerator here, not a requirement
        logger.warning("could not enqueue outbox delivery: %s", exc)


class _DeliveryPublisher:
    """Publishes deliver_outbox from a daemon thread of this process (issue #6).

    A publish is a broker round trip plus kombu's work; done in the committing request
    it delayed every response that wrote an immediate outbox row, and under load most
    were redundant (one delivery run sends every due row). A request only sets an
    event; the thread publishes once for every request that set it meanwhile, always
    after they committed, then rests PUBLISH_INTERVAL_SECONDS: each commit is followed
    by a publish within that interval, and a process publishes at most a few times a
    second. Beat's delivery entry stays the guarantee: a publish lost with a dying
    process is made up within portal.schedule.DELIVERY_INTERVAL_SECONDS.
    """

    PUBLISH_INTERVAL_SECONDS = 0.1

    def __init__(self) -> None:
        self._pid: int | None = None
        self._wanted: threading.Event | None = None
        self._guard = threading.Lock()
        # A child forked while another thread held the lock would wait on it forever.
        os.register_at_fork(after_in_child=self._forked)

    def _forked(self) -> None:
        self._guard = threading.Lock()
        self._pid = None

    def request(self) -> None:
        if self._pid != os.getpid():  # first use, or a forked child (threads do not fork)
            self._start()
        self._wanted.set()

    def _start(self) -> None:
        with self._guard:
            if self._pid == os.getpid():
                return
            self._wanted = threading.Event()
            threading.Thread(
                target=self._run, args=(self._wanted,), name="outbox-publisher", daemon=True
            ).start()
            self._pid = os.getpid()

    def _run(self, wanted: threading.Event) -> None:
        while True:
            wanted.wait()
            wanted.clear()
            _publish_delivery()
            time.sleep(self.PUBLISH_INTERVAL_SECONDS)


_publisher = _DeliveryPublisher()


def _enqueue_delivery() -> None:
    """Ask for a delivery run now (an on_commit callback of request_delivery)."""
    from notifications.tasks import deliver_outbox

    if deliver_outbox.app.conf.task_always_eager:
        _publish_delivery()  # runs the task here and now, as eager mode means
    else:
        _publisher.request()


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


def sweep_run_record(
    *, job: str, started_at: dt.datetime, handled: int, failed: int, detail: dict | None = None
) -> SweepRun:
    """Record a finished run of a periodic job in one INSERT."""
    return SweepRun.objects.create(
        job=job,
        started_at=started_at,
        finished_at=timezone.now(),
        handled=handled,
        failed=failed,
        detail=detail or {},
    )


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


def work_order_notice_claim(
    *, work_order, kind: str, end_date: dt.date, reference: str = "", detail: dict | None = None
) -> WorkOrderNotice | None:
    """Insert a work order notice's unique row; the notice for the caller that inserted it,
    None when it already exists (the notice was sent: send nothing twice).

    A savepoint around the INSERT: a concurrent sweep inserting the same key waits for
    ours to commit, then fails on `work_order_notice_once` and gets None back, and the
    caller's transaction goes on.
    """
    try:
        with transaction.atomic():
            return WorkOrderNotice.objects.create(
                work_order=work_order,
                kind=kind,
                end_date=end_date,
                reference=reference,
                detail=detail or {},
            )
    except IntegrityError as exc:
        constraint = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None)
        if constraint != "work_order_notice_once":
            raise
        return None


def work_order_notice_record(*, notice: WorkOrderNotice, detail: dict) -> WorkOrderNotice:
    """Record what a claimed notice did (e.g. what the expiry expired) on its row."""
    notice.detail = detail
    notice.save(update_fields=["detail"])
    return notice


def beat_tick_record(*, at: dt.datetime | None = None) -> None:
    """Record that beat (through a worker) is alive: one row, updated in place."""
    at = at or timezone.now()
    updated = SweepRun.objects.filter(job=BEAT_JOB).update(started_at=at, finished_at=at)
    if not updated:
        SweepRun.objects.create(job=BEAT_JOB, started_at=at, finished_at=at)
