"""Web forms of the credits app: redeeming credits, cancelling, moving, delivering, the rate card,
R18 shortfalls."""

import datetime as dt
import json
import uuid
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from contracts.forms import DateInput
from core import formatting
from core.forms import PortalForm
from core.times import business_today
from credits.choices import SHORTFALL_DEFAULT_CURRENCY, DeliveryMode
from credits.services.redemptions import delivery_modes_for
from services.choices import ON_DEMAND_ASSESSMENT, PROACTIVE_CREDITS, PURCHASABLE
from services.models import Service


class RedeemForm(PortalForm):
    """Credits for an add-on on a date (R10). The cost and the R16 rule are shown before
    the redemption is confirmed; the idempotency key makes a double click harmless."""

    service = forms.ModelChoiceField(label=_("Service"), queryset=Service.objects.none())
    quantity = forms.DecimalField(
        label=_("Quantity"), min_value=Decimal("0.01"), max_digits=10, decimal_places=2, initial=1
    )
    scheduled_for = forms.DateField(label=_("Delivery date"), widget=DateInput())
    delivery_mode = forms.ChoiceField(
        label=_("Delivery"),
        choices=DeliveryMode.choices,
        initial=DeliveryMode.STANDARD,
        help_text=_(
            "Workshops: per participant or dedicated (R20). On-demand Assessment engineer: onsite or remote (R21)."
        ),
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, work_order, **kwargs):
        super().__init__(*args, **kwargs)
        package = work_order.package
        self.fields["service"].queryset = (
            Service.objects.filter(**{f"availability_{package}__in": PURCHASABLE}).exclude(
                code=PROACTIVE_CREDITS
            )
            | Service.objects.filter(code=ON_DEMAND_ASSESSMENT)
        ).order_by("category", "name")
        self.fields["service"].label_from_instance = lambda s: (
            f"{s.name} ({formatting.unit_name(s.unit)})"
        )
        # The bounds the confirmation checks: from today (or the term's start) to the term's end.
        low = max(business_today(), work_order.start_date)
        self.fields["scheduled_for"].widget.attrs.update(
            min=low.isoformat(), max=work_order.end_date.isoformat()
        )
        # Delivery modes per service (portal.js offers only the selected service's modes).
        modes = {str(s.pk): delivery_modes_for(s) for s in self.fields["service"].queryset}
        self.fields["delivery_mode"].widget.attrs["data-modes-for"] = "id_service"
        self.fields["delivery_mode"].widget.attrs["data-modes"] = json.dumps(modes)
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)
            self.initial.setdefault("scheduled_for", business_today() + dt.timedelta(days=21))


class CancelForm(PortalForm):
    reason = forms.CharField(label=_("Reason (optional)"), max_length=300, required=False)
    minimum_enrolment_not_reached = forms.BooleanField(
        label=_("Workshop cancelled: minimum enrolment not reached (R20, full refund)"),
        required=False,
    )


class RescheduleForm(PortalForm):
    """A new delivery date for a scheduled redemption (R16; the fee is shown first)."""

    scheduled_for = forms.DateField(label=_("New delivery date"), widget=DateInput())
    reason = forms.CharField(label=_("Reason (optional)"), max_length=200, required=False)


class DeliverForm(PortalForm):
    """R14: the day a scheduled redemption was delivered (staff; today if left empty).

    No bounds here: the service refuses a future day or one outside the term with a
    message naming R14, shown on the field."""

    delivered_on = forms.DateField(
        label=_("Delivered on"), widget=DateInput(), required=False, initial=timezone.localdate
    )


class RateForm(PortalForm):
    service = forms.ModelChoiceField(
        label=_("Service"),
        queryset=Service.objects.exclude(code=PROACTIVE_CREDITS).order_by("name"),
    )
    credits_per_unit = forms.DecimalField(
        label=_("Credits per unit"), min_value=Decimal("0.0001"), max_digits=12, decimal_places=4
    )
    valid_from = forms.DateField(
        label=_("Valid from"), widget=DateInput(), initial=timezone.localdate
    )


class ShortfallInvoiceForm(PortalForm):
    """R18: a Software Assurance shortfall invoiced in the window after the start or an anniversary.

    No bounds here: the service refuses a non-positive amount or a day outside the
    window with a message naming R18, shown on the field.
    """

    invoiced_on = forms.DateField(
        label=_("Invoice date"), widget=DateInput(), initial=timezone.localdate
    )
    amount = forms.DecimalField(label=_("Amount"), max_digits=12, decimal_places=2)
    currency = forms.CharField(
        label=_("Currency"), max_length=3, initial=SHORTFALL_DEFAULT_CURRENCY
    )
    reference = forms.CharField(
        label=_("Invoice number"), max_length=200, help_text=_("As in the billing system.")
    )
    note = forms.CharField(label=_("Note (optional)"), max_length=300, required=False)


class ShortfallVoidForm(PortalForm):
    """R18: void a wrongly recorded shortfall invoice, saying why.

    Not required here: the service refuses an empty reason with a message naming R18.
    """

    invoice = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    reason = forms.CharField(label=_("Reason for voiding"), required=False)
