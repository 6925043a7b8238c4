"""Reads for contracts, scoped through the one door (`visible_to`) and pre-joined."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import QueryDict

from contracts.filtersets import CustomerFilterSet, NamedContactFilterSet, WorkOrderFilterSet
from contracts.models import (
    ClosureDay,
    Customer,
    NamedContact,
    SupportLocation,
    WorkOrder,
    WorkOrderLine,
)
from core.errors import RuleViolation


def _query_dict(data) -> QueryDict:
    """Accept a plain dict from Python callers as well as request.GET (lists repeat a key)."""
    if isinstance(data, QueryDict):
        return data
    query = QueryDict(mutable=True)
    for key, value in data.items():
        values = value if isinstance(value, list | tuple) else [value]
        query.setlist(key, [str(v) for v in values])
    return query


def _filtered(filterset_class, data, queryset):
    if not data:
        return queryset
    data = _query_dict(data)
    filterset = filterset_class(data, queryset=queryset)
    if not filterset.is_valid():
        field, messages = next(iter(filterset.errors.items()))
        raise RuleViolation(f"{field}: {' '.join(messages)}", field=field)
    return filterset.qs


def work_order_list(*, actor, filters: dict | None = None) -> QuerySet[WorkOrder]:
    """Work orders the actor may see, with status, customer, lines and contact counts."""
    queryset = (
        WorkOrder.objects.visible_to(actor)
        .with_status()
        .select_related("customer", "support_location", "account_manager")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=WorkOrderLine.objects.select_related("service").order_by("service__name"),
            )
        )
        .annotate(active_contacts=Count("contacts", filter=Q(contacts__active=True), distinct=True))
    )
    return _filtered(WorkOrderFilterSet, filters, queryset)


def work_order_detail(*, actor, pk) -> WorkOrder:
    """One work order the actor may see (WorkOrder.DoesNotExist otherwise: a 404)."""
    return (
        WorkOrder.objects.visible_to(actor)
        .with_status()
        .select_related("customer", "support_location", "account_manager")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=WorkOrderLine.objects.select_related("service", "override_by").order_by(
                    "service__name"
                ),
            ),
            Prefetch(
                "contacts", queryset=NamedContact.objects.select_related("user").order_by("name")
            ),
        )
        .get(pk=pk)
    )


def customer_list(*, actor, filters: dict | None = None) -> QuerySet[Customer]:
    """Customers the actor may see, with how many work orders each holds."""
    queryset = Customer.objects.visible_to(actor).annotate(work_order_count=Count("work_orders"))
    return _filtered(CustomerFilterSet, filters, queryset)


def named_contact_list(*, actor, work_order: WorkOrder | None = None, filters: dict | None = None):
    queryset = NamedContact.objects.visible_to(actor).select_related("work_order", "user")
    if work_order is not None:
        queryset = queryset.filter(work_order=work_order)
    return _filtered(NamedContactFilterSet, filters, queryset)


def support_location_list(*, actor, customer: Customer | None = None) -> QuerySet[SupportLocation]:
    queryset = SupportLocation.objects.visible_to(actor).select_related("customer")
    if customer is not None:
        queryset = queryset.filter(customer=customer)
    return queryset.prefetch_related(
        Prefetch("closure_days", queryset=ClosureDay.objects.order_by("date"))
    )
