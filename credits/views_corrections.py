"""Staff pages that move entitlements by hand: time entries against hour blocks (R11),
a balance correction with a reason, Software Assurance conversion (R18) and the exchange
of a scheduled service (R17). Each shows its effect on the ledger or the block first
(`action=preview`) and writes only on `action=confirm`, through credits.services."""

from decimal import Decimal

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from accounts.permissions import can_edit, staff_editor_required, staff_required
from contracts.models import WorkOrder
from contracts.times import work_order_today
from core import formatting
from core.errors import DomainError
from core.forms import errors_onto
from credits import selectors, services
from credits.choices import RedemptionStatus
from credits.forms import (
    AdjustForm,
    ExchangeForm,
    SaConversionForm,
    TimeEntryForm,
    VendorConsentForm,
)
from credits.models import Redemption, VendorConsent


def _work_order(request, pk) -> WorkOrder:
    # The one door: another customer's work order is a 404.
    return get_object_or_404(
        WorkOrder.objects.visible_to(request.user).select_related("customer"), pk=pk
    )


def _page(
    request, work_order, *, title, form, effect=None, confirm_label="", back=None, extra=None
):
    context = {
        "nav_section": "work_orders",
        "work_order": work_order,
        "title": title,
        "form": form,
        "effect": effect,
        "confirm_label": confirm_label,
        "back": back,
        **(extra or {}),
    }
    return render(request, "credits/correction.html", context)


def _confirming(request) -> bool:
    return request.method == "POST" and request.POST.get("action") == "confirm"


def _preview_then_confirm(request, form, *, effect, write):
    """The one shape of these pages. A valid POST shows `effect(data)`, the facts of what
    would change (None when the input is refused: the function put the error on the form,
    and nothing is written); with action=confirm, `write(data)` runs the service and
    returns the redirect after its success message, and a DomainError it raises goes onto
    the form. Returns (facts to show, the response or None to show the page again)."""
    if form is None or request.method != "POST" or not form.is_valid():
        return None, None
    data = form.cleaned_data
    facts = effect(data)
    if facts is None or not _confirming(request):
        return facts, None
    with errors_onto(form):
        return facts, write(data)
    return facts, None


def _preview_page(request, work_order, form, *, effect, write, title, confirm_label, extra=None):
    """_preview_then_confirm, then the page: the redirect after a confirmed write, else
    the page with the form and the facts of what would change."""
    facts, done = _preview_then_confirm(request, form, effect=effect, write=write)
    if done is not None:
        return done
    return _page(
        request,
        work_order,
        title=title,
        form=form,
        effect=facts,
        confirm_label=confirm_label,
        extra=extra,
    )


def block_burndown(work_order) -> list[dict]:
    """Per hour block: bought, used, left and the share used (for the burn-down bars)."""
    rows = []
    for line in work_order.lines.filter(service__is_hour_block=True).select_related("service"):
        used_pct = int(line.used * 100 / line.quantity) if line.quantity else 0
        rows.append(
            {
                "line": line,
                "quantity": formatting.number(line.quantity),
                "used": formatting.number(line.used),
                "remaining": formatting.number(line.remaining),
                "used_pct": used_pct,
                "expired": line.expired_at is not None,
                "entries": list(line.time_entries.order_by("-worked_on", "-id")[:20]),
                # R14 per year: the hours left unused at each anniversary, lapsed.
                "lapses": list(line.lapses.order_by("-anniversary", "-id")),
            }
        )
    return rows


@staff_required
def hours(request, pk):
    """Burn-down per hour block and, for editors, recording time worked (R11)."""
    work_order = _work_order(request, pk)
    form = (
        TimeEntryForm(request.POST or None, work_order=work_order)
        if can_edit(request.user)
        else None
    )

    def effect(data):
        line = data["line"]
        if data["hours"] > line.remaining:
            form.add_error(
                "hours",
                _("Only %(remaining)s of %(quantity)s hours remain on this block.")
                % {
                    "remaining": formatting.number(line.remaining),
                    "quantity": formatting.number(line.quantity),
                },
            )
            return None
        return [
            (_("Hour block"), line.service.name),
            (_("Hours left now"), formatting.number(line.remaining)),
            (_("Hours recorded"), formatting.number(data["hours"])),
            (_("Hours left after"), formatting.number(line.remaining - data["hours"])),
        ]

    def write(data):
        line = data["line"]
        services.time_entry_record(
            line=line,
            hours=data["hours"],
            worked_on=data["worked_on"],
            description=data["description"],
            by=request.user,
        )
        messages.success(
            request,
            _("%(hours)s hours were recorded on %(service)s.")
            % {"hours": formatting.number(data["hours"]), "service": line.service.name},
        )
        return redirect("credits:hours", pk=work_order.pk)

    return _preview_page(
        request,
        work_order,
        form,
        effect=effect,
        write=write,
        title=_("Hour blocks"),
        confirm_label=_("Record the hours"),
        extra={"blocks": block_burndown(work_order)},
    )


def _ledger_effect(work_order, amount: int) -> list:
    balance = selectors.balance(work_order=work_order)
    return [
        (_("Balance now"), balance),
        (_("Change"), f"{amount:+d}"),
        (_("Balance after"), balance + amount),
    ]


def _ledger_page(request, work_order, form, *, write, title, confirm_label):
    """A page that moves the credit balance by the form's `amount`: the ledger before and
    after as its preview; after `write(data)`, back to the work order's overview."""

    def write_then_overview(data):
        write(data)
        return redirect("work_order_overview", pk=work_order.pk)

    return _preview_page(
        request,
        work_order,
        form,
        effect=lambda data: _ledger_effect(work_order, data["amount"]),
        write=write_then_overview,
        title=title,
        confirm_label=confirm_label,
    )


@staff_editor_required
def adjust(request, pk):
    """A correction of the credit balance with a mandatory reason; never below zero."""
    work_order = _work_order(request, pk)
    form = AdjustForm(request.POST or None)

    def write(data):
        services.credits_adjust(
            work_order=work_order, amount=data["amount"], reason=data["reason"], by=request.user
        )
        messages.success(request, _("The balance was corrected."))

    return _ledger_page(
        request,
        work_order,
        form,
        write=write,
        title=_("Correct the credit balance"),
        confirm_label=_("Correct the balance"),
    )


@staff_editor_required
def sa_conversion(request, pk):
    """R18: Software Assurance benefits converted into credits."""
    work_order = _work_order(request, pk)
    form = SaConversionForm(request.POST or None)

    def write(data):
        services.credits_sa_conversion(
            work_order=work_order,
            amount=data["amount"],
            reference=data["reference"],
            by=request.user,
        )
        messages.success(
            request,
            _("%(n)s credits from Software Assurance were added.")
            % {"n": formatting.number(data["amount"])},
        )

    return _ledger_page(
        request,
        work_order,
        form,
        write=write,
        title=_("Convert Software Assurance benefits"),
        confirm_label=_("Add the credits"),
    )


@staff_editor_required
def exchange(request, pk):
    """R17: exchange a scheduled redemption for a service of equivalent value."""
    redemption = get_object_or_404(
        Redemption.objects.visible_to(request.user).select_related("work_order", "service"),
        pk=pk,
    )
    work_order = redemption.work_order
    form = ExchangeForm(
        request.POST or None,
        work_order=work_order,
        initial={"approved_by": request.user.pk, "scheduled_for": redemption.scheduled_for},
    )
    if redemption.status != RedemptionStatus.SCHEDULED:
        refusal = _("Only a scheduled service can be exchanged.")
        if form.is_bound:
            # An error before validation: the form never validates, so nothing is
            # previewed or written.
            form.add_error(None, refusal)
        else:
            # An unbound form takes no errors (it has no cleaned_data): the page says why,
            # without a form.
            messages.error(request, refusal)
            form = None

    def effect(data):
        rate = selectors.rate_for(
            service=data["service"],
            customer=work_order.customer,
            on=work_order_today(work_order),
        )
        if rate is None:
            form.add_error("service", _("There is no rate for this service yet."))
            return None
        cost = services.redemption_cost(rate=rate, quantity=data["quantity"])
        difference = cost - redemption.credits
        balance = selectors.balance(work_order=work_order)
        return [
            (_("Exchanged"), f"{redemption.service.name}: {redemption.credits}"),
            (_("For"), f"{data['service'].name}: {cost}"),
            (_("Balance now"), balance),
            (_("Change"), f"{-difference:+d}"),
            (_("Balance after"), balance - difference),
        ]

    def write(data):
        services.redemption_exchange(
            redemption=redemption,
            service=data["service"],
            quantity=Decimal(data["quantity"]),
            scheduled_for=data["scheduled_for"],
            approved_by=data["approved_by"],
            by=request.user,
        )
        messages.success(request, _("The service was exchanged."))
        return redirect("work_order_overview", pk=work_order.pk)

    return _preview_page(
        request,
        work_order,
        form,
        effect=effect,
        write=write,
        title=_("Exchange %(service)s") % {"service": redemption.service.name},
        confirm_label=_("Exchange"),
    )


@staff_required
def engagements(request, pk):
    """Consulting engagements of a work order (SOW, milestones, fixed price); editors add one
    after seeing what it takes from the balance or the hour block."""
    from credits.forms import EngagementForm
    from credits.models import ConsultingEngagement, EngagementMilestone

    work_order = _work_order(request, pk)
    if request.method == "POST" and request.POST.get("milestone") and can_edit(request.user):
        milestone = get_object_or_404(
            EngagementMilestone.objects.visible_to(request.user).filter(
                engagement__work_order=work_order
            ),
            pk=request.POST["milestone"],
        )
        try:
            services.milestone_complete(milestone=milestone, by=request.user)
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect("credits:engagements", pk=work_order.pk)
    form = EngagementForm(request.POST or None) if can_edit(request.user) else None
    effect = None
    if form is not None and request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if data["price_credits"]:
            effect = _ledger_effect(work_order, -data["price_credits"])
        elif data["price_hours"]:
            effect = [(_("Hours taken from the block"), formatting.number(data["price_hours"]))]
        if _confirming(request):
            with errors_onto(form):
                services.consulting_engagement_create(
                    work_order=work_order,
                    service=data["service"],
                    sow_reference=data["sow_reference"],
                    title=data["title"],
                    milestones=data["milestones"],
                    price_credits=data["price_credits"],
                    price_hours=data["price_hours"],
                    by=request.user,
                )
                messages.success(request, _("The engagement was recorded."))
                return redirect("credits:engagements", pk=work_order.pk)
    rows = (
        ConsultingEngagement.objects.visible_to(request.user)
        .filter(work_order=work_order)
        .prefetch_related("milestones")
    )
    return _page(
        request,
        work_order,
        title=_("Consulting engagements"),
        form=form,
        effect=effect,
        confirm_label=_("Record the engagement"),
        extra={"engagements": rows},
    )


@staff_required
def vendor_consent(request, pk):
    """Seed §4.2.1: the vendor's written consents recorded on the work order and, for
    editors, recording one; afterwards workshops can be booked (by the customer too)."""
    work_order = _work_order(request, pk)
    form = VendorConsentForm(request.POST or None) if can_edit(request.user) else None

    def effect(data):
        return [
            (_("Service"), data["service"].name),
            (_("Vendor's written consent"), data["reference"]),
            (_("Recorded by"), request.user.get_username()),
            (_("Then"), _("Workshops on this work order can be scheduled.")),
        ]

    def write(data):
        services.vendor_consent_record(
            work_order=work_order,
            service=data["service"],
            reference=data["reference"],
            by=request.user,
        )
        messages.success(
            request,
            _("The vendor's consent for %(service)s is recorded.")
            % {"service": data["service"].name},
        )
        return redirect("credits:vendor_consent", pk=work_order.pk)

    consents = VendorConsent.objects.filter(work_order=work_order).select_related(
        "service", "recorded_by"
    )
    return _preview_page(
        request,
        work_order,
        form,
        effect=effect,
        write=write,
        title=_("Vendor's consent"),
        confirm_label=_("Record the consent"),
        extra={"consents": list(consents)},
    )
