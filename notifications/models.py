import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.scoping import scoped_queryset
from notifications.choices import Channel, DeliveryState, Event, NoticeKind, OutboxState, Urgency


class OutboxMessage(models.Model):
    """A notification to deliver, written in the same transaction as the event it reports.

    `key` is the event's unique key (e.g. "incident:42:response:breach:email:am@x"):
    a repeat of the same event writes nothing, and the e-mail Message-ID and webhook
    X-Portal-Delivery carry it so a receiver can drop a repeated delivery.
    """

    key = models.CharField(max_length=255, unique=True)
    event = models.CharField(max_length=40, choices=Event.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    urgency = models.CharField(max_length=16, choices=Urgency.choices, default=Urgency.IMMEDIATE)
    customer = models.ForeignKey(
        "contracts.Customer", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    recipient = models.CharField(
        max_length=254, blank=True, help_text=_("E-mail address, or empty for webhooks.")
    )
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True)
    payload = models.JSONField(default=dict, blank=True)
    # When the event truly happened (a deadline's time, not the sweep's).
    occurred_at = models.DateTimeField(default=timezone.now)
    # Not before this instant (business-hours reminders); delivery picks rows due now.
    deliver_after = models.DateTimeField(default=timezone.now)
    state = models.CharField(
        max_length=10, choices=OutboxState.choices, default=OutboxState.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Digest (issue #17): e-mails of one group ("incident:42:<address>") that are pending
    # together are sent as one e-mail, in `language` (the reader's). db_default: the
    # sweep's raw INSERT does not name these columns.
    digest_group = models.CharField(max_length=300, blank=True, default="", db_default="")
    language = models.CharField(max_length=8, blank=True, default="", db_default="")

    objects = scoped_queryset("customer").as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # Read by notifications.delivery: the pending rows of one digest.
            models.Index(
                fields=["digest_group"],
                name="outbox_pending_digest_idx",
                condition=Q(state="pending") & ~Q(digest_group=""),
            ),
            # Read by notifications.tasks.deliver_outbox: pending rows that are due.
            models.Index(
                fields=["deliver_after"],
                name="outbox_pending_due_idx",
                condition=Q(state="pending"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.recipient or self.channel} ({self.state})"


class SweepRun(models.Model):
    """A run of a periodic job, so staff can see what ran and the dead-man check can
    tell whether the sweep is alive."""

    job = models.CharField(max_length=40)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    handled = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["job", "-started_at"], name="sweep_run_latest_idx")]

    def __str__(self) -> str:
        return f"{self.job} {self.started_at:%Y-%m-%d %H:%M:%S}"


class WebhookSubscription(models.Model):
    """A ticketing tool's subscription to events (API.md): url, events, shared secret."""

    customer = models.ForeignKey(
        "contracts.Customer",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="webhooks",
    )
    api_key = models.ForeignKey(
        "accounts.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="webhooks"
    )
    url = models.URLField(max_length=500)
    events = models.JSONField(default=list)
    secret = models.CharField(max_length=200)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = scoped_queryset("customer").as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.url} ({', '.join(self.events)})"


class WebhookDelivery(models.Model):
    """One event to one subscription; retried with backoff; every attempt logged."""

    delivery_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    outbox = models.ForeignKey(
        OutboxMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    event = models.CharField(max_length=40)
    payload = models.JSONField(default=dict)
    state = models.CharField(
        max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # The current retry window (at least 24 hours from its first failure; a staff
    # redelivery starts a new one) and the failures in it, which drive the backoff.
    window_started_at = models.DateTimeField(null=True, blank=True)
    window_failures = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    objects = scoped_queryset("subscription__customer").as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "outbox"], name="webhook_delivery_once_per_event"
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="webhook_delivery_due_idx",
                condition=Q(state__in=["pending", "retrying"]),
            ),
            # Issue #20: the ops page's newest deliveries and its counts per state.
            models.Index(fields=["-created_at"], name="webhook_delivery_ops_idx"),
            models.Index(fields=["state"], name="webhook_delivery_ops_state_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.subscription.url} ({self.state})"


class WebhookAttempt(models.Model):
    """A logged attempt of a webhook delivery: status code or error, and duration."""

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log"
    )
    attempted_at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-attempted_at"]

    def __str__(self) -> str:
        return f"{self.delivery_id} {self.status_code or self.error[:40]}"


class WorkOrderNotice(models.Model):
    """A notice about a work order's term or balance (R14, R15, credits.low), sent once.

    The unique key (work order, kind, end date, reference) is the entitlement sweep's
    claim (notifications.services.work_order_notice_claim): only the run that inserted
    it writes the notice, so reruns and overlapping runs send nothing twice. A new
    end date (a renewed term) or a new crossing of the low-credit threshold (its
    ledger entry in `reference`) is a new notice.
    """

    work_order = models.ForeignKey(
        "contracts.WorkOrder", on_delete=models.CASCADE, related_name="notices"
    )
    kind = models.CharField(max_length=24, choices=NoticeKind.choices)
    end_date = models.DateField()
    reference = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    detail = models.JSONField(default=dict, blank=True)

    objects = scoped_queryset("work_order__customer").as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["work_order", "kind", "end_date", "reference"],
                name="work_order_notice_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.work_order_id} {self.kind} {self.end_date}"
