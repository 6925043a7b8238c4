"""Delivering the outbox: e-mail through Django's mail backends; a webhook row is fanned
out to its subscriptions' signed deliveries (notifications.webhooks.fan_out), which
notifications.webhooks sends and retries.

Delivery is at least once. A row is claimed with SELECT ... FOR UPDATE SKIP LOCKED,
sent, and marked sent in the same transaction, so two delivery runs never send the
same row at the same time; a worker killed between sending and committing sends it
again on the next run. Every copy carries the row's unique key (Message-ID,
X-Portal-Delivery) so receivers can drop a repeat. See docs/NOTIFICATIONS.md.
"""

import datetime as dt
import hashlib
import logging

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

from core.text import single_line
from notifications import rendering
from notifications.choices import Channel, OutboxState
from notifications.models import OutboxMessage
from notifications.retry import backoff
from notifications.webhooks import fan_out

logger = logging.getLogger(__name__)

#: After this many failed attempts a row is marked failed (visible to staff).
MAX_ATTEMPTS = 12
#: Backoff (notifications.retry): 30 s, 1 min, 2 min ... capped at one hour between attempts.
BACKOFF_CAP_SECONDS = 3600
OUTBOX_BATCH_SIZE = 100


def message_id(key: str) -> str:
    """The e-mail Message-ID of an outbox row: stable, derived from its unique key."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:40]
    return f"<{digest}@portal>"


def _digest(row: OutboxMessage) -> tuple[str, str, list[OutboxMessage]]:
    """The e-mail for `row` and the other pending rows of its digest group (claimed here,
    skipping rows another delivery run holds): one e-mail per recipient per incident for
    the changes made within settings.INCIDENT_DIGEST_SECONDS, in the reader's language."""
    if not row.digest_group:
        return row.subject, row.body, []
    others = list(
        OutboxMessage.objects.filter(state=OutboxState.PENDING, digest_group=row.digest_group)
        .exclude(pk=row.pk)
        .order_by("created_at", "id")
        .select_for_update(skip_locked=True)
    )
    if not others:
        return row.subject, row.body, []
    rows = sorted([row, *others], key=lambda r: (r.created_at, r.id))
    number = (row.payload or {}).get("number") or ""
    with translation.override(row.language or "en"):
        subject = ngettext(
            "%(number)s: %(count)d update", "%(number)s: %(count)d updates", len(rows)
        ) % {"number": number, "count": len(rows)}
        intro = gettext("What changed on %(number)s:") % {"number": number}
    body = intro + "\n\n" + "\n\n-- \n\n".join(r.body or r.subject for r in rows)
    return subject, body, others


def _send_email(row: OutboxMessage, mail_connection) -> None:
    text = rendering.render_row(row)
    if text is not None:
        # Rendered now, in the reader's language and zone; kept on the row (issue #20).
        row.subject, row.body = text
        OutboxMessage.objects.filter(pk=row.pk).update(subject=row.subject, body=row.body)
    message = EmailMessage(
        # Headers are folded here, whatever was typed into what the subject quotes (an
        # incident title with a line break once made the e-mail undeliverable).
        subject=single_line(row.subject or row.event)[:250] or row.event,
        body=row.body or row.subject or row.event,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[row.recipient],
        connection=mail_connection,
        headers={
            # The unique key travels with every copy: a receiver drops repeats.
            "Message-ID": message_id(single_line(row.key)),
            "X-Portal-Delivery": single_line(row.key),
            "X-Portal-Event": single_line(row.event),
        },
    )
    message.send(fail_silently=False)


def outbox_deliver_due(
    *, now: dt.datetime | None = None, batch_size: int = OUTBOX_BATCH_SIZE, max_batches: int = 50
) -> dict:
    """Deliver pending outbox rows whose deliver_after has come. Returns counts."""
    sent = failed = 0
    skipped_ids: set[int] = set()
    mail_connection = get_connection(fail_silently=False)
    merged: set[int] = set()
    for _ in range(max_batches):
        now_batch = now or timezone.now()
        with transaction.atomic():
            rows = OutboxMessage.objects.filter(
                state=OutboxState.PENDING, deliver_after__lte=now_batch
            )
            if skipped_ids:
                rows = rows.exclude(id__in=skipped_ids)
            rows = list(
                rows.order_by("deliver_after", "id").select_for_update(skip_locked=True)[
                    :batch_size
                ]
            )
            if not rows:
                break
            for row in rows:
                if row.id in merged:
                    continue  # sent inside an earlier row's digest
                others = []
                try:
                    if row.channel == Channel.EMAIL:
                        # A digest: this row carries the text of all (kept in memory only).
                        row.subject, row.body, others = _digest(row)
                        _send_email(row, mail_connection)
                    else:
                        fan_out(row)
                except Exception as exc:
                    failed += 1
                    skipped_ids.add(row.id)
                    row.attempts += 1
                    row.last_error = f"{exc.__class__.__name__}: {exc}"[:2000]
                    if row.attempts >= MAX_ATTEMPTS:
                        row.state = OutboxState.FAILED
                        logger.error(
                            "outbox row %s gave up after %s attempts: %s",
                            row.key,
                            row.attempts,
                            row.last_error,
                        )
                    else:
                        row.deliver_after = timezone.now() + backoff(
                            row.attempts, cap_seconds=BACKOFF_CAP_SECONDS
                        )
                        logger.warning(
                            "outbox row %s failed (attempt %s): %s",
                            row.key,
                            row.attempts,
                            row.last_error,
                        )
                    row.save(update_fields=["attempts", "last_error", "state", "deliver_after"])
                    continue
                row.attempts += 1
                row.state = OutboxState.SENT
                row.sent_at = timezone.now()
                row.save(update_fields=["attempts", "state", "sent_at"])
                sent += 1
                if others:
                    merged.update(o.id for o in others)
                    OutboxMessage.objects.filter(id__in=[o.id for o in others]).update(
                        state=OutboxState.SENT, sent_at=row.sent_at, attempts=1
                    )
        if len(rows) < batch_size:
            break
    return {"sent": sent, "failed": failed}
