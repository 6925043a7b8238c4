"""Shared helpers of the contracts pages: domain errors onto forms, paging, scoped lookups."""

from django.shortcuts import get_object_or_404

from contracts.models import WorkOrder
from core.forms import put_error  # noqa: F401  (re-exported: contracts.views.put_error)
from core.pagination import CappedPaginator

PAGE_SIZE = 25


def _page(request, queryset):
    return CappedPaginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _editable(request, pk) -> WorkOrder:
    return get_object_or_404(
        WorkOrder.objects.visible_to(request.user).select_related(
            "customer", "support_location", "account_manager"
        ),
        pk=pk,
    )


def _edit_url(work_order):
    from django.urls import reverse

    return reverse("contracts:work_order_edit", args=[work_order.pk])
