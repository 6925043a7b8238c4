"""Web forms of the incidents app. incidents.services checks every rule."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from contracts.models import NamedContact, WorkOrder
from incidents.choices import DEFAULT_LANGUAGE, IncidentStatus, Severity
from portal.forms import PortalForm


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

    def clean(self):
        data = super().clean()
        contact, work_order = data.get("contact"), data.get("work_order")
        if contact and work_order and contact.work_order_id != work_order.pk:
            self.add_error("contact", _("This contact is not a named contact of that work order."))
        return data


class CommentForm(PortalForm):
    body = forms.CharField(label=_("Comment"), widget=forms.Textarea(attrs={"rows": 3}))


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
