"""The incident desk's actions on the incident page (issue #17): replies and internal
notes, attachments, assignment, severity requests, R7, change control, R23 effort, the
customer's closure and rating, and the page's live change marker. Each posted form goes
through incidents.views.submit_incident_form (errors on the page, a domain refusal on
the form); reads through incidents.selectors (the one door), writes through
incidents.services."""

from __future__ import annotations

import hashlib

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.permissions import can_act_for_customer, can_edit, editor_writes, is_staff
from incidents import selectors, services
from incidents.api.views import attachment_response
from incidents.choices import IncidentStatus
from incidents.forms import (
    AssignForm,
    AttachmentForm,
    CommentForm,
    DecisionForm,
    EffortForm,
    RatingForm,
)
from incidents.models import SeverityRequest
from incidents.views import incident_or_404, submit_incident_form


def incident_marker_value(incident) -> str:
    last_event = incident.events.order_by("-id").values_list("id", flat=True).first()
    raw = f"{incident.version}|{incident.updated_at.isoformat()}|{last_event}"
    return hashlib.sha1(raw.encode()).hexdigest()[:16]


@require_GET
@login_required
def incident_marker(request, pk):
    """The live incident page asks this every few seconds: has anything changed?"""
    incident = incident_or_404(request, pk)
    return JsonResponse({"marker": incident_marker_value(incident)})


@editor_writes
@require_POST
def incident_comment(request, pk):
    """A public reply or an internal note (staff), with files."""
    incident = incident_or_404(request, pk)
    if not can_act_for_customer(request.user):
        raise PermissionDenied
    staff = is_staff(request.user)
    form = CommentForm(request.POST, request.FILES, staff=staff)

    def call(data):
        services.incident_comment(
            incident=incident,
            body=data["body"],
            internal=bool(data.get("internal")),
            files=data.get("files") or [],
            by=request.user,
        )

    internal = staff and request.POST.get("internal") in ("on", "true", "1")
    success = _("Your internal note was added.") if internal else _("Your reply was added.")
    return submit_incident_form(request, incident, "comment_form", form, call, success)


@editor_writes
@require_POST
def incident_attach(request, pk):
    incident = incident_or_404(request, pk)
    if not can_act_for_customer(request.user):
        raise PermissionDenied
    form = AttachmentForm(request.POST, request.FILES)
    return submit_incident_form(
        request,
        incident,
        "attachment_form",
        form,
        lambda data: services.incident_attach(
            incident=incident, file=data["file"], by=request.user
        ),
        _("The file was attached."),
    )


@require_GET
@login_required
def attachment_download(request, pk, attachment_id):
    """The only way to read an attachment: through the one door, never a public path."""
    incident = incident_or_404(request, pk)
    attachment = (
        selectors.incident_attachments(actor=request.user, incident=incident)
        .filter(pk=attachment_id)
        .first()
    )
    if attachment is None:
        raise Http404
    return attachment_response(attachment)


@editor_writes
@require_POST
def incident_assign(request, pk):
    incident = incident_or_404(request, pk)
    if not can_edit(request.user):
        raise PermissionDenied
    form = AssignForm(request.POST)
    if request.POST.get("me"):
        form = AssignForm({"assignee": request.user.pk})
    return submit_incident_form(
        request,
        incident,
        "assign_form",
        form,
        lambda data: services.incident_assign(
            incident=incident, assignee=data["assignee"], by=request.user
        ),
        _("The assignee was changed."),
    )


@editor_writes
@require_POST
def severity_request_decide(request, pk, request_id):
    """R3: accept or decline a customer's severity request, with the reason."""
    incident = incident_or_404(request, pk)
    if not can_edit(request.user):
        raise PermissionDenied
    item = SeverityRequest.objects.filter(incident=incident, pk=request_id).first()
    if item is None:
        raise Http404
    form = DecisionForm(request.POST)

    def call(data):
        service = (
            services.severity_request_accept
            if data["decision"] == "accept"
            else services.severity_request_decline
        )
        service(request=item, reason=data["reason"], by=request.user)

    accepted = request.POST.get("decision") == "accept"
    success = (
        _("The request was accepted: the severity changed and the deadline was recomputed (R3).")
        if accepted
        else _("The request was declined; the customer sees your reason (R3).")
    )
    return submit_incident_form(request, incident, "decision_form", form, call, success)


class NoFields(forms.Form):
    """The form of a button that posts nothing but its CSRF token."""


@editor_writes
@require_POST
def incident_grant_change_control(request, pk):
    """The customer's side of an Advanced critical incident: change-control access granted."""
    incident = incident_or_404(request, pk)
    if not can_act_for_customer(request.user):
        raise PermissionDenied
    return submit_incident_form(
        request,
        incident,
        "change_control_form",
        NoFields(request.POST),
        lambda data: services.incident_grant_change_control(incident=incident, by=request.user),
        _("Change-control access was recorded as granted."),
    )


@editor_writes
@require_POST
def incident_assign_critical_situation(request, pk):
    """R7: the critical situation resource is assigned."""
    incident = incident_or_404(request, pk)
    if not can_edit(request.user):
        raise PermissionDenied
    return submit_incident_form(
        request,
        incident,
        "critical_situation_form",
        NoFields(request.POST),
        lambda data: services.incident_assign_critical_situation(
            incident=incident, by=request.user
        ),
        _("The critical situation resource was recorded as assigned (R7)."),
    )


@editor_writes
@require_POST
def incident_log_effort(request, pk):
    """R23: advisory effort; past 6 hours it is flagged and the account manager told."""
    incident = incident_or_404(request, pk)
    if not can_edit(request.user):
        raise PermissionDenied
    return submit_incident_form(
        request,
        incident,
        "effort_form",
        EffortForm(request.POST),
        lambda data: services.incident_log_advisory_effort(
            incident=incident, minutes=data["minutes"], by=request.user
        ),
        _("The effort was logged (R23)."),
    )


@editor_writes
@require_POST
def incident_mark_solved(request, pk):
    """The customer marks their incident solved."""
    incident = incident_or_404(request, pk)
    if not can_act_for_customer(request.user):
        raise PermissionDenied
    return submit_incident_form(
        request,
        incident,
        "solved_form",
        NoFields(request.POST),
        lambda data: services.incident_set_status(
            incident=incident, status=IncidentStatus.RESOLVED, by=request.user
        ),
        _("Thank you: the incident is marked solved. Please rate the support you got."),
    )


@editor_writes
@require_POST
def incident_rate(request, pk):
    incident = incident_or_404(request, pk)
    if is_staff(request.user):
        raise PermissionDenied
    return submit_incident_form(
        request,
        incident,
        "rating_form",
        RatingForm(request.POST),
        lambda data: services.incident_rate(
            incident=incident, score=data["score"], comment=data["comment"], by=request.user
        ),
        _("Thank you for your rating."),
    )


def desk_context(request, incident) -> dict:
    """What the incident page adds for the desk (merged into views._detail_context)."""
    staff = is_staff(request.user)
    return {
        "comment_form": CommentForm(staff=staff),
        "attachment_form": AttachmentForm(),
        "assign_form": AssignForm(initial={"assignee": incident.assignee_id}),
        "decision_form": DecisionForm(),
        "effort_form": EffortForm(),
        "rating_form": RatingForm(),
        "change_control_form": NoFields(),
        "critical_situation_form": NoFields(),
        "solved_form": NoFields(),
        "marker": incident_marker_value(incident),
        "poll_seconds": settings.LIVE_POLL_SECONDS,
        "max_bytes": settings.ATTACHMENT_MAX_BYTES,
        "rating": _rating(incident),
        "open_requests": getattr(incident, "open_requests", []),
        "advisory_cap_minutes": 6 * 60,
    }


def _rating(incident):
    from incidents.models import SatisfactionRating

    try:
        return incident.satisfaction_rating
    except SatisfactionRating.DoesNotExist:
        return None
