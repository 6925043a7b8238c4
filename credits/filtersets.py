"""One FilterSet per model, shared by the staff list pages and the API (NetBox).

`work_order` is the work order's number, `customer` the customer's code, `service`
the service code (API.md); date ranges are `<field>_after` / `<field>_before`.
"""

import django_filters

from core.api.filters import StrictBooleanFilter
from credits.choices import DeliveryMode, EntryKind, RedemptionStatus
from credits.models import CreditEntry, Rate, Redemption


class RedemptionFilterSet(django_filters.FilterSet):
    work_order = django_filters.CharFilter(field_name="work_order__number", lookup_expr="iexact")
    customer = django_filters.CharFilter(
        field_name="work_order__customer__code", lookup_expr="iexact"
    )
    service = django_filters.CharFilter(field_name="service__code", lookup_expr="iexact")
    status = django_filters.MultipleChoiceFilter(choices=RedemptionStatus.choices, distinct=False)
    delivery_mode = django_filters.ChoiceFilter(choices=DeliveryMode.choices)
    scheduled_for = django_filters.DateFromToRangeFilter()
    travel_expenses_billable = StrictBooleanFilter()  # R19: what to invoice
    ordering = django_filters.OrderingFilter(
        fields=(
            ("scheduled_for", "scheduled_for"),
            ("created_at", "created_at"),
            ("credits", "credits"),
            ("updated_at", "updated_at"),
            ("id", "id"),
        )
    )

    class Meta:
        model = Redemption
        fields = [
            "work_order",
            "customer",
            "service",
            "status",
            "delivery_mode",
            "scheduled_for",
            "travel_expenses_billable",
        ]


class CreditEntryFilterSet(django_filters.FilterSet):
    work_order = django_filters.CharFilter(field_name="work_order__number", lookup_expr="iexact")
    customer = django_filters.CharFilter(
        field_name="work_order__customer__code", lookup_expr="iexact"
    )
    kind = django_filters.MultipleChoiceFilter(choices=EntryKind.choices, distinct=False)
    created_at = django_filters.DateFromToRangeFilter(field_name="created_at__date")
    reference = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = CreditEntry
        fields = ["work_order", "customer", "kind", "created_at", "reference"]


class RateFilterSet(django_filters.FilterSet):
    service = django_filters.CharFilter(field_name="service__code", lookup_expr="iexact")
    customer = django_filters.CharFilter(field_name="customer__code", lookup_expr="iexact")
    default = StrictBooleanFilter(
        field_name="customer", lookup_expr="isnull", label="Default rates only"
    )
    valid_from = django_filters.DateFromToRangeFilter()

    class Meta:
        model = Rate
        fields = ["service", "customer", "default", "valid_from"]
