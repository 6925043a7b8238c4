"""Web pages of the incidents app: the queue (staff) or "my incidents" (customers),
filing with a live preview of the response target, and the incident page with its
timeline and actions. Reads through incidents.selectors (scoped); writes through
incidents.services."""

import zoneinfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.permissions import can_act_for_customer, can_edit, editor_writes, is_staff
from contracts.models import NamedContact, WorkOrder
from contracts.views import put_error
from core import formatting
from core.errors import DomainError, StaleVersion
from incidents import selectors, services
from incidents.choices import (
    DEFAULT_LANGUAGE,
    RSM_ON_REQUEST_PACKAGES,
    TRANSITIONS,
    EventKind,
    IncidentStatus,
    Severity,
)
from incidents.forms import (
    CommentForm,
    IncidentForm,
    OnsiteForm,
    ProductTeamForm,
    RsmForm,
    SeverityForm,
    StatusForm,
)
from incidents.models import Incident
from services.choices import Package

PAGE_SIZE = 25


def viewer_zone(user) -> str:
    """The zone to show times in: the user's preference, else their customer's, else the site's."""
    if getattr(user, "time_zone", ""):
        return user.time_zone
    customer = getattr(user, "customer", None)
    if customer is not None and customer.timezone:
        return customer.timezone
    return timezone.get_current_timezone_name()


def _filing_work_orders(user):
    # Current on each work order's own today (contracts.times).
    work_orders = WorkOrder.objects.visible_to(user).current().select_related("customer")
    if not is_staff(user):
        # R2: named contacts file incidents; a customer user files through their contact rows.
        work_orders = work_orders.filter(contacts__user=user, contacts__active=True).distinct()
    return work_orders.order_by("number")


@editor_writes
def incident_create(request):
    staff = is_staff(request.user)
    work_orders = _filing_work_orders(request.user)
    initial = {}
    if request.GET.get("work_order"):
        initial["work_order"] = request.GET["work_order"]
    elif not staff and len(work_orders) == 1:
        initial["work_order"] = work_orders[0].pk
    form = IncidentForm(
        request.POST or None,
        request.FILES or None,
        work_orders=work_orders,
        staff=staff,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        work_order = data["work_order"]
        contact = data.get("contact") if staff else _own_contact(request.user, work_order)
        if contact is None:
            form.add_error(
                "work_order", _("You are not an active named contact of this work order (R2).")
            )
        else:
            try:
                incident = services.incident_open(
                    work_order=work_order,
                    contact=contact,
                    title=data["title"],
                    severity=data["severity"],
                    description=data["description"],
                    product=data["product"],
                    is_cloud=data["is_cloud"],
                    around_the_clock=data["around_the_clock"],
                    is_advisory=data.get("is_advisory", False),
                    language=data["language"],
                    channel="phone" if staff else "web",
                    by=request.user,
                )
            except DomainError as exc:
                put_error(form, exc)
            else:
                for upload in data.get("files") or []:
                    services.incident_attach(incident=incident, file=upload, by=request.user)
                messages.success(
                    request,
                    _("Incident %(number)s was filed. The first response is due %(due)s.")
                    % {
                        "number": incident.number,
                        "due": formatting.fmt_date(
                            timezone.localtime(
                                incident.response_due_at,
                                zoneinfo.ZoneInfo(viewer_zone(request.user)),
                            ).replace(tzinfo=None),
                            "moment",
                        ),
                    },
                )
                return redirect("incidents:detail", pk=incident.pk)
    preview = _preview_for(request, form.data if form.is_bound else {**initial}, work_orders)
    return render(
        request,
        "incidents/incident_form.html",
        {
            "nav_section": "file_incident" if not staff else "incidents",
            "form": form,
            "preview": preview,
            "zone": viewer_zone(request.user),
            "no_work_orders": not work_orders.exists(),
        },
    )


def _own_contact(user, work_order):
    return NamedContact.objects.filter(work_order=work_order, user=user, active=True).first()


def _preview_for(request, data, work_orders):
    """The target that would apply if filed now (incident_preview_target), or None."""
    pk = data.get("work_order")
    if not pk:
        return None
    try:
        work_order = work_orders.get(pk=pk)
    except (WorkOrder.DoesNotExist, ValueError):
        return None
    severity = data.get("severity") or Severity.NORMAL
    if severity not in Severity.values:
        severity = Severity.NORMAL
    truthy = {"on", "true", "1", "True"}
    language = data.get("language") or DEFAULT_LANGUAGE
    if language not in dict(settings.LANGUAGES):
        language = DEFAULT_LANGUAGE
    try:
        return selectors.incident_preview_target(
            work_order=work_order,
            severity=severity,
            is_cloud=data.get("is_cloud") in truthy,
            around_the_clock=data.get("around_the_clock") in truthy,
            product=data.get("product", "") or "",
            language=language,
            opened_at=timezone.now(),
        )
    except DomainError as exc:
        return {"error": exc.message}


@login_required
def incident_preview(request):
    """htmx: the preview panel of the filing form (which target, when due, and why)."""
    preview = _preview_for(request, request.GET, _filing_work_orders(request.user))
    return render(
        request, "incidents/_preview.html", {"preview": preview, "zone": viewer_zone(request.user)}
    )


def incident_or_404(request, pk) -> Incident:
    try:
        return selectors.incident_detail(actor=request.user, pk=pk)
    except Incident.DoesNotExist as exc:
        raise Http404 from exc


def incident_or_403(request, pk, may) -> Incident:
    """The incident an action is posted to: through the one door (another customer's is a
    404), then `may(user)` or 403."""
    incident = incident_or_404(request, pk)
    if not may(request.user):
        raise PermissionDenied
    return incident


def _statuses_to_offer(incident) -> frozenset:
    """Where the status form may move the incident: 'responded' comes from the first
    response (R4), never from the form."""
    return TRANSITIONS.get(incident.status, frozenset()) - {IncidentStatus.RESPONDED}


def _detail_context(request, incident, **forms):
    staff = is_staff(request.user)
    allowed = _statuses_to_offer(incident)
    try:
        explanation = selectors.incident_explain(incident)
    except DomainError:
        explanation = None
    context = {
        "nav_section": "incidents",
        "incident": incident,
        "timeline": incident.timeline,
        "explain": explanation,
        "staff": staff,
        "can_edit": can_edit(request.user),
        "can_act": can_act_for_customer(request.user),
        "severity_form": SeverityForm(
            initial={
                "severity": Severity.NORMAL
                if incident.severity == Severity.CRITICAL
                else Severity.CRITICAL
            }
        ),
        "status_form": StatusForm(allowed=allowed, initial={"version": incident.version}),
        **_escalation_offers(incident),
        "onsite_form": OnsiteForm(),
        "product_team_form": ProductTeamForm(),
        "rsm_form": RsmForm(),
        "zone": viewer_zone(request.user),
        "now": timezone.now(),
    }
    from incidents.desk_actions import desk_context

    context.update(desk_context(request, incident))
    context.update(forms)
    for form_name, offer in (
        ("onsite_form", "offer_onsite"),
        ("product_team_form", "offer_product_team"),
        ("rsm_form", "offer_rsm"),
    ):
        if form_name in forms:
            context[offer] = True  # a refused request shows its form with the error
    return context


def _escalation_offers(incident) -> dict:
    """Which R7/R8 requests the page offers (the services check every rule again)."""
    kinds = {e.kind for e in incident.timeline}
    open_ = incident.is_open
    performance_critical = (
        open_
        and incident.work_order.package == Package.PERFORMANCE
        and incident.severity == Severity.CRITICAL
    )
    return {
        "offer_onsite": performance_critical and EventKind.ONSITE_REQUEST not in kinds,
        "offer_product_team": performance_critical,
        "offer_rsm": open_
        and incident.work_order.package in RSM_ON_REQUEST_PACKAGES
        and EventKind.RSM_REQUEST not in kinds,
    }


@login_required
def incident_detail(request, pk):
    incident = incident_or_404(request, pk)
    return render(request, "incidents/incident_detail.html", _detail_context(request, incident))


def _after(request, incident, form_name, form, action, success):
    """Run a service call; on a domain error re-render the page with the form and its error."""
    try:
        action()
    except StaleVersion:
        form.add_error(
            None,
            _(
                "The incident was changed by someone else meanwhile; check its status and try again."
            ),
        )
    except PermissionDenied:  # core.errors.NotAllowed too: 403, not a form error
        raise
    except DomainError as exc:
        put_error(form, exc)
    else:
        messages.success(request, success)
        return redirect("incidents:detail", pk=incident.pk)
    return detail_with_form_errors(request, incident_or_404(request, incident.pk), form_name, form)


def submit_incident_form(request, incident, form_name, form, call, success):
    """A posted incident form: invalid, the page again with its errors; valid, the service
    call `call(cleaned_data)` through _after."""
    if not form.is_valid():
        return detail_with_form_errors(request, incident, form_name, form)
    return _after(request, incident, form_name, form, lambda: call(form.cleaned_data), success)


def incident_form_action(*, form_name, form_class, may, call, success, doc=""):
    """A POST view of the incident page that runs one service with one form's data: the
    incident through the one door, `may(user)` or 403, then submit_incident_form with
    `call(request, incident, data)` and the `success` message (lazy: rendered per request)."""

    @editor_writes
    @require_POST
    def view(request, pk):
        incident = incident_or_403(request, pk, may)
        return submit_incident_form(
            request,
            incident,
            form_name,
            form_class(request.POST, request.FILES),
            lambda data: call(request, incident, data),
            success,
        )

    view.__doc__ = doc
    return view


def detail_with_form_errors(request, incident, form_name, form):
    """The incident page again (400), with `form` in place of its blank one, errors shown."""
    return render(
        request,
        "incidents/incident_detail.html",
        _detail_context(request, incident, **{form_name: form}),
        status=400,
    )


@editor_writes
@require_POST
def incident_severity(request, pk):
    """Staff change the severity (recomputes the target, R3); customers ask for a change."""
    incident = incident_or_404(request, pk)
    form = SeverityForm(request.POST)
    if not form.is_valid():
        return detail_with_form_errors(request, incident, "severity_form", form)
    data = form.cleaned_data
    if is_staff(request.user):
        success = _("The severity was changed and the deadline recomputed (R3).")
        action = lambda: services.incident_change_severity(  # noqa: E731
            incident=incident, severity=data["severity"], reason=data["reason"], by=request.user
        )
    else:
        success = _("Your request to change the severity was sent to support (R3).")
        action = lambda: services.incident_request_severity_change(  # noqa: E731
            incident=incident, severity=data["severity"], reason=data["reason"], by=request.user
        )
    return _after(request, incident, "severity_form", form, action, success)


@editor_writes
@require_POST
def incident_status(request, pk):
    incident = incident_or_403(request, pk, can_edit)
    allowed = _statuses_to_offer(incident)
    form = StatusForm(request.POST, allowed=allowed)
    if not form.is_valid():
        return detail_with_form_errors(request, incident, "status_form", form)
    return _after(
        request,
        incident,
        "status_form",
        form,
        lambda: services.incident_set_status(
            incident=incident,
            status=form.cleaned_data["status"],
            by=request.user,
            expected_version=form.cleaned_data.get("version"),
        ),
        _("The status was changed."),
    )


@editor_writes
@require_POST
def incident_respond(request, pk):
    incident = incident_or_403(request, pk, can_edit)
    form = CommentForm()
    return _after(
        request,
        incident,
        "comment_form",
        form,
        lambda: services.incident_respond(incident=incident, by=request.user),
        _("The first response was recorded."),
    )


incident_request_onsite = incident_form_action(
    doc="R7: staff record onsite resources agreed with the customer (Performance critical).",
    form_name="onsite_form",
    form_class=OnsiteForm,
    may=can_edit,
    call=lambda request, incident, data: services.incident_request_onsite(
        incident=incident, agreed_by=data["agreed_by"], note=data["note"], by=request.user
    ),
    success=gettext_lazy("The onsite request was recorded (R7)."),
)

incident_escalate_to_product_team = incident_form_action(
    doc="R7: staff record a rapid escalation to a product team (Performance critical).",
    form_name="product_team_form",
    form_class=ProductTeamForm,
    may=can_edit,
    call=lambda request, incident, data: services.incident_escalate_to_product_team(
        incident=incident, team=data["team"], note=data["note"], by=request.user
    ),
    success=gettext_lazy("The escalation to the product team was recorded (R7)."),
)

incident_request_rsm = incident_form_action(
    doc="R8: the customer (or staff for them) requests Reactive Support Management (Core).",
    form_name="rsm_form",
    form_class=RsmForm,
    may=can_act_for_customer,
    call=lambda request, incident, data: services.incident_request_rsm(
        incident=incident, reason=data["reason"], by=request.user
    ),
    success=gettext_lazy(
        "Reactive Support Management was requested; the account manager will follow up in business hours (R8)."
    ),
)
