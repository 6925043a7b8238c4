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
import json
import logging
import time
import urllib.error
import urllib.request

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.times import utc_iso
from notifications.choices import DeliveryState
from notifications.models import OutboxMessage, WebhookAttempt, WebhookDelivery, WebhookSubscription
from notifications.retry import backoff
from notifications.targets import url_target_error

logger = logging.getLogger(__name__)

#: Backoff (notifications.retry): 30 s doubling, capped at two hours between attempts.
BACKOFF_CAP_SECONDS = 2 * 3600
#: A claimed delivery is leased for this long: a worker that dies mid-send leaves it
#: to be retried after the lease, never lost.
LEASE_SECONDS = 300
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
    subscriptions = WebhookSubscription.objects.filter(who, active=True)
    return list(subscriptions.filter(events__contains=[message.event]))


def envelope(delivery: WebhookDelivery) -> dict:
    return {
        "id": str(delivery.delivery_id),
        "event": delivery.event,
        "created_at": utc_iso(delivery.created_at),
        "data": delivery.payload,
    }


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


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is reported as the receiver's answer, never followed: following it
    could lead to an address the target guard refused."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def _post(url: str, body: bytes, headers: dict) -> tuple[int | None, str]:
    """POST once; (status code, error text). Never raises for network trouble."""
    refused = url_target_error(url)
    if refused:
        return None, f"refused: {refused}"
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS) as response:
            response.read(1024)
            return response.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return None, f"{exc.__class__.__name__}: {getattr(exc, 'reason', exc)}"[:2000]


def attempt(
    delivery: WebhookDelivery, *, now: dt.datetime | None = None, restart_window: bool = False
) -> WebhookAttempt:
    """Send one delivery once, log the attempt, and move its state (delivered / retrying / gave_up).

    The retry window starts at the first failed attempt (`window_started_at`) and the
    backoff counts the failures within it (`window_failures`). `restart_window` (a staff
    redelivery): a failure starts a new window from now, with the backoff from its first
    step again.
    """
    subscription = delivery.subscription
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
    now = now or timezone.now()
    with transaction.atomic():
        log = WebhookAttempt.objects.create(
            delivery=delivery,
            attempted_at=now,
            status_code=status_code,
            error="" if ok else error,
            duration_ms=duration_ms,
        )
        delivery.attempts += 1
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
                "attempts",
                "state",
                "delivered_at",
                "next_attempt_at",
                "window_started_at",
                "window_failures",
            ]
        )
    return log


def claim_due(
    *, now: dt.datetime | None = None, limit: int = WEBHOOK_BATCH_SIZE
) -> list[WebhookDelivery]:
    """Take up to `limit` due deliveries for this worker (claim before you act)."""
    now = now or timezone.now()
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
                next_attempt_at=now + dt.timedelta(seconds=LEASE_SECONDS)
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
        log = attempt(delivery, now=now)
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
    user = getattr(by, "audit_user", by)
    return WebhookSubscription.objects.create(
        url=url,
        events=list(events),
        secret=secret,
        customer=customer,
        api_key=getattr(by, "api_key", None),
        created_by=user if getattr(user, "pk", None) is not None else None,
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
