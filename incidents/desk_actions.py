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
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
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
from incidents.views import (
    incident_form_action,
    incident_or_403,
    incident_or_404,
    submit_incident_form,
)


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
    incident = incident_or_403(request, pk, can_act_for_customer)
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


incident_attach = incident_form_action(
    form_name="attachment_form",
    form_class=AttachmentForm,
    may=can_act_for_customer,
    call=lambda request, incident, data: services.incident_attach(
        incident=incident, file=data["file"], by=request.user
    ),
    success=gettext_lazy("The file was attached."),
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
    incident = incident_or_403(request, pk, can_edit)
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
    incident = incident_or_403(request, pk, can_edit)
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


incident_grant_change_control = incident_form_action(
    doc="The customer's side of an Advanced critical incident: change-control access granted.",
    form_name="change_control_form",
    form_class=NoFields,
    may=can_act_for_customer,
    call=lambda request, incident, data: services.incident_grant_change_control(
        incident=incident, by=request.user
    ),
    success=gettext_lazy("Change-control access was recorded as granted."),
)

incident_assign_critical_situation = incident_form_action(
    doc="R7: the critical situation resource is assigned.",
    form_name="critical_situation_form",
    form_class=NoFields,
    may=can_edit,
    call=lambda request, incident, data: services.incident_assign_critical_situation(
        incident=incident, by=request.user
    ),
    success=gettext_lazy("The critical situation resource was recorded as assigned (R7)."),
)

incident_log_effort = incident_form_action(
    doc="R23: advisory effort; past 6 hours it is flagged and the account manager told.",
    form_name="effort_form",
    form_class=EffortForm,
    may=can_edit,
    call=lambda request, incident, data: services.incident_log_advisory_effort(
        incident=incident, minutes=data["minutes"], by=request.user
    ),
    success=gettext_lazy("The effort was logged (R23)."),
)

incident_mark_solved = incident_form_action(
    doc="The customer marks their incident solved.",
    form_name="solved_form",
    form_class=NoFields,
    may=can_act_for_customer,
    call=lambda request, incident, data: services.incident_set_status(
        incident=incident, status=IncidentStatus.RESOLVED, by=request.user
    ),
    success=gettext_lazy(
        "Thank you: the incident is marked solved. Please rate the support you got."
    ),
)

incident_rate = incident_form_action(
    doc="The customer rates the support on their incident (staff may not).",
    form_name="rating_form",
    form_class=RatingForm,
    may=lambda user: not is_staff(user),
    call=lambda request, incident, data: services.incident_rate(
        incident=incident, score=data["score"], comment=data["comment"], by=request.user
    ),
    success=gettext_lazy("Thank you for your rating."),
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
