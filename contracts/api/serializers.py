"""Customers, work orders with their lines, and named contacts (API.md)."""

from django.db import transaction
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from contracts.api.provisioning import (
    StrictFieldsMixin,
    UsernameField,
    products_from_text,
    products_to_text,
)
from contracts.choices import WorkOrderStatus
from contracts.models import Customer, NamedContact, SupportLocation, WorkOrder, WorkOrderLine
from core.api.limits import InputLimitsMixin
from services.choices import Package, Unit
from services.models import Service


class CustomerSerializer(InputLimitsMixin, serializers.ModelSerializer):
    code = serializers.SlugField(max_length=32)
    country = serializers.CharField(
        min_length=2, max_length=2, help_text="ISO 3166 alpha-2, e.g. NL"
    )
    timezone = serializers.CharField(
        max_length=64, help_text="IANA time zone, e.g. Europe/Amsterdam"
    )
    language = serializers.CharField(max_length=8, required=False, default="en")
    version = serializers.IntegerField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    class Meta:
        model = Customer
        fields = ["code", "name", "country", "timezone", "language", "version", "updated_at"]
        read_only_fields = ["version", "updated_at"]


class CustomerPatchSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """PATCH /customers/{code}/: the code never changes; country ISO 3166, zone IANA."""

    country = serializers.CharField(min_length=2, max_length=2, required=False)
    timezone = serializers.CharField(max_length=64, required=False)
    language = serializers.CharField(max_length=8, required=False)

    class Meta:
        model = Customer
        fields = ["name", "country", "timezone", "language"]
        extra_kwargs = {"name": {"required": False}}


class WorkOrderLineSerializer(InputLimitsMixin, serializers.ModelSerializer):
    """A line: a service code and its quantity; `used`/`remaining` only change by use (R11)."""

    service = serializers.SlugRelatedField(slug_field="code", queryset=Service.objects.all())
    quantity = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0)
    unit = serializers.ChoiceField(choices=Unit.choices, read_only=True)
    used = serializers.DecimalField(max_digits=10, decimal_places=2, read_only=True)
    remaining = serializers.DecimalField(max_digits=10, decimal_places=2, read_only=True)
    bounds_override = serializers.BooleanField(required=False, default=False, write_only=True)
    override_reason = serializers.CharField(
        required=False, default="", allow_blank=True, max_length=300, write_only=True
    )

    class Meta:
        model = WorkOrderLine
        fields = [
            "service",
            "quantity",
            "unit",
            "used",
            "remaining",
            "bounds_override",
            "override_reason",
        ]


class WorkOrderSerializer(InputLimitsMixin, serializers.ModelSerializer):
    """A work order. On PATCH, `lines` (when sent) is the full set of lines: lines of a
    service not in it are removed, new ones added, changed quantities updated."""

    customer = serializers.SlugRelatedField(slug_field="code", queryset=Customer.objects.all())
    package = serializers.ChoiceField(choices=Package.choices)
    status = serializers.SerializerMethodField()
    named_contact_limit = serializers.IntegerField(
        min_value=0, max_value=1_000_000, allow_null=True, required=False
    )
    lines = WorkOrderLineSerializer(many=True, required=False)
    # API.md Revision 2: everything the editor sets.
    support_location = serializers.PrimaryKeyRelatedField(
        queryset=SupportLocation.objects.all(), allow_null=True, required=False
    )
    account_manager = UsernameField(allow_null=True, required=False)
    products = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, help_text="R13"
    )
    renewed_from = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    updated_at = serializers.DateTimeField(read_only=True)

    class Meta:
        model = WorkOrder
        fields = [
            "id",
            "number",
            "customer",
            "package",
            "start_date",
            "end_date",
            "status",
            "named_contact_limit",
            "low_credit_threshold",
            "support_location",
            "account_manager",
            "deployment_docs_on_file",
            "cloud_subscription_active",
            "cancellation_fee_percent",
            "products",
            "yearly_entitlements",
            "renewed_from",
            "version",
            "updated_at",
            "lines",
        ]
        read_only_fields = ["id", "version", "updated_at", "yearly_entitlements"]
        extra_kwargs = {
            "number": {"validators": []},
            "low_credit_threshold": {"max_value": 1_000_000_000},
        }

    @extend_schema_field(serializers.ChoiceField(choices=WorkOrderStatus.choices))
    def get_status(self, obj) -> str:
        # Lists annotate it per row (with_status); one work order asks contracts.times.
        return getattr(obj, "status_code", None) or obj.status

    def to_representation(self, obj):
        data = super().to_representation(obj)
        data["products"] = products_from_text(obj.products)
        return data

    def validate_products(self, value):
        return products_to_text(value)

    def validate_lines(self, lines):
        codes = [line["service"].code for line in lines]
        if len(codes) != len(set(codes)):
            raise serializers.ValidationError("One line per service.")
        return lines

    def validate(self, attrs):
        if (
            self.instance is not None
            and "customer" in attrs
            and attrs["customer"].pk != self.instance.customer_id
        ):
            raise serializers.ValidationError(
                {"customer": ["A work order cannot move to another customer."]}
            )
        if self.instance is not None:
            attrs.pop("customer", None)
        location = attrs.get("support_location")
        customer = attrs.get("customer") or getattr(self.instance, "customer", None)
        if location is not None and customer is not None and location.customer_id != customer.pk:
            # Another customer's location: the same answer as an unknown id (never its data).
            raise serializers.ValidationError(
                {"support_location": [f'Invalid pk "{location.pk}" - object does not exist.']}
            )
        return attrs


def line_args(line: dict) -> dict:
    return {
        "service": line["service"],
        "quantity": line["quantity"],
        "bounds_override": line.get("bounds_override", False),
        "override_reason": line.get("override_reason", ""),
    }


@transaction.atomic
def sync_lines(*, work_order, lines: list[dict], by) -> None:
    """Make the work order's lines match `lines` through the line service functions."""
    from contracts import services

    current = {line.service.code: line for line in work_order.lines.select_related("service")}
    wanted = {line["service"].code: line for line in lines}
    for code, line in current.items():
        if code not in wanted:
            services.work_order_line_remove(line=line, by=by)
    for code, data in wanted.items():
        if code in current:
            if current[code].quantity != data["quantity"] or data.get("bounds_override"):
                services.work_order_line_update(
                    line=current[code],
                    quantity=data["quantity"],
                    bounds_override=data.get("bounds_override") or None,
                    override_reason=data.get("override_reason") or None,
                    by=by,
                )
        else:
            services.work_order_line_add(work_order=work_order, by=by, **line_args(data))


class NamedContactSerializer(InputLimitsMixin, serializers.ModelSerializer):
    email = serializers.EmailField(max_length=254)

    class Meta:
        model = NamedContact
        fields = ["id", "email", "name", "phone", "active", "is_lead", "version", "updated_at"]
        read_only_fields = ["id", "version", "updated_at"]
        extra_kwargs = {"active": {"default": True}, "is_lead": {"default": False}}
