"""The pages of a work order's term that show its credits: extending the term (R14: what
stays unused) and the confirmation of a termination (what can no longer be redeemed).
They write through contracts.services; credits builds on contracts, so these pages are
credits' (contracts does not read credits)."""

from decimal import Decimal

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.permissions import staff_editor_required
from contracts import services
from contracts.forms import ExtendForm
from contracts.views.common import (
    confirm_page,
    editable_work_order,
    form_page,
    plain_decimal,
    work_order_edit_url,
)
from core.forms import errors_onto
from credits.selectors import balance as credit_balance
from services.choices import DSE


@staff_editor_required
def work_order_extend(request, pk):
    work_order = editable_work_order(request, pk)
    unused = services.unused_entitlements(work_order)
    balance = credit_balance(work_order=work_order)
    form = ExtendForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with errors_onto(form):
            services.work_order_extend(
                work_order=work_order,
                end_date=data["end_date"],
                unused=data["unused"],
                reason=data["reason"],
                by=request.user,
            )
            messages.success(
                request, _("The term now ends on %(end)s.") % {"end": data["end_date"]}
            )
            return redirect("contracts:work_order_edit", pk=work_order.pk)
    return form_page(
        request,
        title=_("Extend %(number)s") % {"number": work_order.number},
        form=form,
        back=work_order_edit_url(work_order),
        submit=_("Extend the term"),
        work_order=work_order,
        extra={
            "facts": [
                (_("Term ends"), work_order.end_date),
                (_("Unused credits"), balance),
                (_("Unused hours"), plain_decimal(unused["hours"])),
            ]
        },
    )


@staff_editor_required
def terminate_confirm(request, pk):
    work_order = editable_work_order(request, pk)
    dse = work_order.lines.filter(service__code=DSE).count()
    hours = sum(
        (
            line.remaining
            for line in work_order.lines.filter(
                service__is_hour_block=True, expired_at__isnull=True
            )
        ),
        Decimal(0),
    )
    return confirm_page(
        request,
        title=_("Terminate %(number)s") % {"number": work_order.number},
        facts=[
            (_("Ends"), _("today, instead of %(end)s") % {"end": work_order.end_date}),
            (
                _("Active named contacts who can no longer file"),
                work_order.contacts.filter(active=True).count(),
            ),
            (_("Credits that can no longer be redeemed"), credit_balance(work_order=work_order)),
            (_("Unused hours that lapse"), plain_decimal(hours)),
            (_("DSE lines ending today"), dse),
        ],
        action=reverse("contracts:work_order_terminate", args=[work_order.pk]),
        back=work_order_edit_url(work_order),
        submit=_("Terminate work order"),
    )
