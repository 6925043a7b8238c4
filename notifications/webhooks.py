"""Signed webhook delivery (API.md "Webhooks").

- `fan_out(outbox_message)`: one `WebhookDelivery` per active subscription that wants
  the event: the customer's own subscriptions and the staff-wide ones (customer null).
  Called by notifications.delivery for webhook outbox rows; the unique constraint
  (subscription, outbox) makes a repeated fan-out write nothing.
- `webhooks_deliver_due()`: claims due deliveries (SELECT ... FOR UPDATE SKIP LOCKED, then a
  lease on `next_attempt_at`) and POSTs each outside any transaction, so a slow
  receiver never holds a lock. Every attempt is a `WebhookAttempt` row.
- Headers: `X-Portal-Event`, `X-Portal-Delivery` (the delivery's uuid, the same on every
  retry, so receivers can drop repeats) and `X-Portal-Signature: t=<unix>,v1=<hex
  HMAC-SHA256 of "<t>.<body>" with the subscription's secret>`.
- Retries: exponential backoff (30 s, 1 min, 2 min ... capped at 2 hours) for
  WEBHOOK_RETRY_HOURS (at least 24 hours) from the first attempt, the last attempt
  at the end of that window; then `gave_up`.
- `webhook_redeliver(delivery)`: staff's "send it again now" (admin action); a failure
  restarts the retry window from now.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import http.client
import json
import logging
import socket
import ssl
import time

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from core.actors import author
from core.times import utc_iso
from notifications.choices import DeliveryState
from notifications.models import OutboxMessage, WebhookAttempt, WebhookDelivery, WebhookSubscription
from notifications.retry import backoff
from notifications.targets import TargetRefused, resolve_target

logger = logging.getLogger(__name__)

#: Backoff (notifications.retry): 30 s doubling, capped at two hours between attempts.
BACKOFF_CAP_SECONDS = 2 * 3600
WEBHOOK_BATCH_SIZE = 50
USER_AGENT = "support-portal-webhooks/1"


def retry_window() -> dt.timedelta:
    hours = getattr(settings, "WEBHOOK_RETRY_HOURS", 25)
    return dt.timedelta(hours=max(24, hours))


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The X-Portal-Signature value for a body sent at `timestamp`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(
    secret: str, header: str, body: bytes, *, tolerance: int = 300, now: float | None = None
) -> bool:
    """Check an X-Portal-Signature header (what a receiver does; used by tests and examples)."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def subscriptions_for(message: OutboxMessage):
    """Active subscriptions that want this event: the customer's own and staff-wide ones."""
    who = Q(customer__isnull=True)
    if message.customer_id is not None:
        who |= Q(customer_id=message.customer_id)
    # A subscription made with a key that was since revoked receives nothing more.
    live = Q(api_key__isnull=True) | Q(api_key__revoked_at__isnull=True)
    subscriptions = WebhookSubscription.objects.filter(who, live, active=True)
    return list(subscriptions.filter(events__contains=[message.event]))


def envelope(delivery: WebhookDelivery) -> dict:
    """The one envelope of every event (API.md Revision 2): `id` (the delivery id, the
    same on retries), `event`, `created_at`, `data` (the object as its GET returns it)
    and, for incident events, the event's own figures in `detail` (work-order events
    carry theirs in `data.detail`). Schema: notifications/envelope.schema.json.
    Outbox rows are written as {"data", "detail"} by incidents.notices and
    credits.entitlements; a row written before that shape is sent as `data` whole."""
    payload = delivery.payload or {}
    body = {
        "id": str(delivery.delivery_id),
        "event": delivery.event,
        "created_at": utc_iso(delivery.created_at),
        "data": payload.get("data", payload) if isinstance(payload, dict) else payload,
    }
    if isinstance(payload, dict) and "data" in payload and "detail" in payload:
        body["detail"] = payload["detail"]
    return body


def body_of(delivery: WebhookDelivery) -> bytes:
    # Built the same way on every retry: the same bytes, so the same event id.
    return json.dumps(
        envelope(delivery), sort_keys=True, separators=(",", ":"), default=str
    ).encode()


def fan_out(message: OutboxMessage) -> list[WebhookDelivery]:
    """Create the deliveries of one webhook outbox row (idempotent)."""
    now = timezone.now()
    rows = [
        WebhookDelivery(
            subscription=sub,
            outbox=message,
            event=message.event,
            payload=message.payload or {},
            next_attempt_at=now,
            created_at=now,
        )
        for sub in subscriptions_for(message)
    ]
    return WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address the target guard checked, whatever the name resolves
    to now; the Host header still names the host."""

    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """As above, with TLS: SNI and the certificate check use the host name."""

    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def _post(url: str, body: bytes, headers: dict) -> tuple[int | None, str]:
    """POST once; (status code, error text). Never raises for network trouble.

    The URL is resolved and checked once (notifications.targets) and the request goes
    to the checked address, so a name re-pointed after the check reaches nothing new.
    A redirect is reported as the receiver's answer, never followed: following it could
    lead to an address the guard refused.
    """
    try:
        target = resolve_target(url)
    except TargetRefused as exc:
        return None, f"refused: {exc}"
    kind = _PinnedHTTPSConnection if target.https else _PinnedHTTPConnection
    error = ""
    for address in target.addresses:
        connection_ = kind(
            target.host, target.port, address, timeout=settings.WEBHOOK_TIMEOUT_SECONDS
        )
        try:
            try:
                connection_.connect()
            except (OSError, ValueError) as exc:
                # Nothing was sent: the next checked address may answer.
                error = f"{exc.__class__.__name__}: {exc}"[:2000]
                continue
            try:
                connection_.request("POST", target.path, body=body, headers=headers)
                response = connection_.getresponse()
                response.read(1024)
            except (OSError, http.client.HTTPException, ValueError) as exc:
                return None, f"{exc.__class__.__name__}: {exc}"[:2000]
            status = response.status
            return status, "" if 200 <= status < 300 else f"HTTP {status}"
        finally:
            connection_.close()
    return None, error


IN_FLIGHT = "in flight: no answer recorded (the worker stopped while sending)"


def deliverable(subscription: WebhookSubscription) -> bool:
    """Whether a subscription still receives: active, and its API key (if it was made
    with one) not revoked. Read from the database at each delivery, so a key revoked
    after the fan-out stops what is already queued."""
    return WebhookSubscription.objects.filter(
        Q(api_key__isnull=True) | Q(api_key__revoked_at__isnull=True),
        pk=subscription.pk,
        active=True,
    ).exists()


def _begin(delivery: WebhookDelivery, *, now: dt.datetime, lease: dt.datetime | None):
    """Log the attempt and renew the lease BEFORE sending (one transaction).

    A worker killed mid-send leaves this row (with IN_FLIGHT as its error) and a lease
    of seconds: the next worker sends again and logs a second attempt, so the log never
    shows one attempt for two sends. With `lease` (the value claim_due wrote), the
    renewal is conditional: a worker whose lease another worker took over sends nothing.
    Returns the attempt row, or None when the delivery is no longer ours to send.
    """
    rows = WebhookDelivery.objects.filter(
        pk=delivery.pk, state__in=[DeliveryState.PENDING, DeliveryState.RETRYING]
    )
    if lease is not None:
        rows = rows.filter(next_attempt_at=lease)
    with transaction.atomic():
        renewed = rows.update(
            attempts=F("attempts") + 1,
            next_attempt_at=now + dt.timedelta(seconds=lease_seconds()),
        )
        if lease is not None and not renewed:
            return None
        if not renewed:  # a staff redelivery of a delivered or given-up one
            WebhookDelivery.objects.filter(pk=delivery.pk).update(attempts=F("attempts") + 1)
        delivery.attempts += 1
        return WebhookAttempt.objects.create(delivery=delivery, attempted_at=now, error=IN_FLIGHT)


def attempt(
    delivery: WebhookDelivery,
    *,
    now: dt.datetime | None = None,
    restart_window: bool = False,
    lease: dt.datetime | None = None,
) -> WebhookAttempt | None:
    """Send one delivery once, log the attempt, and move its state (delivered / retrying / gave_up).

    The attempt is logged before the request goes out (`_begin`) and completed after.
    The retry window starts at the first failed attempt (`window_started_at`) and the
    backoff counts the failures within it (`window_failures`). `restart_window` (a staff
    redelivery): a failure starts a new window from now, with the backoff from its first
    step again. None when another worker took the delivery over (`lease`).
    """
    subscription = delivery.subscription
    now = now or timezone.now()
    if not deliverable(subscription):
        # Revoked key or deactivated subscription: never sent again.
        with transaction.atomic():
            delivery.state = DeliveryState.GAVE_UP
            delivery.save(update_fields=["state"])
            return WebhookAttempt.objects.create(
                delivery=delivery,
                attempted_at=now,
                error="not sent: the subscription is inactive or its API key was revoked",
            )
    log = _begin(delivery, now=now, lease=lease)
    if log is None:
        return None
    body = body_of(delivery)
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Portal-Event": delivery.event,
        "X-Portal-Delivery": str(delivery.delivery_id),
        "X-Portal-Signature": sign(subscription.secret, timestamp, body),
    }
    started = time.monotonic()
    status_code, error = _post(subscription.url, body, headers)
    duration_ms = int((time.monotonic() - started) * 1000)
    ok = status_code is not None and 200 <= status_code < 300
    with transaction.atomic():
        log.status_code = status_code
        log.error = "" if ok else error
        log.duration_ms = duration_ms
        log.save(update_fields=["status_code", "error", "duration_ms"])
        if ok:
            delivery.state = DeliveryState.DELIVERED
            delivery.delivered_at = now
        else:
            if restart_window or delivery.window_started_at is None:
                delivery.window_started_at = now
                delivery.window_failures = 0
            delivery.window_failures += 1
            deadline = delivery.window_started_at + retry_window()
            if now >= deadline:
                delivery.state = DeliveryState.GAVE_UP
                logger.warning(
                    "webhook %s gave up after %s attempts: %s",
                    delivery.delivery_id,
                    delivery.attempts,
                    error,
                )
            else:
                delivery.state = DeliveryState.RETRYING
                # The last try falls at the end of the window, so retries span all of it.
                delivery.next_attempt_at = min(
                    now + backoff(delivery.window_failures, cap_seconds=BACKOFF_CAP_SECONDS),
                    deadline,
                )
        delivery.save(
            update_fields=[
                "state",
                "delivered_at",
                "next_attempt_at",
                "window_started_at",
                "window_failures",
            ]
        )
    return log


def lease_seconds() -> int:
    """How long a claimed delivery is ours: one request's timeout (per address tried)
    and a margin, so a worker killed mid-send delays the delivery by seconds."""
    return 2 * settings.WEBHOOK_TIMEOUT_SECONDS + 5


def claim_due(
    *, now: dt.datetime | None = None, limit: int = WEBHOOK_BATCH_SIZE
) -> list[WebhookDelivery]:
    """Take up to `limit` due deliveries for this worker (claim before you act).

    The lease is short; each delivery's is renewed (conditionally on this claim's
    value) just before it is sent, so a long batch never holds a row it is not sending.
    """
    now = now or timezone.now()
    lease = now + dt.timedelta(seconds=lease_seconds())
    with transaction.atomic():
        rows = list(
            WebhookDelivery.objects.filter(
                state__in=[DeliveryState.PENDING, DeliveryState.RETRYING], next_attempt_at__lte=now
            )
            .order_by("next_attempt_at", "id")
            .select_for_update(skip_locked=True)[:limit]
        )
        if rows:
            WebhookDelivery.objects.filter(pk__in=[r.pk for r in rows]).update(
                next_attempt_at=lease
            )
    ids = [r.pk for r in rows]
    return list(
        WebhookDelivery.objects.filter(pk__in=ids)
        .select_related("subscription")
        .order_by("next_attempt_at", "id")
    )


def webhooks_deliver_due(
    *, now: dt.datetime | None = None, limit: int = WEBHOOK_BATCH_SIZE
) -> dict:
    """Send every due delivery once. Returns counts (for the task and tests)."""
    delivered = failed = 0
    for delivery in claim_due(now=now, limit=limit):
        log = attempt(delivery, now=now, lease=delivery.next_attempt_at)
        if log is None:
            continue
        if log.error or not log.status_code or log.status_code >= 300:
            failed += 1
        else:
            delivered += 1
    return {"delivered": delivered, "failed": failed}


def deliver_until_drained(*, budget_seconds: float = 40.0, limit: int = WEBHOOK_BATCH_SIZE) -> dict:
    """Deliver batch after batch until nothing is due or the time budget is spent.

    One batch per beat tick drains only ~200 deliveries a minute, too slow to catch
    up after an outage; the budget stays below the task's soft time limit.
    """
    started = time.monotonic()
    totals = {"delivered": 0, "failed": 0, "batches": 0}
    while True:
        counts = webhooks_deliver_due(limit=limit)
        totals["delivered"] += counts["delivered"]
        totals["failed"] += counts["failed"]
        totals["batches"] += 1
        if (
            counts["delivered"] + counts["failed"] < limit
            or time.monotonic() - started > budget_seconds
        ):
            return totals


@transaction.atomic
def webhook_subscribe(
    *, url: str, events: list[str], secret: str, customer=None, by=None
) -> WebhookSubscription:
    """Create a subscription; the secret is kept as given because it signs every delivery."""
    return WebhookSubscription.objects.create(
        url=url,
        events=list(events),
        secret=secret,
        customer=customer,
        api_key=getattr(by, "api_key", None),
        created_by=author(by),
    )


def webhook_redeliver(*, delivery: WebhookDelivery, by=None) -> WebhookAttempt:
    """Send a delivery again now, whatever its state (staff's "redeliver"); the same
    X-Portal-Delivery id, a new attempt in the log. A failure restarts the retry window:
    the delivery is `retrying` for a full window from now, with the whole backoff again
    (a receiver fixed after we gave up gets every chance)."""
    delivery = WebhookDelivery.objects.select_related("subscription").get(pk=delivery.pk)
    log = attempt(delivery, restart_window=True)
    logger.info(
        "webhook %s redelivered by %s: %s", delivery.delivery_id, by, log.status_code or log.error
    )
    return log
