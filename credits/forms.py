"""Web forms of the credits app: redeeming credits, cancelling, moving, delivering, the rate card,
R18 shortfalls."""

import datetime as dt
import json
import uuid
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from contracts.forms import DateInput
from contracts.times import work_order_today
from core import formatting
from core.forms import PortalForm
from core.times import business_today
from credits.choices import SHORTFALL_DEFAULT_CURRENCY, DeliveryMode
from credits.services.redemptions import delivery_modes_for
from services.choices import ON_DEMAND_ASSESSMENT, PROACTIVE_CREDITS, PURCHASABLE
from services.models import Service


def _n(value) -> str:
    """A decimal as people write it: 10, 2.5 (never 1E+1)."""
    return f"{value.normalize():f}"


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
    vendor_consent = forms.CharField(
        label=_("Vendor's written consent (staff)"),
        max_length=300,
        required=False,
        help_text=_(
            "Workshops are scheduled only with the vendor's written consent: say where it "
            "is (a mail, a letter, a ticket). Not needed once one is recorded for this work order."
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
        low = max(work_order_today(work_order), work_order.start_date)
        self.fields["scheduled_for"].widget.attrs.update(
            min=low.isoformat(), max=work_order.end_date.isoformat()
        )
        # Delivery modes per service (portal.js offers only the selected service's modes).
        modes = {str(s.pk): delivery_modes_for(s) for s in self.fields["service"].queryset}
        self.fields["delivery_mode"].widget.attrs["data-modes-for"] = "id_service"
        self.fields["delivery_mode"].widget.attrs["data-modes"] = json.dumps(modes)
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)
            self.initial.setdefault(
                "scheduled_for", work_order_today(work_order) + dt.timedelta(days=21)
            )


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

    delivered_on = forms.DateField(label=_("Delivered on"), widget=DateInput(), required=False)

    def __init__(self, *args, work_order=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["delivered_on"].initial = work_order_today(work_order)


class RateForm(PortalForm):
    service = forms.ModelChoiceField(
        label=_("Service"),
        queryset=Service.objects.exclude(code=PROACTIVE_CREDITS).order_by("name"),
    )
    credits_per_unit = forms.DecimalField(
        label=_("Credits per unit"), min_value=Decimal("0.0001"), max_digits=12, decimal_places=4
    )
    valid_from = forms.DateField(label=_("Valid from"), widget=DateInput(), initial=business_today)


class ShortfallInvoiceForm(PortalForm):
    """R18: a Software Assurance shortfall invoiced in the window after the start or an anniversary.

    No bounds here: the service refuses a non-positive amount or a day outside the
    window with a message naming R18, shown on the field.
    """

    invoiced_on = forms.DateField(label=_("Invoice date"), widget=DateInput())
    amount = forms.DecimalField(label=_("Amount"), max_digits=12, decimal_places=2)
    currency = forms.CharField(
        label=_("Currency"), max_length=3, initial=SHORTFALL_DEFAULT_CURRENCY
    )
    reference = forms.CharField(
        label=_("Invoice number"), max_length=200, help_text=_("As in the billing system.")
    )
    note = forms.CharField(label=_("Note (optional)"), max_length=300, required=False)

    def __init__(self, *args, work_order=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["invoiced_on"].initial = work_order_today(work_order)


class ShortfallVoidForm(PortalForm):
    """R18: void a wrongly recorded shortfall invoice, saying why.

    Not required here: the service refuses an empty reason with a message naming R18.
    """

    invoice = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    reason = forms.CharField(label=_("Reason for voiding"), required=False)


class TimeEntryForm(forms.Form):
    """R11: hours worked against one hour block of the work order (staff)."""

    line = forms.ModelChoiceField(label=_("Hour block"), queryset=None)
    worked_on = forms.DateField(label=_("Date worked"), widget=DateInput())
    hours = forms.DecimalField(
        label=_("Hours"), max_digits=8, decimal_places=2, min_value=Decimal("0.25")
    )
    description = forms.CharField(label=_("What was done"), max_length=300)

    def __init__(self, *args, work_order, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["worked_on"].initial = work_order_today(work_order)
        self.fields["line"].queryset = work_order.lines.filter(
            service__is_hour_block=True, expired_at__isnull=True
        ).select_related("service")
        self.fields["line"].label_from_instance = lambda line: (
            _("%(service)s (%(remaining)s of %(quantity)s hours left)")
            % {
                "service": line.service.name,
                "remaining": _n(line.remaining),
                "quantity": _n(line.quantity),
            }
        )


class AdjustForm(forms.Form):
    """A correction of the credit balance; the reason is mandatory."""

    amount = forms.IntegerField(
        label=_("Credits (+ adds, − takes away)"), min_value=-1_000_000, max_value=1_000_000
    )
    reason = forms.CharField(label=_("Reason"), max_length=300)


class VendorConsentForm(forms.Form):
    """Seed §4.2.1: where the vendor's written consent to schedule a service is."""

    service = forms.ModelChoiceField(
        label=_("Service"), queryset=Service.objects.filter(needs_vendor_consent=True)
    )
    reference = forms.CharField(
        label=_("Vendor's written consent"),
        max_length=300,
        help_text=_("Where it is: the vendor's mail, letter or ticket, with its date."),
    )


class SaConversionForm(forms.Form):
    """R18: Software Assurance benefits converted into credits at the vendor's value."""

    amount = forms.IntegerField(label=_("Credits"), min_value=1, max_value=1_000_000)
    reference = forms.CharField(
        label=_("SA benefit converted"),
        max_length=200,
        help_text=_("E.g. the SA agreement number and the incidents converted."),
    )


class ExchangeForm(forms.Form):
    """R17: a scheduled service exchanged for one of equivalent value, approved by an account manager."""

    service = forms.ModelChoiceField(label=_("Exchange for"), queryset=Service.objects.none())
    quantity = forms.DecimalField(
        label=_("Quantity"), min_value=Decimal("0.01"), max_digits=10, decimal_places=2, initial=1
    )
    scheduled_for = forms.DateField(label=_("Delivery date"), widget=DateInput(), required=False)
    approved_by = forms.ModelChoiceField(label=_("Approved by (account manager)"), queryset=None)

    def __init__(self, *args, work_order, **kwargs):
        from django.contrib.auth import get_user_model

        from accounts.choices import Role

        super().__init__(*args, **kwargs)
        package = work_order.package
        self.fields["service"].queryset = (
            Service.objects.filter(**{f"availability_{package}__in": PURCHASABLE})
            .exclude(code=PROACTIVE_CREDITS)
            .order_by("category", "name")
        )
        self.fields["approved_by"].queryset = (
            get_user_model()
            .objects.filter(
                is_active=True, is_staff=True, role__in=(Role.ADMINISTRATOR, Role.ACCOUNT_MANAGER)
            )
            .order_by("username")
        )


class EngagementForm(forms.Form):
    """Seed §3.2/§3.3: a consulting engagement under a statement of work."""

    service = forms.ModelChoiceField(
        label=_("Consulting service"), queryset=Service.objects.filter(category="consulting")
    )
    sow_reference = forms.CharField(label=_("Statement of work"), max_length=200)
    title = forms.CharField(label=_("Title"), max_length=200)
    price_credits = forms.IntegerField(
        label=_("Fixed price in credits"), min_value=1, required=False
    )
    price_hours = forms.DecimalField(
        label=_("or fixed price in hours"),
        min_value=Decimal("0.25"),
        max_digits=8,
        decimal_places=2,
        required=False,
    )
    milestones = forms.CharField(
        label=_("Milestones"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One per line: name; YYYY-MM-DD"),
    )

    def clean_milestones(self):
        out = []
        for raw in self.cleaned_data["milestones"].splitlines():
            if not raw.strip():
                continue
            name, _sep, due = raw.rpartition(";")
            try:
                out.append({"name": name.strip(), "due_on": dt.date.fromisoformat(due.strip())})
            except ValueError as exc:
                raise forms.ValidationError(_("Write each milestone as: name; YYYY-MM-DD")) from exc
        return out
