"""Shared helpers of the contracts pages: domain errors onto forms, paging, scoped lookups."""

from django.shortcuts import get_object_or_404, render

from contracts.models import WorkOrder
from core.forms import put_error  # noqa: F401  (re-exported: contracts.views.put_error)
from core.pagination import CappedPaginator, count_cap_for

PAGE_SIZE = 25


def page_of(request, queryset):
    return CappedPaginator(queryset, PAGE_SIZE, cap=count_cap_for(request.GET)).get_page(
        request.GET.get("page")
    )


def editable_work_order(request, pk) -> WorkOrder:
    return get_object_or_404(
        WorkOrder.objects.visible_to(request.user).select_related(
            "customer", "support_location", "account_manager"
        ),
        pk=pk,
    )


def work_order_edit_url(work_order):
    from django.urls import reverse

    return reverse("contracts:work_order_edit", args=[work_order.pk])


def plain_decimal(value) -> str:
    """A decimal as people write it: 10, 2.5 (never 1E+1)."""
    return f"{value.normalize():f}"


def form_page(request, *, title, form, back, submit, work_order=None, extra=None, multipart=False):
    return render(
        request,
        "contracts/simple_form.html",
        {
            "nav_section": "work_orders" if work_order else "customers",
            "title": title,
            "form": form,
            "back": back,
            "submit": submit,
            "work_order": work_order,
            "multipart": multipart,
            **(extra or {}),
        },
    )


def confirm_page(request, *, title, facts, action, back, submit):
    return render(
        request,
        "contracts/confirm.html",
        {
            "nav_section": "work_orders",
            "title": title,
            "facts": facts,
            "action": action,
            "back": back,
            "submit": submit,
        },
    )
