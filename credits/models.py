from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.scoping import scoped_queryset
from credits.choices import DeliveryMode, EntryKind, RedemptionStatus


def set_null_once_settled(collector, field, sub_objs, using):
    """on_delete of CreditEntry.line: a removed line's entries keep their `reference`
    text and lose the link, but only once they net to zero (the grant was taken back,
    see credits.receivers); otherwise the line is protected like PROTECT."""
    ids = [entry.pk for entry in sub_objs]
    net = (
        CreditEntry.objects.using(using).filter(pk__in=ids).aggregate(s=models.Sum("amount"))["s"]
        or 0
    )
    if net:
        raise models.ProtectedError(
            f"Cannot delete the line: its ledger entries net {net:+d} credits.", list(sub_objs)
        )
    # The append-only trigger (migration 0003) allows exactly this: line_id set to NULL.
    models.SET_NULL(collector, field, sub_objs, using)


class Rate(models.Model):
    """A rate-card entry (R10): credits per unit of a service, default or per customer, from a date."""

    service = models.ForeignKey("services.Service", on_delete=models.PROTECT, related_name="rates")
    # Null: the default rate for every customer without its own.
    customer = models.ForeignKey(
        "contracts.Customer", null=True, blank=True, on_delete=models.CASCADE, related_name="rates"
    )
    credits_per_unit = models.DecimalField(max_digits=12, decimal_places=4)
    valid_from = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = scoped_queryset("customer").as_manager()

    class Meta:
        ordering = ["service__code", "customer__code", "-valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["service", "customer", "valid_from"], name="rate_unique_per_day"
            ),
            models.UniqueConstraint(
                fields=["service", "valid_from"],
                condition=Q(customer__isnull=True),
                name="default_rate_unique_per_day",
            ),
            models.CheckConstraint(condition=Q(credits_per_unit__gt=0), name="rate_positive"),
        ]

    def __str__(self) -> str:
        who = self.customer.code if self.customer_id else "default"
        return f"{self.service.code} {who}: {self.credits_per_unit} from {self.valid_from}"


class CreditAccount(models.Model):
    """The running proactive-credit balance of one work order.

    Every ledger write locks this row (SELECT ... FOR UPDATE) and moves `balance` in
    the same transaction as the entry, so concurrent redemptions serialise here and
    the CHECK constraint refuses a negative balance even if code were wrong.
    """

    work_order = models.OneToOneField(
        "contracts.WorkOrder", on_delete=models.CASCADE, related_name="credit_account"
    )
    balance = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    objects = scoped_queryset("work_order__customer").as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(balance__gte=0), name="credit_balance_never_negative"
            )
        ]

    def __str__(self) -> str:
        return f"{self.work_order.number}: {self.balance} credits"


class VendorConsent(models.Model):
    """The vendor's written consent to schedule a service on a work order (seed §4.2.1: workshops).

    Recorded by staff (who, when, and a reference to the written consent: a mail, a letter,
    a ticket); every redemption of that service on the work order points at it."""

    work_order = models.ForeignKey(
        "contracts.WorkOrder", on_delete=models.PROTECT, related_name="vendor_consents"
    )
    service = models.ForeignKey("services.Service", on_delete=models.PROTECT, related_name="+")
    reference = models.CharField(
        max_length=300, help_text=_("Where the vendor's written consent is: mail, letter, ticket.")
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    objects = scoped_queryset("work_order__customer").as_manager()

    class Meta:
        ordering = ["-recorded_at", "-id"]
        indexes = [models.Index(fields=["work_order", "service"], name="vendor_consent_lookup")]

    def __str__(self) -> str:
        return f"{self.work_order.number}: {self.service.code} ({self.reference})"


class Redemption(models.Model):
    """Credits redeemed for an add-on service on a scheduled delivery date (R10, R15, R16)."""

    work_order = models.ForeignKey(
        "contracts.WorkOrder", on_delete=models.PROTECT, related_name="redemptions"
    )
    service = models.ForeignKey(
        "services.Service", on_delete=models.PROTECT, related_name="redemptions"
    )
    quantity = models.DecimalField(max_digits=10, decimal_places=2)
    scheduled_for = models.DateField()
    delivery_mode = models.CharField(
        max_length=20, choices=DeliveryMode.choices, default=DeliveryMode.STANDARD
    )
    rate = models.ForeignKey(Rate, null=True, on_delete=models.PROTECT, related_name="+")
    credits_per_unit = models.DecimalField(max_digits=12, decimal_places=4)
    credits = models.PositiveIntegerField()
    status = models.CharField(
        max_length=12, choices=RedemptionStatus.choices, default=RedemptionStatus.SCHEDULED
    )
    # R19: onsite work not prepaid is billed for travel and expenses.
    travel_expenses_billable = models.BooleanField(default=False)
    exchanged_for = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Seed §4.2.1: a workshop is scheduled only with the vendor's written consent.
    consent = models.ForeignKey(
        "credits.VendorConsent",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="redemptions",
    )
    idempotency_key = models.CharField(max_length=200, blank=True)
    request_fingerprint = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cancellation_reason = models.CharField(max_length=300, blank=True)
    # R14: set by credits.services.redemption_mark_delivered (staff).
    delivered_on = models.DateField(null=True, blank=True)
    delivered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # R14: set by credits_expire when the term ended with the redemption still scheduled.
    lapsed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    objects = scoped_queryset("work_order__customer").as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["work_order", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="redemption_idempotency_key_once",
            ),
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="redemption_quantity_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.work_order.number}: {self.quantity.normalize()} {self.service.code} on {self.scheduled_for}"


class CreditEntry(models.Model):
    """One append-only ledger entry. Never updated or deleted: corrections are new entries."""

    work_order = models.ForeignKey(
        "contracts.WorkOrder", on_delete=models.PROTECT, related_name="credit_entries"
    )
    kind = models.CharField(max_length=20, choices=EntryKind.choices)
    amount = models.IntegerField(
        help_text=_("Signed: positive adds credits, negative spends them.")
    )
    balance_after = models.IntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=300, blank=True)
    # What the entry refers to: a redemption, a line, an SA conversion ... (display text).
    reference = models.CharField(max_length=200, blank=True)
    redemption = models.ForeignKey(
        Redemption, null=True, blank=True, on_delete=models.PROTECT, related_name="entries"
    )
    line = models.ForeignKey(
        "contracts.WorkOrderLine",
        null=True,
        blank=True,
        on_delete=set_null_once_settled,
        related_name="credit_entries",
    )

    objects = scoped_queryset("work_order__customer").as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = _("credit entries")
        constraints = [
            models.CheckConstraint(
                condition=Q(balance_after__gte=0), name="credit_entry_balance_never_negative"
            ),
            # R14: expiry happens once per work order and occasion (the term's end, an
            # anniversary of a multi-year term, an extension), named by the reference.
            models.UniqueConstraint(
                fields=["work_order", "reference"],
                condition=Q(kind="expiry"),
                name="credit_expiry_once",
            ),
            # No "one grant per line": a quantity increase grants the difference as a new
            # entry; credits_grant stays idempotent by comparing under the account lock.
        ]
        indexes = [
            models.Index(fields=["work_order", "created_at"], name="credit_entry_ledger_idx")
        ]

    def __str__(self) -> str:
        return f"{self.work_order.number} {self.kind} {self.amount:+d} → {self.balance_after}"


class TimeEntry(models.Model):
    """Hours used from an hour-block line (R11, R13), deducted as they are used."""

    line = models.ForeignKey(
        "contracts.WorkOrderLine", on_delete=models.PROTECT, related_name="time_entries"
    )
    hours = models.DecimalField(max_digits=8, decimal_places=2)
    worked_on = models.DateField()
    description = models.CharField(max_length=300, blank=True)
    # Free text (an incident number, a ticket): credits does not depend on incidents.
    reference = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = scoped_queryset("line__work_order__customer").as_manager()

    class Meta:
        ordering = ["-worked_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(hours=Decimal("0")), name="time_entry_hours_nonzero"
            )
        ]

    def __str__(self) -> str:
        return f"{self.line}: {self.hours} h on {self.worked_on}"


class EntitlementAnniversary(models.Model):
    """An anniversary of a multi-year term that was run (R14 per year, seed §4.4): the
    unique row makes a re-run harmless even when nothing lapsed or was granted."""

    work_order = models.ForeignKey(
        "contracts.WorkOrder", on_delete=models.PROTECT, related_name="anniversaries_run"
    )
    anniversary = models.DateField()
    credits_expired = models.PositiveIntegerField(default=0)
    hours_expired = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = scoped_queryset("work_order__customer").as_manager()

    class Meta:
        ordering = ["-anniversary"]
        constraints = [
            models.UniqueConstraint(
                fields=["work_order", "anniversary"], name="entitlement_anniversary_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.work_order.number}: anniversary {self.anniversary}"


class HourBlockLapse(models.Model):
    """Hours of an hour block left unused at an anniversary of a multi-year term, lapsed
    (R14 per year, seed §4.4): shown on the block's burn-down like a credit expiry entry."""

    line = models.ForeignKey(
        "contracts.WorkOrderLine", on_delete=models.PROTECT, related_name="lapses"
    )
    hours = models.DecimalField(max_digits=10, decimal_places=2)
    anniversary = models.DateField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = scoped_queryset("line__work_order__customer").as_manager()

    class Meta:
        ordering = ["-anniversary", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["line", "anniversary"], name="hour_lapse_once"),
            models.CheckConstraint(condition=Q(hours__gt=0), name="hour_lapse_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.line}: {self.hours} h lapsed on {self.anniversary}"


class ShortfallInvoice(models.Model):
    """A Software Assurance shortfall invoiced within 30 days of the start or an anniversary (R18).

    Recorded by staff through credits.services.shortfall_invoice_record; never edited
    or deleted afterwards (the admin shows it read-only). A wrong one is voided
    (credits.services.shortfall_invoice_void: `voided_at`, `voided_by`, `void_reason`
    set once, nothing else changes), which frees its window for a corrected one. One
    live (not voided) invoice per work order per window: the window is identified by
    the day it opened (the start date or the anniversary), and the partial unique
    constraint below backs the service's check.
    """

    work_order = models.ForeignKey(
        "contracts.WorkOrder", on_delete=models.PROTECT, related_name="shortfall_invoices"
    )
    # The window the invoice belongs to (credits.shortfall): as it was when recorded.
    term_year = models.PositiveSmallIntegerField(
        help_text=_("0: the start of the term; n: its n-th anniversary.")
    )
    window_opens_on = models.DateField()
    window_closes_on = models.DateField()
    invoiced_on = models.DateField()
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, help_text=_("ISO 4217, e.g. EUR"))
    # The invoice number in the vendor's billing system.
    reference = models.CharField(max_length=200)
    note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Voiding (R18): set once by shortfall_invoice_void; a voided invoice stays on record.
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    void_reason = models.TextField(blank=True)

    objects = scoped_queryset("work_order__customer").as_manager()

    class Meta:
        ordering = ["-window_opens_on", "-id"]
        constraints = [
            # R18: one live shortfall invoice per work order per window; a voided one frees
            # the window for a corrected invoice.
            models.UniqueConstraint(
                fields=["work_order", "window_opens_on"],
                condition=Q(voided_at__isnull=True),
                name="shortfall_invoice_once_per_window",
            ),
            # A void always says why; a live invoice has no reason.
            models.CheckConstraint(
                condition=Q(voided_at__isnull=True, void_reason="")
                | (Q(voided_at__isnull=False) & ~Q(void_reason="")),
                name="shortfall_void_has_reason",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="shortfall_amount_positive"),
            models.CheckConstraint(
                condition=Q(invoiced_on__gte=models.F("window_opens_on"))
                & Q(invoiced_on__lte=models.F("window_closes_on")),
                name="shortfall_invoiced_within_window",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.work_order.number} shortfall {self.window_opens_on}: {self.currency} {self.amount}"

    @property
    def is_voided(self) -> bool:
        return self.voided_at is not None


class ConsultingEngagement(models.Model):
    """Seed §3.2/§3.3: a consulting project on a work order, under a statement of work,
    with milestones and a fixed price paid in credits or in hours of an hour block."""

    work_order = models.ForeignKey(
        "contracts.WorkOrder", on_delete=models.PROTECT, related_name="engagements"
    )
    service = models.ForeignKey("services.Service", on_delete=models.PROTECT, related_name="+")
    sow_reference = models.CharField(max_length=200)
    title = models.CharField(max_length=200)
    # Exactly one of the two prices (a database check says so).
    price_credits = models.PositiveIntegerField(null=True, blank=True)
    price_hours = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    # What paid for it: the ledger entry (credits) or the time entry (hours).
    credit_entry = models.ForeignKey(
        CreditEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    time_entry = models.ForeignKey(
        TimeEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = scoped_queryset("work_order__customer").as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(price_credits__isnull=False) & Q(price_hours__isnull=True))
                | (Q(price_credits__isnull=True) & Q(price_hours__isnull=False)),
                name="engagement_one_price",
            )
        ]

    def __str__(self) -> str:
        return f"{self.sow_reference}: {self.title}"


class EngagementMilestone(models.Model):
    """A milestone of a consulting engagement's statement of work."""

    engagement = models.ForeignKey(
        ConsultingEngagement, on_delete=models.CASCADE, related_name="milestones"
    )
    name = models.CharField(max_length=200)
    due_on = models.DateField()
    done_on = models.DateField(null=True, blank=True)

    objects = scoped_queryset("engagement__work_order__customer").as_manager()

    class Meta:
        ordering = ["due_on", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.due_on})"
