"""Admin for the ledger (read-only: it is append-only), the rate card, redemptions and R18 shortfalls.

Changes go through credits.services: the ledger cannot be edited here, and a
redemption is cancelled with an action that calls redemption_cancel (R16).
"""

from django import forms
from django.contrib import admin, messages

from core.admin_utils import ReadOnlyAdminMixin, add_domain_error
from core.errors import DomainError
from credits import services
from credits.models import (
    CreditAccount,
    CreditEntry,
    Rate,
    Redemption,
    ShortfallInvoice,
    TimeEntry,
    VendorConsent,
)


class ReadOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Visible to staff, never added, changed or deleted here."""


@admin.register(CreditEntry)
class CreditEntryAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "work_order",
        "kind",
        "amount",
        "balance_after",
        "created_by",
        "reason",
        "reference",
    ]
    list_filter = ["kind"]
    list_select_related = ["work_order", "created_by"]
    search_fields = ["work_order__number", "work_order__customer__code", "reference", "reason"]
    date_hierarchy = "created_at"


@admin.register(CreditAccount)
class CreditAccountAdmin(ReadOnlyAdmin):
    list_display = ["work_order", "balance", "updated_at"]
    list_select_related = ["work_order"]
    search_fields = ["work_order__number"]


@admin.register(TimeEntry)
class TimeEntryAdmin(ReadOnlyAdmin):
    list_display = ["worked_on", "line", "hours", "created_by", "description", "reference"]
    list_select_related = ["line__work_order", "line__service", "created_by"]
    search_fields = ["line__work_order__number", "description", "reference"]


class RateAdminForm(forms.ModelForm):
    class Meta:
        model = Rate
        fields = ["service", "customer", "credits_per_unit", "valid_from"]

    def clean(self):
        data = super().clean()
        if all(data.get(k) is not None for k in ("service", "credits_per_unit", "valid_from")):
            try:
                services.rate_check(
                    service=data["service"],
                    customer=data.get("customer"),
                    credits_per_unit=data["credits_per_unit"],
                    valid_from=data["valid_from"],
                )
            except DomainError as exc:
                add_domain_error(self, exc)
        return data


@admin.register(Rate)
class RateAdmin(admin.ModelAdmin):
    """Rates are added (rate_create) and never edited: a new rate from a later date replaces one."""

    form = RateAdminForm

    list_display = ["service", "customer", "credits_per_unit", "valid_from", "created_at"]
    list_filter = ["service__category"]
    list_select_related = ["service", "customer"]
    search_fields = ["service__code", "customer__code"]
    fields = ["service", "customer", "credits_per_unit", "valid_from"]

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        # The form already ran rate_check; a twin saved meanwhile raises Conflict (a 500 is honest then).
        created = services.rate_create(
            service=obj.service,
            customer=obj.customer,
            credits_per_unit=obj.credits_per_unit,
            valid_from=obj.valid_from,
            by=request.user,
        )
        obj.pk, obj.created_at = created.pk, created.created_at


class VendorConsentAdminForm(forms.ModelForm):
    class Meta:
        model = VendorConsent
        fields = ["work_order", "service", "reference"]

    def clean(self):
        data = super().clean()
        # The service's own checks, on the form: a plain error, nothing half-written.
        if data.get("service") is not None and not data["service"].needs_vendor_consent:
            self.add_error(
                "service", f"{data['service'].name} is booked without the vendor's consent."
            )
        return data


@admin.register(VendorConsent)
class VendorConsentAdmin(admin.ModelAdmin):
    """Seed §4.2.1: record the vendor's written consent (who and when are the admin user, now)."""

    form = VendorConsentAdminForm
    list_display = ["work_order", "service", "reference", "recorded_by", "recorded_at"]
    list_select_related = ["work_order", "service", "recorded_by"]
    search_fields = ["work_order__number", "work_order__customer__code", "reference"]
    readonly_fields = ["recorded_by", "recorded_at"]
    raw_id_fields = ["work_order"]

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        created = services.vendor_consent_record(
            work_order=obj.work_order, service=obj.service, reference=obj.reference, by=request.user
        )
        obj.pk, obj.recorded_by, obj.recorded_at = (
            created.pk,
            created.recorded_by,
            created.recorded_at,
        )


@admin.register(Redemption)
class RedemptionAdmin(ReadOnlyAdmin):
    list_display = [
        "work_order",
        "service",
        "quantity",
        "delivery_mode",
        "scheduled_for",
        "credits",
        "status",
        "delivered_on",
        "travel_expenses_billable",
        "consent",
    ]
    list_filter = ["status", "delivery_mode", "travel_expenses_billable"]
    list_select_related = ["work_order", "service", "consent"]
    search_fields = [
        "work_order__number",
        "work_order__customer__code",
        "service__code",
        "idempotency_key",
    ]
    actions = ["cancel_redemptions", "mark_redemptions_delivered"]

    @admin.action(description="Cancel selected redemptions (refund per R16)")
    def cancel_redemptions(self, request, queryset):
        done = 0
        for redemption in queryset.select_related("work_order", "service"):
            try:
                services.redemption_cancel(
                    redemption=redemption, by=request.user, reason="Cancelled in admin"
                )
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{redemption}: {exc.message}", level=messages.WARNING)
        if done:
            self.message_user(request, f"Cancelled {done} redemption(s).", level=messages.SUCCESS)

    @admin.action(description="Mark selected redemptions delivered today (R14)")
    def mark_redemptions_delivered(self, request, queryset):
        done = 0
        for redemption in queryset.select_related("work_order", "service"):
            try:
                services.redemption_mark_delivered(redemption=redemption, by=request.user)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{redemption}: {exc.message}", level=messages.WARNING)
        if done:
            self.message_user(
                request, f"Marked {done} redemption(s) delivered.", level=messages.SUCCESS
            )


@admin.register(ShortfallInvoice)
class ShortfallInvoiceAdmin(ReadOnlyAdmin):
    """R18: recorded through credits.services.shortfall_invoice_record (the work order pages)."""

    list_display = [
        "invoiced_on",
        "work_order",
        "term_year",
        "window_opens_on",
        "window_closes_on",
        "currency",
        "amount",
        "reference",
        "created_by",
        "voided_at",
    ]
    list_filter = ["currency", ("voided_at", admin.EmptyFieldListFilter)]
    list_select_related = ["work_order", "created_by"]
    search_fields = ["work_order__number", "work_order__customer__code", "reference", "note"]
    date_hierarchy = "invoiced_on"
