"""Pages of the contract's life: edit a customer, invite / deactivate / import contacts,
the lead contact's proposals (R25), renewal and extension (R14), and the confirmation of
every destructive action (remove a line) saying what happens in numbers. Extending a term
and terminating a work order show credit balances: their pages are credits' own
(credits/views_term.py)."""

from django.contrib import messages
from django.contrib.auth import login
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import editor_writes, staff_editor_required
from contracts import services
from contracts.forms import (
    ContactImportForm,
    ContactProposalForm,
    CustomerEditForm,
    InvitationAcceptForm,
    RenewForm,
)
from contracts.models import (
    ContactChangeRequest,
    Customer,
    NamedContact,
    WorkOrder,
    WorkOrderLine,
)
from contracts.views.common import (
    confirm_page,
    editable_work_order,
    form_page,
    plain_decimal,
    work_order_edit_url,
)
from core.errors import DomainError
from core.forms import errors_onto
from services.choices import PROACTIVE_CREDITS

# --- customers ------------------------------------------------------------------------------


@staff_editor_required
def customer_edit(request, pk):
    customer = get_object_or_404(Customer.objects.visible_to(request.user), pk=pk)
    initial = {
        f: getattr(customer, f) for f in ("name", "country", "timezone", "language", "version")
    }
    form = CustomerEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version")
        with errors_onto(form):
            services.customer_update(
                customer=customer, expected_version=version, by=request.user, **data
            )
            messages.success(request, _("%(name)s was saved.") % {"name": data["name"]})
            return redirect("contracts:customer_detail", pk=customer.pk)
    return form_page(
        request,
        title=_("Edit %(name)s") % {"name": customer.name},
        form=form,
        back=reverse("contracts:customer_detail", args=[customer.pk]),
        submit=_("Save"),
    )


# --- contacts -------------------------------------------------------------------------------


def _contact(request, pk) -> NamedContact:
    return get_object_or_404(
        NamedContact.objects.visible_to(request.user).select_related("work_order"), pk=pk
    )


@staff_editor_required
@require_POST
def contact_invite(request, pk):
    """Send (or send again) the one-time sign-in link."""
    contact = _contact(request, pk)
    try:
        services.named_contact_invite(contact=contact, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("An invitation to sign in was sent to %(email)s; it works once, for 7 days.")
            % {"email": contact.email},
        )
    return redirect(f"{work_order_edit_url(contact.work_order)}#contacts")


@staff_editor_required
def contact_deactivate(request, pk):
    """R25: confirm, then end the contact's right to file; the row and its history stay."""
    contact = _contact(request, pk)
    if request.method == "POST":
        try:
            services.named_contact_deactivate(contact=contact, by=request.user)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("%(name)s was deactivated.") % {"name": contact.name})
        return redirect(f"{work_order_edit_url(contact.work_order)}#contacts")
    active = contact.work_order.contacts.filter(active=True).count()
    return confirm_page(
        request,
        title=_("Deactivate %(name)s") % {"name": contact.name},
        facts=[
            (_("Contact"), f"{contact.name} <{contact.email}>"),
            (_("Active contacts after"), active - 1 if contact.active else active),
            (
                _("What happens"),
                _("The contact can no longer file incidents; its history is kept."),
            ),
        ],
        action=request.path,
        back=f"{work_order_edit_url(contact.work_order)}#contacts",
        submit=_("Deactivate"),
    )


@staff_editor_required
def contacts_import(request, pk):
    """Upload a CSV, see each row with its errors, then import the valid rows."""
    work_order = editable_work_order(request, pk)
    form = ContactImportForm(request.POST or None, request.FILES or None)
    rows = None
    if request.method == "POST" and form.is_valid():
        text = form.cleaned_data["text"]
        with errors_onto(form):
            rows = services.contacts_csv_parse(work_order=work_order, text=text)
            if request.POST.get("action") == "confirm":
                added = services.named_contacts_import(
                    work_order=work_order, text=text, by=request.user
                )
                messages.success(
                    request, _("%(n)s named contacts were imported.") % {"n": len(added)}
                )
                return redirect(f"{work_order_edit_url(work_order)}#contacts")
            form = ContactImportForm(initial={"text": text})
    valid = [r for r in rows or [] if not r["errors"]]
    return render(
        request,
        "contracts/contacts_import.html",
        {
            "nav_section": "work_orders",
            "work_order": work_order,
            "form": form,
            "rows": rows,
            "valid": len(valid),
            "invalid": len(rows or []) - len(valid),
        },
    )


def invitation_accept(request, token):
    """Public: the one-time link. Set a password; the login is linked to the contact."""
    invitation = services.invitation_for_token(token)
    form = InvitationAcceptForm(request.POST or None)
    if invitation is not None and request.method == "POST" and form.is_valid():
        with errors_onto(form):
            user = services.contact_invitation_accept(
                token=token, password=form.cleaned_data["password1"]
            )
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("Welcome! You can file incidents now."))
            return redirect(
                f"{reverse('incidents:create')}?work_order={invitation.contact.work_order_id}"
            )
    # A used, replaced, expired or forged link: the page says so, with a 404 status.
    return render(
        request,
        "contracts/invitation_accept.html",
        {"invitation": invitation, "form": form},
        status=200 if invitation is not None else 404,
    )


@staff_editor_required
def contact_proposals(request, pk):
    """Staff: the lead contact's open proposals for this work order, accept or decline."""
    work_order = editable_work_order(request, pk)
    if request.method == "POST":
        proposal = get_object_or_404(
            ContactChangeRequest.objects.visible_to(request.user).filter(work_order=work_order),
            pk=request.POST.get("proposal"),
        )
        try:
            services.contact_change_decide(
                request=proposal, accept=request.POST.get("decision") == "accept", by=request.user
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The proposal was decided."))
        return redirect("contracts:contact_proposals", pk=work_order.pk)
    proposals = ContactChangeRequest.objects.visible_to(request.user).filter(work_order=work_order)
    return render(
        request,
        "contracts/contact_proposals.html",
        {"nav_section": "work_orders", "work_order": work_order, "proposals": proposals},
    )


@editor_writes
def contact_propose(request, pk):
    """The customer's lead contact proposes a new contact or a change (R25)."""
    work_order = get_object_or_404(WorkOrder.objects.visible_to(request.user), pk=pk)
    form = ContactProposalForm(request.POST or None, work_order=work_order)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        proposed = {k: data[k] for k in ("name", "email", "phone") if data[k]}
        if data["deactivate"]:
            proposed["active"] = False
        with errors_onto(form):
            services.contact_change_propose(
                work_order=work_order,
                contact=data["contact"],
                proposed=proposed,
                note=data["note"],
                by=request.user,
            )
            messages.success(request, _("Your proposal was sent to your account manager."))
            return redirect("work_order_overview", pk=work_order.pk)
    return form_page(
        request,
        title=_("Propose a change to the named contacts"),
        form=form,
        back=reverse("work_order_overview", args=[work_order.pk]),
        submit=_("Send the proposal"),
        work_order=work_order,
    )


# --- renewal and extension (R14) ------------------------------------------------------------


@staff_editor_required
def work_order_renew(request, pk):
    work_order = editable_work_order(request, pk)
    import datetime as dt

    start = work_order.end_date + dt.timedelta(days=1)
    initial = {
        "number": f"{work_order.number}-R2",
        "start_date": start,
        "end_date": start + (work_order.end_date - work_order.start_date),
    }
    form = RenewForm(request.POST or None, work_order=work_order, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with errors_onto(form):
            new = services.work_order_renew(
                work_order=work_order,
                number=data["number"],
                start_date=data["start_date"],
                end_date=data["end_date"],
                quantities=form.quantities(),
                by=request.user,
            )
            messages.success(
                request,
                _(
                    "Work order %(new)s continues %(old)s from %(start)s; the unused credits and "
                    "hours of %(old)s expire at its end."
                )
                % {"new": new.number, "old": work_order.number, "start": new.start_date},
            )
            return redirect("contracts:work_order_edit", pk=new.pk)
    contacts = work_order.contacts.filter(active=True).count()
    return form_page(
        request,
        title=_("Renew %(number)s") % {"number": work_order.number},
        form=form,
        back=work_order_edit_url(work_order),
        submit=_("Renew"),
        work_order=work_order,
        extra={
            "facts": [
                (_("Contacts copied"), contacts),
                (_("Support location"), work_order.support_location or "—"),
                (_("Old term's unused entitlements"), _("expire at its end (not carried over)")),
            ]
        },
    )


# --- confirmations of destructive actions ----------------------------------------------------


@staff_editor_required
def line_remove_confirm(request, pk):
    line = get_object_or_404(
        WorkOrderLine.objects.visible_to(request.user).select_related("work_order", "service"),
        pk=pk,
    )
    facts = [
        (
            _("Line"),
            f"{line.service.name}: {plain_decimal(line.quantity)} {line.service.get_unit_display()}",
        ),
        (_("Used"), plain_decimal(line.used)),
    ]
    if line.service.code == PROACTIVE_CREDITS:
        facts.append((_("Credits taken back"), int(line.quantity)))
    return confirm_page(
        request,
        title=_("Remove %(service)s") % {"service": line.service.name},
        facts=facts,
        action=reverse("contracts:line_remove", args=[line.pk]),
        back=f"{work_order_edit_url(line.work_order)}#lines",
        submit=_("Remove the line"),
    )
