"""The rate card, the ledger and redemptions (API.md, R10, R16)."""

from rest_framework import serializers

from contracts.models import Customer
from core.api.limits import InputLimitsMixin
from credits.choices import DeliveryMode, EntryKind, RedemptionStatus
from credits.models import CreditEntry, Rate, Redemption
from services.models import Service


class RateSerializer(InputLimitsMixin, serializers.ModelSerializer):
    service = serializers.SlugRelatedField(slug_field="code", queryset=Service.objects.all())
    customer = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Customer.objects.all(),
        allow_null=True,
        required=False,
        help_text="Customer code, or null for the default rate.",
    )
    credits_per_unit = serializers.DecimalField(max_digits=12, decimal_places=4, min_value=0)

    class Meta:
        model = Rate
        fields = ["id", "service", "customer", "credits_per_unit", "valid_from", "updated_at"]
        read_only_fields = ["id", "updated_at"]
        # The unique constraints are the service's to report (409 naming R10).
        validators = []


class CreditEntrySerializer(InputLimitsMixin, serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=EntryKind.choices)

    class Meta:
        model = CreditEntry
        fields = ["id", "kind", "amount", "balance_after", "created_at", "reference", "reason"]


class CreditsSerializer(InputLimitsMixin, serializers.Serializer):
    """A work order's proactive-credit balance and its ledger, oldest entry first."""

    work_order = serializers.IntegerField()
    balance = serializers.IntegerField()
    forecast_expiring = serializers.IntegerField(
        help_text="Credits forecast to lapse unused at the end of the term (R14)."
    )
    entries = CreditEntrySerializer(many=True)


#: What a client sends to redeem; every other field of a redemption is the server's.
REDEMPTION_REQUEST_FIELDS = (
    "service",
    "quantity",
    "scheduled_for",
    "delivery_mode",
    "vendor_consent",
)


class VendorConsentSerializer(serializers.Serializer):
    """Seed §4.2.1: the vendor's written consent a redemption was scheduled under."""

    reference = serializers.CharField(read_only=True)
    recorded_by = serializers.CharField(
        source="recorded_by.username", read_only=True, allow_null=True, default=None
    )
    recorded_at = serializers.DateTimeField(read_only=True)


class RedemptionSerializer(InputLimitsMixin, serializers.ModelSerializer):
    service = serializers.SlugRelatedField(slug_field="code", queryset=Service.objects.all())
    quantity = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0)
    delivery_mode = serializers.ChoiceField(
        choices=DeliveryMode.choices,
        required=False,
        help_text="Optional (API.md Revision 2): workshops default to per_participant "
        "(quantity = participants), On-demand Assessment to remote, others to standard.",
    )
    status = serializers.ChoiceField(choices=RedemptionStatus.choices, read_only=True)
    vendor_consent = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=300,
        help_text="Staff: where the vendor's written consent is (a mail, a letter, a ticket). "
        "Workshops are scheduled only with it, unless one is recorded for the work order.",
    )
    consent = VendorConsentSerializer(
        read_only=True,
        allow_null=True,
        help_text="The vendor's written consent it was scheduled under (workshops), or null.",
    )

    class Meta:
        model = Redemption
        fields = [
            "id",
            "work_order",
            "service",
            "quantity",
            "scheduled_for",
            "delivery_mode",
            "credits_per_unit",
            "credits",
            "status",
            "travel_expenses_billable",
            "vendor_consent",
            "consent",
            "created_at",
            "cancelled_at",
            "cancellation_reason",
            "delivered_on",
            "lapsed_at",
            "version",
            "updated_at",
        ]
        read_only_fields = [f for f in fields if f not in REDEMPTION_REQUEST_FIELDS]


class RedemptionCancelSerializer(InputLimitsMixin, serializers.Serializer):
    reason = serializers.CharField(max_length=300, required=False, default="", allow_blank=True)
    minimum_enrolment_not_reached = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Staff only: a workshop cancelled for its enrolment (R20), refunded in full.",
    )


class RedemptionRescheduleSerializer(InputLimitsMixin, serializers.Serializer):
    """Move a scheduled redemption (R16: less than 14 days before delivery costs a fee)."""

    scheduled_for = serializers.DateField(help_text="The new delivery date, inside the term.")
    reason = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)


class RedemptionDeliverSerializer(InputLimitsMixin, serializers.Serializer):
    """Staff record that a scheduled redemption was delivered (R14)."""

    delivered_on = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The day it was delivered: today if omitted; never in the future, "
        "within the term (R14).",
    )


class TimeEntrySerializer(serializers.Serializer):
    """R11: hours used against an hour block, named by its service code."""

    id = serializers.IntegerField(read_only=True)
    service = serializers.SlugRelatedField(
        slug_field="code", queryset=Service.objects.filter(is_hour_block=True)
    )
    hours = serializers.DecimalField(max_digits=8, decimal_places=2)
    date = serializers.DateField()
    description = serializers.CharField(max_length=300)
    reference = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    line = serializers.IntegerField(read_only=True)
    remaining = serializers.DecimalField(max_digits=10, decimal_places=2, read_only=True)
    created_at = serializers.DateTimeField(read_only=True)

    def to_representation(self, entry):
        return {
            "id": entry.pk,
            "service": entry.line.service.code,
            "hours": f"{entry.hours:.2f}",
            "date": entry.worked_on.isoformat(),
            "description": entry.description,
            "reference": entry.reference,
            "line": entry.line_id,
            "remaining": f"{entry.line.remaining:.2f}",
            "created_at": serializers.DateTimeField().to_representation(entry.created_at),
        }
