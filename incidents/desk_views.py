"""The incident desk's queue (issue #17): the triage queue (sort, filters in the URL,
saved views, bulk actions with confirmation, CSV of exactly what it shows, a live
change marker) and the satisfaction ratings. The incident page's actions are in
incidents/desk_actions.py. Reads through incidents.selectors (the one door); writes
through incidents.services."""

from __future__ import annotations

import csv
import hashlib

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.permissions import can_edit, editor_writes, is_staff
from core.errors import DomainError
from core.pagination import CappedPaginator, count_cap_for
from incidents import selectors, services
from incidents.choices import OPEN_STATUSES, IncidentStatus, SeverityRequestState
from incidents.display import sla_label, sla_state
from incidents.filtersets import IncidentFilterSet
from incidents.forms import (
    BulkForm,
    SaveViewForm,
)
from incidents.models import SavedQueueView, SeverityRequest

PAGE_SIZE = 25

#: The queue's sortable columns: ?sort=<key> or ?sort=-<key>.
SORTS = {
    "number": ("number",),
    "customer": ("customer__name", "number"),
    "severity": ("severity", "number"),
    "status": ("status", "number"),
    "due": ("response_due_at", "number"),
    "assignee": ("assignee__username", "number"),
    "opened": ("opened_at", "number"),
    "requests": ("open_requests", "number"),
}


# --- the queue ---------------------------------------------------------------------


def _queue(request):
    """The filtered, sorted queue the page, its CSV and its live marker all show."""
    params = request.GET.copy()
    for name in ("page", "format", "sort"):
        params.pop(name, None)
    if "status" not in params and not params.get("all"):
        # The queue shows open incidents unless asked otherwise.
        params.setlist("status", list(OPEN_STATUSES))
    queryset = selectors.incident_list(actor=request.user).select_related("assignee")
    filterset = IncidentFilterSet(params, queryset=queryset)
    # A correlated count, not JOIN + GROUP BY: evaluated for the page's rows only, so the
    # queue's order stays an index range (issue #20).
    incidents = filterset.qs.annotate(
        open_requests=Coalesce(
            Subquery(
                SeverityRequest.objects.filter(
                    incident=OuterRef("pk"), state=SeverityRequestState.OPEN
                )
                .order_by()
                .values("incident")
                .annotate(n=Count("id"))
                .values("n")[:1]
            ),
            0,
        )
    )
    sort = request.GET.get("sort", "")
    key = sort.lstrip("-")
    statuses = set(params.getlist("status"))
    if key in SORTS:
        fields = SORTS[key]
        prefix = "-" if sort.startswith("-") else ""
        incidents = incidents.order_by(*(prefix + f for f in fields))
    elif statuses and statuses <= set(OPEN_STATUSES):
        sort = ""
        # The queue: unanswered first, by due time; then the rest, newest first. The
        # partial index incident_queue_idx holds exactly this order for open incidents,
        # so a page reads its own rows (issue #20).
        incidents = selectors.queue_order(incidents)
    else:
        sort = ""
        # Lists that reach closed incidents (millions): newest first, on
        # incident_list_opened_idx; sorting them by deadline would read them all (#20).
        incidents = incidents.order_by("-opened_at", "-id")
    return filterset, incidents, sort


def _label_form(form, staff):
    labels = {
        "status": _("Status"),
        "severity": _("Severity"),
        "breached": _("Breached"),
        "customer": _("Customer code"),
        "q": _("Search"),
        "assignee": _("Assignee (username)"),
        "unassigned": _("Unassigned"),
        "severity_requested": _("Severity change requested"),
    }
    for name, label in labels.items():
        if name in form.fields:
            form.fields[name].label = label
    for name in ("work_order", "external_reference", "opened_after", "opened_before"):
        form.fields.pop(name, None)
    form.fields["status"].widget = forms.CheckboxSelectMultiple(
        choices=form.fields["status"].choices
    )
    # Not Django's "Unknown/Yes/No": an unset filter means any incident (issue #19).
    form.fields["breached"].widget = forms.Select(
        choices=[("", _("Any")), ("true", _("Breached only")), ("false", _("Not breached"))]
    )
    for field in form.fields.values():
        if isinstance(field.widget, forms.NullBooleanSelect):
            field.widget = forms.Select(
                choices=[("", _("Any")), ("true", _("Yes")), ("false", _("No"))]
            )
    if not staff:
        for name in ("customer", "assignee", "unassigned", "severity_requested"):
            form.fields.pop(name, None)
    # The queryset was filtered already (every filter in the URL still applies); its
    # bound fields were built then, with the default labels: build them again.
    form._bound_fields_cache.clear()


def _sort_links(request, sort):
    """For each column: the URL that sorts by it (toggling the direction) and its state."""
    links = {}
    for key in SORTS:
        params = request.GET.copy()
        params.pop("page", None)
        params["sort"] = "-" + key if sort == key else key
        state = "asc" if sort == key else "desc" if sort == "-" + key else ""
        links[key] = {"url": "?" + params.urlencode(), "state": state}
    return links


@login_required
def incident_list(request):
    """Staff: the triage queue. Customers: their incidents (same filters, no triage)."""
    staff = is_staff(request.user)
    filterset, incidents, sort = _queue(request)
    if request.GET.get("format") == "csv":
        return _queue_csv(incidents, staff)
    _label_form(filterset.form, staff)
    page_obj = CappedPaginator(incidents, PAGE_SIZE, cap=count_cap_for(request.GET)).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    csv_query = query.copy()
    csv_query["format"] = "csv"
    me = {"assignee": request.user.username}
    return render(
        request,
        "incidents/incident_list.html",
        {
            "nav_section": "incidents",
            "filterset": filterset,
            "page_obj": page_obj,
            "incidents": page_obj.object_list,
            "staff": staff,
            "can_edit": can_edit(request.user),
            "now": timezone.now(),
            "sort": sort,
            "sorts": _sort_links(request, sort),
            "query": query.urlencode(),
            "csv_url": "?" + csv_query.urlencode(),
            "mine_url": "?" + _urlencode(me),
            "unassigned_url": "?" + _urlencode({"unassigned": "true"}),
            "requests_url": "?" + _urlencode({"severity_requested": "true"}),
            "saved_views": SavedQueueView.objects.filter(user=request.user) if staff else [],
            "save_form": SaveViewForm(initial={"query": query.urlencode()}),
            "bulk_form": BulkForm(incidents=incidents) if can_edit(request.user) else None,
            "marker": _queue_marker_value(incidents),
            "marker_url": reverse("incidents:queue_marker") + "?" + query.urlencode(),
            "poll_seconds": settings.LIVE_POLL_SECONDS,
        },
    )


def _urlencode(data: dict) -> str:
    from urllib.parse import urlencode

    return urlencode(data)


def _queue_columns(staff):
    cols = [_("Incident"), _("Title")]
    if staff:
        cols += [_("Customer"), _("Work order"), _("Assignee")]
    cols += [
        _("Severity"),
        _("Status"),
        _("Opened"),
        _("First response due"),
        _("Responded"),
        _("SLA"),
    ]
    if staff:
        cols.append(_("Severity change requested"))
    return cols


def _queue_csv(incidents, staff) -> HttpResponse:
    """Exactly what the queue shows (its filters and sort), every page, as CSV."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="incident-queue.csv"'
    writer = csv.writer(response)
    writer.writerow(_queue_columns(staff))
    zone = timezone.get_current_timezone()
    for inc in incidents:
        row = [inc.number, _csv_safe(inc.title)]
        if staff:
            row += [
                _csv_safe(inc.work_order.customer.name),
                inc.work_order.number,
                inc.assignee.username if inc.assignee_id else "",
            ]
        row += [
            inc.get_severity_display(),
            inc.get_status_display(),
            timezone.localtime(inc.opened_at, zone).strftime("%Y-%m-%d %H:%M"),
            timezone.localtime(inc.response_due_at, zone).strftime("%Y-%m-%d %H:%M"),
            timezone.localtime(inc.responded_at, zone).strftime("%Y-%m-%d %H:%M")
            if inc.responded_at
            else "",
            sla_label(sla_state(inc)),
        ]
        if staff:
            row.append(_("yes") if inc.open_requests else "")
        writer.writerow([str(v) for v in row])
    return response


def _csv_safe(value: str) -> str:
    """No formula injection when the CSV is opened in a spreadsheet."""
    text = str(value or "")
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


#: The live queue's change marker covers the first rows in the order shown: what the
#: first pages show, read as an index range. An aggregate over every incident the list
#: reaches cost 4 s at three million incidents (issue #20).
MARKER_ROWS = 200


def _queue_marker_value(incidents) -> str:
    rows = incidents.values_list("pk", "updated_at", "version")[:MARKER_ROWS]
    raw = "|".join(f"{pk}:{updated.isoformat()}:{version}" for pk, updated, version in rows)
    return hashlib.sha1(raw.encode()).hexdigest()[:16]


@require_GET
@login_required
def queue_marker(request):
    """The live queue asks this every few seconds: a change marker of what it shows."""
    _filterset, incidents, _sort = _queue(request)
    return JsonResponse({"marker": _queue_marker_value(incidents)})


@login_required
@require_POST
def saved_view_save(request):
    if not is_staff(request.user):
        raise PermissionDenied
    form = SaveViewForm(request.POST)
    if form.is_valid():
        try:
            view = services.saved_queue_view_save(
                user=request.user, name=form.cleaned_data["name"], query=form.cleaned_data["query"]
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The view “%(name)s” was saved.") % {"name": view.name})
            return redirect(reverse("incidents:list") + "?" + view.query)
    else:
        messages.error(request, _("Name the view."))
    return redirect("incidents:list")


@login_required
@require_POST
def saved_view_delete(request, pk):
    view = SavedQueueView.objects.filter(user=request.user, pk=pk).first()
    if view is None:
        raise Http404
    services.saved_queue_view_delete(view=view, user=request.user)
    messages.success(request, _("The view “%(name)s” was deleted.") % {"name": view.name})
    return redirect("incidents:list")


@editor_writes
@require_POST
def queue_bulk(request):
    """Bulk assign / status: the first POST shows a confirmation page listing what will
    change; the confirmed POST does it (each incident through the services)."""
    if not can_edit(request.user):
        raise PermissionDenied
    visible = selectors.incident_list(actor=request.user)
    form = BulkForm(request.POST, incidents=visible)
    back = request.POST.get("next") or reverse("incidents:list")
    # A path on this site only: redirect() would try any other string as a view name.
    if not back.startswith("/") or not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}
    ):
        back = reverse("incidents:list")
    if not form.is_valid():
        for error in form.non_field_errors() or [_("Select incidents first.")]:
            messages.error(request, error)
        return redirect(back)
    data = form.cleaned_data
    chosen = list(data["incidents"].select_related("work_order", "assignee"))
    if not data.get("confirm"):
        return render(
            request,
            "incidents/bulk_confirm.html",
            {
                "nav_section": "incidents",
                "form": form,
                "chosen": chosen,
                "assignee": data.get("assignee"),
                "unassign": data.get("unassign"),
                "status_label": dict(IncidentStatus.choices).get(data.get("status") or ""),
                "next": back,
            },
        )
    done, refused = services.incidents_bulk_update(
        incidents=chosen,
        by=request.user,
        assignee=data.get("assignee"),
        unassign=data.get("unassign"),
        status=data.get("status") or None,
    )
    if done:
        messages.success(request, _("%(count)s incidents were changed.") % {"count": len(done)})
    for incident, reason in refused:
        messages.error(request, f"{incident.number}: {reason}")
    return redirect(back)


@login_required
def ratings(request):
    """Staff: satisfaction ratings per incident and per customer."""
    if not is_staff(request.user):
        raise PermissionDenied
    rows = selectors.satisfaction_ratings(actor=request.user)
    code = request.GET.get("customer", "").strip()
    if code:
        rows = rows.filter(incident__customer__code=code)
    from django.db.models import Avg

    per_customer = (
        selectors.satisfaction_ratings(actor=request.user)
        .values("incident__customer__code", "incident__customer__name")
        .annotate(count=Count("pk"), average=Avg("score"))
        .order_by("incident__customer__name")
    )
    return render(
        request,
        "incidents/ratings.html",
        {
            "nav_section": "incidents",
            "ratings": rows[:500],
            "per_customer": per_customer,
            "customer": code,
        },
    )


# --- one incident ------------------------------------------------------------------
