"""The work-order editor: header and term (optimistic locking), lines, named contacts (R1),
support location with a calendar preview, termination. Every write calls contracts.services."""

import datetime as dt

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import can_edit, staff_editor_required, staff_required
from contracts import services
from contracts.choices import DEFAULT_CONTACT_LIMITS
from contracts.forms import (
    ClosureDayForm,
    ContactForm,
    LineForm,
    LineQuantityForm,
    SupportLocationForm,
    WorkOrderForm,
)
from contracts.models import NamedContact, SupportLocation, WorkOrder, WorkOrderLine
from contracts.views.common import editable_work_order, put_error, work_order_edit_url
from core import formatting
from core.errors import DomainError, StaleVersion
from core.forms import errors_onto
from core.history import history_actor
from services.choices import Availability, Package
from services.models import Service


def _header_initial(work_order: WorkOrder) -> dict:
    return {
        "number": work_order.number,
        "package": work_order.package,
        "start_date": work_order.start_date,
        "end_date": work_order.end_date,
        "support_location": work_order.support_location_id,
        "account_manager": work_order.account_manager_id,
        "named_contact_limit": work_order.named_contact_limit,
        "cancellation_fee_percent": work_order.cancellation_fee_percent,
        "low_credit_threshold": work_order.low_credit_threshold,
        "deployment_docs_on_file": work_order.deployment_docs_on_file,
        "cloud_subscription_active": work_order.cloud_subscription_active,
        "products": work_order.products,
        "notes": work_order.notes,
        "version": work_order.version,
    }


def calendar_preview(location: SupportLocation | None, days: int = 14) -> dict:
    """The location's next openings and closed days, in its own time zone (R5)."""
    if location is None:
        return {}
    import zoneinfo

    tz = zoneinfo.ZoneInfo(location.timezone)
    now = timezone.now()
    try:
        calendar = location.calendar()
        openings = calendar.openings(now, now + dt.timedelta(days=days))[:7]
        is_open = calendar.is_open(now)
    except ValueError:  # a calendar with no opening hours at all (contracts.clock.CalendarError)
        openings, is_open = [], False
    today = now.astimezone(tz).date()
    closures = list(location.closure_days.filter(date__gte=today).order_by("date")[:8])
    return {
        "location": location,
        "openings": [(o.start.astimezone(tz), o.end.astimezone(tz)) for o in openings],
        "closures": closures,
        "is_open": is_open,
        "local_now": now.astimezone(tz),
    }


def _catalogue_rows(package: str):
    """Every service with its availability per package, the work order's own first."""
    rows = []
    for service in Service.objects.order_by("category", "name"):
        rows.append(
            {
                "service": service,
                "here": service.availability_for(package),
                "core": service.availability_core,
                "advanced": service.availability_advanced,
                "performance": service.availability_performance,
            }
        )
    return rows


def editor_context(
    request, work_order, *, header_form=None, line_form=None, contact_form=None, location_form=None
):
    lines = list(
        work_order.lines.select_related("service", "override_by").order_by("service__name")
    )
    contacts = list(
        NamedContact.objects.visible_to(request.user).filter(work_order=work_order).order_by("name")
    )
    active_contacts = sum(1 for c in contacts if c.active)
    limit = work_order.named_contact_limit
    location = work_order.support_location
    if header_form is None:
        header_form = WorkOrderForm(
            initial=_header_initial(work_order), customer=work_order.customer
        )
    if line_form is None:
        line_form = LineForm(package=work_order.package, prefix="line")
    if contact_form is None:
        contact_form = ContactForm(prefix="contact", initial={"active": True})
    if location_form is None and location is not None:
        location_form = SupportLocationForm(
            prefix="loc",
            initial={
                "name": location.name,
                "country": location.country,
                "subdivision": location.subdivision,
                "timezone": location.timezone,
                **SupportLocationForm.hours_initial(location),
            },
        )
    return {
        "nav_section": "work_orders",
        "work_order": work_order,
        "header_form": header_form,
        "line_form": line_form,
        "contact_form": contact_form,
        "location_form": location_form,
        "closure_form": ClosureDayForm(prefix="closure"),
        "lines": lines,
        "contacts": contacts,
        "active_contacts": active_contacts,
        "contact_limit": limit,
        "contact_limit_reached": limit is not None and active_contacts >= limit,
        "default_limits": DEFAULT_CONTACT_LIMITS,
        "catalogue": _catalogue_rows(work_order.package),
        "calendar": calendar_preview(location),
        "can_edit": can_edit(request.user),
        "packages": Package,
        "availability": Availability,
    }


@staff_required
def work_order_edit(request, pk):
    """The editor. POST saves the header with the version it was read at (stale: refused)."""
    work_order = editable_work_order(request, pk)
    if request.method == "POST":
        form = WorkOrderForm(request.POST, customer=work_order.customer)
        if form.is_valid():
            fields = form.service_kwargs()
            if (
                fields["package"] != work_order.package
                and fields["named_contact_limit"] == work_order.named_contact_limit
            ):
                # A new package brings its own default limit (R1) unless the limit was edited too.
                fields.pop("named_contact_limit")
            try:
                services.work_order_update(
                    work_order=work_order,
                    expected_version=form.cleaned_data.get("version"),
                    by=request.user,
                    **fields,
                )
            except StaleVersion:
                current = WorkOrder.objects.get(pk=work_order.pk)
                last = current.history.select_related("history_user").first()
                who = history_actor(last) if last is not None else ""
                form.add_error(
                    None,
                    _(
                        "%(who)s changed this work order while you were editing it, so your changes were not "
                        "saved. Your input is kept below: check the current values (reload in a new tab) and "
                        "save again."
                    )
                    % {"who": who or _("Someone")},
                )
                messages.error(
                    request, _("Not saved: the work order was changed by someone else meanwhile.")
                )
                return render(
                    request,
                    "contracts/work_order_edit.html",
                    editor_context(request, work_order, header_form=form),
                    status=409,
                )
            except DomainError as exc:
                put_error(form, exc)
            else:
                messages.success(
                    request, _("Work order %(number)s was saved.") % {"number": work_order.number}
                )
                return redirect("contracts:work_order_edit", pk=work_order.pk)
        return render(
            request,
            "contracts/work_order_edit.html",
            editor_context(request, work_order, header_form=form),
        )
    return render(request, "contracts/work_order_edit.html", editor_context(request, work_order))


@staff_editor_required
@require_POST
def line_add(request, pk):
    work_order = editable_work_order(request, pk)
    form = LineForm(request.POST, package=work_order.package, prefix="line")
    if form.is_valid():
        data = form.cleaned_data
        with errors_onto(form):
            line = services.work_order_line_add(
                work_order=work_order,
                service=data["service"],
                quantity=data["quantity"],
                bounds_override=data["bounds_override"],
                override_reason=data["override_reason"],
                by=request.user,
            )
            messages.success(request, _("%(service)s was added.") % {"service": line.service.name})
            return redirect(f"{work_order_edit_url(work_order)}#lines")
    return render(
        request,
        "contracts/work_order_edit.html",
        editor_context(request, work_order, line_form=form),
    )


@staff_editor_required
@require_POST
def line_update(request, pk):
    line = get_object_or_404(
        WorkOrderLine.objects.visible_to(request.user).select_related("work_order", "service"),
        pk=pk,
    )
    form = LineQuantityForm(request.POST)
    if form.is_valid():
        try:
            services.work_order_line_update(
                line=line, quantity=form.cleaned_data["quantity"], by=request.user
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("%(service)s now has %(quantity)s.")
                % {
                    "service": line.service.name,
                    "quantity": formatting.quantity(form.cleaned_data["quantity"], line.unit),
                },
            )
    else:
        messages.error(request, _("Enter a quantity above zero."))
    return redirect(f"{work_order_edit_url(line.work_order)}#lines")


@staff_editor_required
@require_POST
def line_remove(request, pk):
    line = get_object_or_404(
        WorkOrderLine.objects.visible_to(request.user).select_related("work_order", "service"),
        pk=pk,
    )
    if request.POST.get("confirmed") != "yes":
        # Never at one click: the confirmation says what the removal does, in numbers.
        return redirect("contracts:line_remove_confirm", pk=line.pk)
    try:
        services.work_order_line_remove(line=line, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("%(service)s was removed.") % {"service": line.service.name})
    return redirect(f"{work_order_edit_url(line.work_order)}#lines")


@staff_editor_required
@require_POST
def contact_add(request, pk):
    work_order = editable_work_order(request, pk)
    form = ContactForm(request.POST, prefix="contact")
    if form.is_valid():
        data = form.cleaned_data
        try:
            contact = services.named_contact_add(
                work_order=work_order,
                name=data["name"],
                email=data["email"],
                phone=data["phone"],
                active=data["active"],
                is_lead=data["is_lead"],
                by=request.user,
            )
        except DomainError as exc:
            if exc.rule == "R1":
                form.add_error(None, _limit_explanation(work_order))
            put_error(form, exc)
        else:
            messages.success(
                request, _("%(name)s is now a named contact.") % {"name": contact.name}
            )
            return redirect(f"{work_order_edit_url(work_order)}#contacts")
    return render(
        request,
        "contracts/work_order_edit.html",
        editor_context(request, work_order, contact_form=form),
    )


def _limit_explanation(work_order: WorkOrder) -> str:
    """Why the contact limit stops here, in the reader's language (R1)."""
    if work_order.package == Package.CORE:
        return _(
            "The contact limit is reached: the Core package allows at most 10 named contacts (R1)."
        )
    if work_order.package == Package.ADVANCED:
        return _(
            "The contact limit of %(limit)s is reached: Advanced allows at least 50 named contacts, and an "
            "account manager may raise the limit in the header (R1)."
        ) % {"limit": work_order.named_contact_limit}
    return _("The contact limit of %(limit)s is reached (R1).") % {
        "limit": work_order.named_contact_limit
    }


@staff_editor_required
def contact_edit(request, pk):
    contact = get_object_or_404(
        NamedContact.objects.visible_to(request.user).select_related("work_order"), pk=pk
    )
    initial = {
        f: getattr(contact, f) for f in ("name", "email", "phone", "active", "is_lead", "version")
    }
    form = ContactForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version")
        try:
            services.named_contact_update(
                contact=contact, expected_version=version, by=request.user, **data
            )
        except StaleVersion:
            form.add_error(
                None,
                _(
                    "This contact was changed by someone else meanwhile; your input is kept. Check and save again."
                ),
            )
        except DomainError as exc:
            put_error(form, exc)
        else:
            messages.success(request, _("%(name)s was saved.") % {"name": data["name"]})
            return redirect(f"{work_order_edit_url(contact.work_order)}#contacts")
    return render(
        request,
        "contracts/contact_form.html",
        {
            "nav_section": "work_orders",
            "form": form,
            "contact": contact,
            "work_order": contact.work_order,
        },
    )


@staff_editor_required
@require_POST
def work_order_terminate(request, pk):
    work_order = editable_work_order(request, pk)
    if request.POST.get("confirmed") != "yes":
        # Never at one click: the confirmation says what terminating does, in numbers.
        return redirect("credits:terminate_confirm", pk=work_order.pk)
    try:
        services.work_order_terminate(work_order=work_order, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("Work order %(number)s was terminated.") % {"number": work_order.number}
        )
    return redirect("contracts:work_order_edit", pk=work_order.pk)


# --- support location ------------------------------------------------------------------


@staff_editor_required
@require_POST
def location_update(request, pk):
    work_order = editable_work_order(request, pk)
    location = work_order.support_location
    if location is None:
        messages.error(request, _("This work order has no support location."))
        return redirect("contracts:work_order_edit", pk=pk)
    form = SupportLocationForm(request.POST, prefix="loc")
    if form.is_valid():
        with errors_onto(form):
            services.support_location_update(
                location=location, by=request.user, **form.service_kwargs()
            )
            messages.success(
                request, _("The support location was saved; open incidents follow its new hours.")
            )
            return redirect(f"{work_order_edit_url(work_order)}#location")
    return render(
        request,
        "contracts/work_order_edit.html",
        editor_context(request, work_order, location_form=form),
    )


@staff_editor_required
@require_POST
def closure_set(request, pk):
    work_order = editable_work_order(request, pk)
    form = ClosureDayForm(request.POST, prefix="closure")
    if work_order.support_location is not None and form.is_valid():
        try:
            services.closure_day_set(
                location=work_order.support_location, by=request.user, **form.cleaned_data
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The calendar was updated."))
    else:
        messages.error(request, _("Enter a valid date."))
    return redirect(f"{work_order_edit_url(work_order)}#location")


@staff_required
def location_preview(request, pk):
    """htmx: the calendar preview of a work order's location, refreshed in place."""
    work_order = editable_work_order(request, pk)
    return render(
        request,
        "contracts/_calendar_preview.html",
        {"calendar": calendar_preview(work_order.support_location)},
    )
