"""Staff pages for customers: list with search, create (with a first support location), detail."""

from django.contrib import messages
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from accounts.permissions import staff_editor_required, staff_required
from contracts import services
from contracts.forms import (
    CustomerForm,
)
from contracts.models import Customer, SupportLocation, WorkOrder
from contracts.views.common import page_of
from core.forms import errors_onto

# --- customers ------------------------------------------------------------------------------


@staff_required
def customer_list(request):
    q = request.GET.get("q", "").strip()
    customers = Customer.objects.visible_to(request.user).annotate(
        work_order_count=Count("work_orders", distinct=True)
    )
    if q:
        customers = customers.filter(
            Q(name__icontains=q) | Q(code__icontains=q) | Q(country__iexact=q)
        )
    page_obj = page_of(request, customers.order_by("name"))
    return render(
        request,
        "contracts/customer_list.html",
        {
            "nav_section": "customers",
            "page_obj": page_obj,
            "customers": page_obj.object_list,
            "q": q,
        },
    )


@staff_editor_required
def customer_create(request):
    form = CustomerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with errors_onto(form):
            customer = services.customer_create(
                code=data["code"],
                name=data["name"],
                country=data["country"],
                timezone=data["timezone"],
                language=data["language"],
                by=request.user,
            )
            if data["location_name"]:
                services.support_location_create(
                    customer=customer,
                    name=data["location_name"],
                    country=data["country"],
                    timezone=data["timezone"],
                    by=request.user,
                )
            messages.success(request, _("Customer %(name)s was created.") % {"name": customer.name})
            return redirect("contracts:customer_detail", pk=customer.pk)
    return render(
        request, "contracts/customer_form.html", {"nav_section": "customers", "form": form}
    )


@staff_required
def customer_detail(request, pk):
    customer = get_object_or_404(Customer.objects.visible_to(request.user), pk=pk)
    work_orders = (
        WorkOrder.objects.visible_to(request.user).filter(customer=customer).order_by("-end_date")
    )
    locations = SupportLocation.objects.visible_to(request.user).filter(customer=customer)
    return render(
        request,
        "contracts/customer_detail.html",
        {
            "nav_section": "customers",
            "customer": customer,
            "work_orders": work_orders,
            "locations": locations,
        },
    )
