"""Web forms of the incidents app. incidents.services checks every rule."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from contracts.models import NamedContact, WorkOrder
from core.forms import PortalForm
from incidents.choices import DEFAULT_LANGUAGE, IncidentStatus, Severity


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented recipe); size rules are the service's."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"data-dropzone": "1"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


class IncidentForm(PortalForm):
    """File an incident (R2). Customers pick one of their work orders whose term covers
    today; staff entering a phone incident also name the calling contact."""

    work_order = forms.ModelChoiceField(label=_("Work order"), queryset=WorkOrder.objects.none())
    contact = forms.ModelChoiceField(
        label=_("Calling contact"),
        queryset=NamedContact.objects.none(),
        required=False,
        help_text=_("Staff only: the named contact who phoned in (R2)."),
    )
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(
        label=_("What happens, and what is the impact on your business?"),
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
    )
    product = forms.CharField(label=_("Product"), max_length=200, required=False)
    severity = forms.ChoiceField(
        label=_("Business impact"),
        choices=[
            (Severity.NORMAL, _("Normal: normal impact on the business")),
            (Severity.CRITICAL, _("Critical: critical impact on the business")),
        ],
        initial=Severity.NORMAL,
        help_text=_("Support confirms the severity; you may ask for a change later (R3)."),
    )
    is_cloud = forms.BooleanField(
        label=_("A cloud service is affected (Rapid Response may apply, R9)"), required=False
    )
    around_the_clock = forms.BooleanField(
        label=_("Request 24x7 effort (your staff must be available around the clock, R6)"),
        required=False,
    )
    is_advisory = forms.BooleanField(
        label=_("This is an advisory request (advice, not a problem): at most 6 hours of support"),
        required=False,
        help_text=_("Advisory support is capped at 6 hours per request."),
    )
    files = MultipleFileField(
        label=_("Attach files (a process dump, a network trace, a screenshot)"), required=False
    )
    language = forms.ChoiceField(
        label=_("Language of support"),
        choices=settings.LANGUAGES,
        initial=DEFAULT_LANGUAGE,
        required=False,  # a form posted without it files in English
        help_text=_(
            "Support is conducted in English or, where available, your language (R22). "
            "Rapid Response is delivered in English only (R9)."
        ),
    )

    def __init__(self, *args, work_orders, staff: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["work_order"].queryset = work_orders
        self.fields["work_order"].label_from_instance = lambda wo: (
            f"{wo.number} · {wo.get_package_display()} · {wo.customer}"
        )
        if staff:
            self.fields["contact"].queryset = NamedContact.objects.filter(
                work_order__in=work_orders, active=True
            ).select_related("work_order")
            self.fields["contact"].label_from_instance = lambda c: (
                f"{c.name} <{c.email}> · {c.work_order.number}"
            )
            self.fields["contact"].required = True
        else:
            del self.fields["contact"]

    def clean_language(self):
        return self.cleaned_data.get("language") or DEFAULT_LANGUAGE

    def clean_files(self):
        """Checked before the incident is filed, so a refused file files nothing."""
        from core.errors import DomainError
        from incidents.services.conversation import check_upload

        files = self.cleaned_data.get("files") or []
        for upload in files:
            try:
                check_upload(upload)
            except DomainError as exc:
                raise forms.ValidationError(f"{upload.name}: {exc.message}") from exc
        return files

    def clean(self):
        data = super().clean()
        contact, work_order = data.get("contact"), data.get("work_order")
        if contact and work_order and contact.work_order_id != work_order.pk:
            self.add_error("contact", _("This contact is not a named contact of that work order."))
        return data


class CommentForm(PortalForm):
    """A public reply, or (staff) an internal note never shown to the customer; files too."""

    body = forms.CharField(
        label=_("Message"), widget=forms.Textarea(attrs={"rows": 4}), max_length=20000
    )
    internal = forms.BooleanField(
        label=_("Internal note (staff only: never shown or sent to the customer)"),
        required=False,
    )
    files = MultipleFileField(label=_("Attach files"), required=False)

    def __init__(self, *args, staff: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not staff:
            del self.fields["internal"]
        # Empty files are refused by the service with its own message.
        self.fields["files"].widget.attrs["data-max-bytes"] = settings.ATTACHMENT_MAX_BYTES


class AttachmentForm(PortalForm):
    file = forms.FileField(label=_("File"), allow_empty_file=True)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_attach_%s")
        super().__init__(*args, **kwargs)
        self.fields["file"].widget.attrs.update(
            {"data-dropzone": "1", "data-max-bytes": settings.ATTACHMENT_MAX_BYTES}
        )


class AssignForm(PortalForm):
    assignee = forms.ModelChoiceField(
        label=_("Assignee"), queryset=None, required=False, empty_label=_("Unassigned")
    )

    def __init__(self, *args, **kwargs):
        from accounts.models import User

        kwargs.setdefault("auto_id", "id_assign_%s")
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = User.objects.filter(
            is_staff=True, is_active=True
        ).order_by("username")
        self.fields["assignee"].label_from_instance = lambda u: u.get_full_name() or u.username


class DecisionForm(PortalForm):
    """Accept or decline a customer's severity request (R3), with the reason recorded."""

    decision = forms.ChoiceField(
        choices=[("accept", _("Accept")), ("decline", _("Decline"))], widget=forms.HiddenInput
    )
    reason = forms.CharField(label=_("Reason"), max_length=2000)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_decision_%s")
        super().__init__(*args, **kwargs)


class EffortForm(PortalForm):
    """R23: advisory effort, in minutes."""

    minutes = forms.IntegerField(label=_("Minutes"), min_value=1, max_value=24 * 60)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_effort_%s")
        super().__init__(*args, **kwargs)


class RatingForm(PortalForm):
    """The customer's short satisfaction survey on a solved incident."""

    score = forms.TypedChoiceField(
        label=_("How satisfied are you with the support you got?"),
        coerce=int,
        choices=[(i, str(i)) for i in range(1, 6)],
        widget=forms.RadioSelect,
        help_text=_("1: very unsatisfied, 5: very satisfied."),
    )
    comment = forms.CharField(
        label=_("Anything to add?"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=2000,
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_rating_%s")
        super().__init__(*args, **kwargs)


class SaveViewForm(PortalForm):
    name = forms.CharField(label=_("Save this view as"), max_length=80)
    query = forms.CharField(widget=forms.HiddenInput, required=False, max_length=1000)


class BulkForm(PortalForm):
    """The queue's bulk action; `confirm` is set on the confirmation page."""

    incidents = forms.ModelMultipleChoiceField(queryset=None, widget=forms.MultipleHiddenInput)
    assignee = forms.ModelChoiceField(label=_("Assign to"), queryset=None, required=False)
    unassign = forms.BooleanField(label=_("Unassign"), required=False)
    status = forms.ChoiceField(label=_("Set status"), required=False, choices=[])
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)
    next = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, incidents, **kwargs):
        from accounts.models import User

        super().__init__(*args, **kwargs)
        self.fields["incidents"].queryset = incidents
        self.fields["assignee"].queryset = User.objects.filter(
            is_staff=True, is_active=True
        ).order_by("username")
        self.fields["assignee"].label_from_instance = lambda u: u.get_full_name() or u.username
        self.fields["status"].choices = [("", "—")] + [
            (s, label) for s, label in IncidentStatus.choices if s != IncidentStatus.RESPONDED
        ]

    def clean(self):
        data = super().clean()
        if not (data.get("assignee") or data.get("unassign") or data.get("status")):
            raise forms.ValidationError(_("Choose an assignee or a status to set."))
        return data


class SeverityForm(PortalForm):
    severity = forms.ChoiceField(label=_("New severity"), choices=Severity.choices)
    reason = forms.CharField(
        label=_("Reason"), max_length=500, help_text=_("Recorded in the timeline (R3).")
    )


class OnsiteForm(PortalForm):
    """R7: onsite resources on a Performance critical incident, with the customer's agreement."""

    agreed_by = forms.CharField(
        label=_("Agreed by (at the customer)"),
        max_length=200,
        help_text=_(
            "Onsite resources need the customer's agreement, 24 hours after the opening (R7)."
        ),
    )
    note = forms.CharField(
        label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_onsite_%s")  # unique ids beside the other forms
        super().__init__(*args, **kwargs)


class ProductTeamForm(PortalForm):
    """R7: rapid escalation of a Performance critical incident to a product team."""

    team = forms.CharField(label=_("Product team"), max_length=200)
    note = forms.CharField(
        label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_team_%s")  # unique ids beside the other forms
        super().__init__(*args, **kwargs)


class RsmForm(PortalForm):
    """R8: Reactive Support Management on request (Core)."""

    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        help_text=_("Pooled Reactive Support Management, in business hours (R8)."),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_rsm_%s")  # unique ids beside the other forms
        super().__init__(*args, **kwargs)


class StatusForm(PortalForm):
    status = forms.ChoiceField(label=_("Status"), choices=[])
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, allowed=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [
            (s, IncidentStatus(s).label) for s in IncidentStatus.values if s in allowed
        ]


class RespondForm(PortalForm):
    """Record the first response now (R4)."""
