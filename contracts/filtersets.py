"""One FilterSet per model, shared by the staff list pages and the API (NetBox).

Query parameters are named after the fields (API.md): `customer` is the customer's
code, `status` is the derived status (draft, active, expired, terminated), date
ranges are `<field>_after` / `<field>_before`, and `q` searches the obvious text.
"""

import django_filters
from django.db.models import Q

from contracts.choices import WorkOrderStatus
from contracts.models import (
    ClosureDay,
    Customer,
    NamedContact,
    SupportLocation,
    WorkOrder,
    WorkOrderLine,
)
from services.choices import Package


class CustomerFilterSet(django_filters.FilterSet):
    code = django_filters.CharFilter(field_name="code", lookup_expr="iexact")
    country = django_filters.CharFilter(field_name="country", lookup_expr="iexact")
    q = django_filters.CharFilter(method="search", label="Search")

    class Meta:
        model = Customer
        fields = ["code", "country", "language"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(code__icontains=value) | Q(name__icontains=value))


class WorkOrderFilterSet(django_filters.FilterSet):
    customer = django_filters.CharFilter(
        field_name="customer__code", lookup_expr="iexact", label="Customer code"
    )
    package = django_filters.ChoiceFilter(choices=Package.choices)
    status = django_filters.MultipleChoiceFilter(
        choices=WorkOrderStatus.choices, method="filter_status"
    )
    number = django_filters.CharFilter(field_name="number", lookup_expr="iexact")
    start_date = django_filters.DateFromToRangeFilter()
    end_date = django_filters.DateFromToRangeFilter()
    account_manager = django_filters.NumberFilter(field_name="account_manager_id")
    q = django_filters.CharFilter(method="search", label="Search")
    ordering = django_filters.OrderingFilter(
        fields=(
            ("number", "number"),
            ("start_date", "start_date"),
            ("end_date", "end_date"),
            ("customer__name", "customer"),
            # API.md Revision 2: sync (`updated_at` pages by cursor in the API).
            ("updated_at", "updated_at"),
            ("id", "id"),
        )
    )

    class Meta:
        model = WorkOrder
        fields = [
            "customer",
            "package",
            "status",
            "number",
            "start_date",
            "end_date",
            "account_manager",
        ]

    def filter_status(self, queryset, name, value):
        if not value:
            return queryset
        # The status is derived from the term: filter on the with_status annotation.
        if "status_code" not in queryset.query.annotations:
            queryset = queryset.with_status()
        return queryset.filter(status_code__in=value)

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(number__icontains=value)
            | Q(customer__name__icontains=value)
            | Q(customer__code__icontains=value)
            | Q(products__icontains=value)
        )


class WorkOrderLineFilterSet(django_filters.FilterSet):
    work_order = django_filters.NumberFilter(field_name="work_order_id")
    service = django_filters.CharFilter(field_name="service__code")
    customer = django_filters.CharFilter(
        field_name="work_order__customer__code", lookup_expr="iexact"
    )

    class Meta:
        model = WorkOrderLine
        fields = ["work_order", "service", "customer", "bounds_override"]


class NamedContactFilterSet(django_filters.FilterSet):
    work_order = django_filters.NumberFilter(field_name="work_order_id")
    email = django_filters.CharFilter(field_name="email", lookup_expr="iexact")
    q = django_filters.CharFilter(method="search", label="Search")

    class Meta:
        model = NamedContact
        fields = ["work_order", "email", "active", "is_lead"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(email__icontains=value))


class SupportLocationFilterSet(django_filters.FilterSet):
    customer = django_filters.CharFilter(field_name="customer__code", lookup_expr="iexact")

    class Meta:
        model = SupportLocation
        fields = ["customer", "country", "timezone"]


class ClosureDayFilterSet(django_filters.FilterSet):
    date = django_filters.DateFromToRangeFilter()

    class Meta:
        model = ClosureDay
        fields = ["location", "date", "source", "is_closed"]
