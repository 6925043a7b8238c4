"""Web pages of the credits app: redeem credits (cost and the 14-day rule shown first),
cancel or move a redemption (the R16 fee shown first), mark one delivered (staff, R14),
the rate card, R18 shortfall invoices (staff). Writes go through credits.services only."""

import datetime as dt

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from accounts.permissions import (
    can_act_for_customer,
    can_edit,
    editor_writes,
    staff_editor_required,
    staff_required,
)
from contracts.models import Customer, WorkOrder
from contracts.times import work_order_today
from core import formatting
from core.forms import errors_onto
from core.times import business_today
from credits import selectors, services
from credits.choices import CUTOFF_DAYS, FREE_CANCELLATION_DAYS, RedemptionStatus
from credits.forms import (
    CancelForm,
    DeliverForm,
    RateForm,
    RedeemForm,
    RescheduleForm,
    ShortfallInvoiceForm,
    ShortfallVoidForm,
)
from credits.models import Redemption, ShortfallInvoice
from services.choices import Package


def _quote(
    *, work_order, service, quantity, scheduled_for, delivery_mode, vendor_consent=""
) -> dict:
    """What the redemption would cost and what cancelling it would cost (R10, R15, R16),
    and the vendor's written consent it is booked under (seed §4.2.1)."""
    today = work_order_today(work_order)
    rate = selectors.rate_for(service=service, customer=work_order.customer, on=today)
    cost = services.redemption_cost(rate=rate, quantity=quantity) if rate else None
    free_until = scheduled_for - dt.timedelta(days=FREE_CANCELLATION_DAYS)
    balance = selectors.balance(work_order=work_order)
    fee_percent = work_order.cancellation_fee_percent
    late_fee = services.round_credits(cost * fee_percent / 100) if cost is not None else None
    cutoff = work_order.end_date - dt.timedelta(days=CUTOFF_DAYS)
    # The confirmation's own checks: a quote it would refuse is shown refused, with why.
    refusal = services.credits_redeem_check(
        work_order=work_order,
        service=service,
        quantity=quantity,
        scheduled_for=scheduled_for,
        delivery_mode=delivery_mode,
        vendor_consent=vendor_consent,
    )
    consent = (
        services.vendor_consent_for(work_order=work_order, service=service)
        if service.needs_vendor_consent
        else None
    )
    return {
        "refusal": refusal.message if refusal else "",
        "needs_consent": service.needs_vendor_consent,
        "consent": consent,
        "consent_typed": (vendor_consent or "").strip() if service.needs_vendor_consent else "",
        "rate": rate,
        "cost": cost,
        "balance": balance,
        "balance_after": balance - cost if cost is not None else None,
        "short": cost is not None and cost > balance,
        "free_until": free_until,
        "already_late": free_until < today,
        "fee_percent": fee_percent,
        "late_fee": late_fee,
        "cutoff": cutoff,
        "cutoff_applies": work_order.package in (Package.ADVANCED, Package.PERFORMANCE)
        and service.subject_to_cutoff,
        "service": service,
        "quantity": quantity,
        "scheduled_for": scheduled_for,
    }


@editor_writes
def redeem(request, pk):
    """Choose a service, quantity and date; see the cost and the R16 rule; then confirm."""
    work_order = get_object_or_404(
        WorkOrder.objects.visible_to(request.user).select_related("customer"), pk=pk
    )
    if request.method == "POST" and not can_act_for_customer(request.user):
        return redirect("work_order_overview", pk=pk)
    form = RedeemForm(request.POST or None, work_order=work_order)
    if not can_edit(request.user):
        # Only staff record the vendor's consent; a customer books under one recorded.
        del form.fields["vendor_consent"]
    quote = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        quote = _quote(
            work_order=work_order,
            service=data["service"],
            quantity=data["quantity"],
            scheduled_for=data["scheduled_for"],
            delivery_mode=data["delivery_mode"],
            vendor_consent=data.get("vendor_consent", ""),
        )
        if request.POST.get("action") == "confirm":
            with errors_onto(form):
                redemption = services.credits_redeem(
                    work_order=work_order,
                    service=data["service"],
                    quantity=data["quantity"],
                    scheduled_for=data["scheduled_for"],
                    delivery_mode=data["delivery_mode"],
                    idempotency_key=data["idempotency_key"],
                    vendor_consent=data.get("vendor_consent", ""),
                    by=request.user,
                )
                messages.success(
                    request,
                    _("%(service)s on %(date)s is booked for %(credits)s credits.")
                    % {
                        "service": redemption.service.name,
                        "date": formatting.fmt_date(redemption.scheduled_for, "day"),
                        "credits": redemption.credits,
                    },
                )
                return redirect("work_order_overview", pk=pk)
    template = (
        "credits/_quote.html"
        if request.htmx and request.POST.get("action") != "confirm"
        else "credits/redeem.html"
    )
    return render(
        request,
        template,
        {"nav_section": "home", "work_order": work_order, "form": form, "quote": quote},
    )


@editor_writes
def cancel(request, pk):
    """Confirm page showing the refund and any R16 fee, then cancel."""
    redemption = get_object_or_404(
        Redemption.objects.visible_to(request.user).select_related(
            "work_order__customer", "service"
        ),
        pk=pk,
    )
    work_order = redemption.work_order
    today = work_order_today(work_order)
    days_before = (redemption.scheduled_for - today).days
    late = days_before < FREE_CANCELLATION_DAYS
    fee = (
        services.round_credits(redemption.credits * work_order.cancellation_fee_percent / 100)
        if late
        else 0
    )
    form = CancelForm(request.POST or None)
    if not can_edit(request.user):
        del form.fields["minimum_enrolment_not_reached"]
    if request.method == "POST" and form.is_valid():
        with errors_onto(form):
            services.redemption_cancel(
                redemption=redemption,
                by=request.user,
                reason=form.cleaned_data.get("reason", ""),
                minimum_enrolment_not_reached=form.cleaned_data.get(
                    "minimum_enrolment_not_reached", False
                ),
            )
            messages.success(
                request, _("The redemption was cancelled; the ledger shows the refund.")
            )
            return redirect("work_order_overview", pk=work_order.pk)
    return render(
        request,
        "credits/cancel.html",
        {
            "nav_section": "home",
            "redemption": redemption,
            "work_order": work_order,
            "form": form,
            "days_before": days_before,
            "late": late,
            "fee": fee,
            "refund": redemption.credits - fee,
            "scheduled": redemption.status == RedemptionStatus.SCHEDULED,
            "free_days": FREE_CANCELLATION_DAYS,
        },
    )


@editor_writes
def reschedule(request, pk):
    """Confirm page showing any R16 fee for moving, then move to the new date."""
    redemption = get_object_or_404(
        Redemption.objects.visible_to(request.user).select_related(
            "work_order__customer", "service"
        ),
        pk=pk,
    )
    work_order = redemption.work_order
    days_before = (redemption.scheduled_for - work_order_today(work_order)).days
    # The service's own computation: what the page shows is what the move charges.
    fee = services.reschedule_fee(redemption=redemption)
    form = RescheduleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with errors_onto(form):
            moved = services.redemption_reschedule(
                redemption=redemption,
                by=request.user,
                scheduled_for=form.cleaned_data["scheduled_for"],
                reason=form.cleaned_data.get("reason", ""),
            )
            messages.success(
                request,
                _("%(service)s is moved to %(date)s.")
                % {
                    "service": moved.service.name,
                    "date": formatting.fmt_date(moved.scheduled_for, "day"),
                },
            )
            return redirect("work_order_overview", pk=work_order.pk)
    return render(
        request,
        "credits/reschedule.html",
        {
            "nav_section": "home",
            "redemption": redemption,
            "work_order": work_order,
            "form": form,
            "days_before": days_before,
            "fee": fee,
            "scheduled": redemption.status == RedemptionStatus.SCHEDULED,
            "free_days": FREE_CANCELLATION_DAYS,
        },
    )


@staff_editor_required
def deliver(request, pk):
    """R14: staff record that a scheduled redemption was delivered (today unless a day is given).

    The overview's "Mark delivered" button posts here with no date; a refusal (a future
    day, one outside the term, already delivered) re-renders this page with the rule on
    the form, nothing written.
    """
    redemption = get_object_or_404(
        Redemption.objects.visible_to(request.user).select_related(
            "work_order__customer", "service"
        ),
        pk=pk,
    )
    work_order = redemption.work_order
    # Bound on any POST: the overview's button posts no fields at all (today).
    form = DeliverForm(request.POST if request.method == "POST" else None, work_order=work_order)
    if request.method == "POST" and form.is_valid():
        with errors_onto(form):
            done = services.redemption_mark_delivered(
                redemption=redemption,
                delivered_on=form.cleaned_data.get("delivered_on"),
                by=request.user,
            )
            messages.success(
                request,
                _("%(service)s is marked delivered on %(date)s.")
                % {
                    "service": done.service.name,
                    "date": formatting.fmt_date(done.delivered_on, "day"),
                },
            )
            return redirect("work_order_overview", pk=work_order.pk)
    return render(
        request,
        "credits/deliver.html",
        {
            "nav_section": "work_orders",
            "redemption": redemption,
            "work_order": work_order,
            "form": form,
            "scheduled": redemption.status == RedemptionStatus.SCHEDULED,
        },
    )


@staff_required
def rates(request, customer_pk):
    """The customer's rate card: its own rates and the defaults (partial for htmx)."""
    customer = get_object_or_404(Customer.objects.visible_to(request.user), pk=customer_pk)
    template = "credits/_rates.html" if request.htmx else "credits/rates.html"
    return render(request, template, _rate_context(request, customer, RateForm(prefix="rate")))


def _rate_context(request, customer, form):
    today = business_today()
    card = selectors.rate_card(actor=request.user, on=None).filter(
        customer__in=[customer]
    ) | selectors.rate_card(actor=request.user, on=None).filter(customer__isnull=True)
    rows = list(
        card.select_related("service", "customer").order_by("service__name", "-valid_from")[:200]
    )
    current = {}
    for rate in rows:
        if rate.valid_from > today:
            continue
        key = rate.service_id
        mine = rate.customer_id is not None
        if key not in current or (mine and current[key].customer_id is None):
            current[key] = rate
    return {
        "customer": customer,
        "rates": sorted(current.values(), key=lambda r: r.service.name),
        "future": [r for r in rows if r.valid_from > today],
        "form": form,
        "can_edit": can_edit(request.user),
        "nav_section": "customers",
    }


@staff_editor_required
def rate_add(request, customer_pk):
    customer = get_object_or_404(Customer.objects.visible_to(request.user), pk=customer_pk)
    form = RateForm(request.POST or None, prefix="rate")
    if request.method == "POST" and form.is_valid():
        with errors_onto(form):
            services.rate_create(customer=customer, by=request.user, **form.cleaned_data)
            messages.success(request, _("The rate was added."))
            return redirect("credits:rates", customer_pk=customer.pk)
    return render(request, "credits/rates.html", _rate_context(request, customer, form))


@staff_required
def shortfall(request, pk):
    """R18: the work order's shortfall window and invoices; editors record one (POST).

    The overview shows the same list and a small form posting here; a refused record
    re-renders this page with the rule on the form, nothing written.
    """
    work_order = get_object_or_404(
        WorkOrder.objects.visible_to(request.user).select_related("customer"), pk=pk
    )
    form = ShortfallInvoiceForm(request.POST or None, prefix="shortfall", work_order=work_order)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with errors_onto(form):
            invoice = services.shortfall_invoice_record(
                work_order=work_order,
                amount=data["amount"],
                currency=data["currency"],
                reference=data["reference"],
                note=data.get("note", ""),
                on=data["invoiced_on"],
                by=request.user,
            )
            messages.success(
                request,
                _("The shortfall invoice %(reference)s is recorded (R18).")
                % {"reference": invoice.reference},
            )
            return redirect("credits:shortfall", pk=work_order.pk)
    return _shortfall_page(request, work_order, form=form)


def _shortfall_page(request, work_order, *, form, void_form=None, void_invoice=None):
    """The shortfall page (or its partial for htmx), with any refused form bound."""
    template = "credits/_shortfall.html" if request.htmx else "credits/shortfall.html"
    return render(
        request,
        template,
        {
            "nav_section": "work_orders",
            "work_order": work_order,
            # No form for a terminated work order (R18 refuses it), unless to show the error.
            "shortfall_form": form
            if can_edit(request.user) and (work_order.terminated_at is None or form.is_bound)
            else None,
            "shortfall": selectors.shortfall_summary(work_order=work_order, actor=request.user),
            "shortfall_page": True,
            "can_edit": can_edit(request.user),
            # A refused void: its form, with the error, shown on that invoice's row.
            "void_form": void_form,
            "void_invoice_id": void_invoice.pk if void_invoice is not None else None,
        },
    )


@staff_required
def shortfall_void(request, pk):
    """R18: void a wrongly recorded shortfall invoice of the work order (POST, editors).

    The invoice is posted (`void-invoice`) and looked up within the work order the
    actor may see. The window it held is free again for a corrected invoice; a refused
    void re-renders the shortfall page with the rule on it, nothing written.
    """
    work_order = get_object_or_404(
        WorkOrder.objects.visible_to(request.user).select_related("customer"), pk=pk
    )
    if request.method != "POST":
        return redirect("credits:shortfall", pk=work_order.pk)
    form = ShortfallVoidForm(request.POST, prefix="void")
    if not form.is_valid():  # only the hidden invoice id can be invalid: not a real form
        raise Http404
    invoice = get_object_or_404(
        ShortfallInvoice.objects.visible_to(request.user).filter(work_order=work_order),
        pk=form.cleaned_data["invoice"],
    )
    with errors_onto(form):
        services.shortfall_invoice_void(
            invoice=invoice, reason=form.cleaned_data["reason"], by=request.user
        )
        messages.success(
            request,
            _("The shortfall invoice %(reference)s is voided (R18).")
            % {"reference": invoice.reference},
        )
        return redirect("credits:shortfall", pk=work_order.pk)
    return _shortfall_page(
        request,
        work_order,
        form=ShortfallInvoiceForm(prefix="shortfall", work_order=work_order),
        void_form=form,
        void_invoice=invoice,
    )
