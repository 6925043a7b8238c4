"""Incidents as API.md writes and reads them."""

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.limits import InputLimitsMixin
from incidents.choices import DEFAULT_LANGUAGE, Channel, IncidentStatus, Severity
from incidents.deadlines import breached_now


class IncidentSerializer(InputLimitsMixin, serializers.Serializer):
    """Read shape of an incident (API.md field names)."""

    id = serializers.IntegerField(read_only=True)
    number = serializers.CharField(read_only=True)
    work_order = serializers.IntegerField(source="work_order_id", read_only=True)
    contact = serializers.EmailField(source="contact.email", read_only=True)
    title = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    severity = serializers.ChoiceField(choices=Severity.choices, read_only=True)
    product = serializers.CharField(read_only=True)
    is_cloud = serializers.BooleanField(read_only=True)
    around_the_clock = serializers.BooleanField(read_only=True)
    external_reference = serializers.CharField(read_only=True)
    language = serializers.ChoiceField(choices=settings.LANGUAGES, read_only=True)
    status = serializers.ChoiceField(choices=IncidentStatus.choices, read_only=True)
    channel = serializers.ChoiceField(choices=Channel.choices, read_only=True)
    opened_at = serializers.DateTimeField(read_only=True)
    response_due_at = serializers.DateTimeField(read_only=True)
    responded_at = serializers.DateTimeField(read_only=True, allow_null=True)
    response_breached = serializers.SerializerMethodField()
    target_rule = serializers.CharField(read_only=True)
    version = serializers.IntegerField(read_only=True)
    # Revision 2 (issue #16/#17).
    assignee = serializers.CharField(
        read_only=True, allow_null=True, help_text="Staff username working the incident."
    )
    customer_due_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="The customer's 24 hours to answer."
    )
    change_control_due_at = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="Change-control access due (Advanced critical, 4 business hours).",
    )
    change_control_granted_at = serializers.DateTimeField(read_only=True, allow_null=True)
    is_advisory = serializers.BooleanField(read_only=True, help_text="An advisory request (R23).")
    updated_at = serializers.DateTimeField(read_only=True)

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_response_breached(self, instance) -> bool:
        return breached_now(instance)

    def to_representation(self, instance):
        """The fields above, written out directly (issue #6): DRF's generic path deep-
        copies the twenty declared fields per serializer and calls each one's
        to_representation, a third of a millisecond per incident. Same output: the
        declared fields stay the schema, and tests/api/test_incident_representation.py
        compares both paths."""
        contact = instance.contact
        return {
            "id": instance.pk,
            "number": instance.number,
            "work_order": instance.work_order_id,
            "contact": contact.email if contact is not None else None,
            "title": instance.title,
            "description": instance.description,
            "severity": instance.severity,
            "product": instance.product,
            "is_cloud": bool(instance.is_cloud),
            "around_the_clock": bool(instance.around_the_clock),
            "external_reference": instance.external_reference,
            "language": instance.language,
            "status": instance.status,
            "channel": instance.channel,
            "opened_at": _utc_iso(instance.opened_at),
            "response_due_at": _utc_iso(instance.response_due_at),
            "responded_at": _utc_iso(instance.responded_at),
            "response_breached": breached_now(instance),
            "target_rule": instance.target_rule,
            "version": instance.version,
            "assignee": instance.assignee.username if instance.assignee_id else None,
            "customer_due_at": _utc_iso(instance.customer_due_at),
            "change_control_due_at": _utc_iso(instance.change_control_due_at),
            "change_control_granted_at": _utc_iso(instance.change_control_granted_at),
            "is_advisory": bool(instance.is_advisory),
            "updated_at": _utc_iso(instance.updated_at),
        }


def _utc_iso(value):
    """DRF's DateTimeField output: ISO 8601 in the active zone (UTC in the API), `Z`."""
    if not value:
        return None
    text = timezone.localtime(value).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class IncidentCreateSerializer(InputLimitsMixin, serializers.Serializer):
    """POST body. `work_order` and `contact` stay an id and an e-mail: incident_open
    looks both up inside its transaction, through the one door, in the statement that
    reads everything else the opening needs (issue #6)."""

    work_order = serializers.IntegerField(
        min_value=1, max_value=2**63 - 1, help_text="Id of a work order whose term covers now (R2)."
    )
    contact = serializers.EmailField(help_text="E-mail of a named contact of that work order.")
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(
        required=False, default="", allow_blank=True, max_length=20000
    )
    severity = serializers.ChoiceField(choices=Severity.choices)
    product = serializers.CharField(required=False, default="", allow_blank=True, max_length=200)
    is_cloud = serializers.BooleanField(required=False, default=False)
    around_the_clock = serializers.BooleanField(required=False, default=False)
    is_advisory = serializers.BooleanField(
        required=False, default=False, help_text="An advisory request (R23): at most 6 hours."
    )
    external_reference = serializers.CharField(
        required=False, default="", allow_blank=True, max_length=200
    )
    language = serializers.ChoiceField(
        choices=settings.LANGUAGES,
        required=False,
        default=DEFAULT_LANGUAGE,
        help_text="The language support is conducted in (R22); Rapid Response is English only (R9).",
        error_messages={
            "invalid_choice": _('"{input}" is not a language support is conducted in (R22).')
        },
    )
    opened_at = serializers.DateTimeField(
        required=False,
        help_text="Staff keys only; default now, never in the future (phone or imported incidents).",
    )


class IncidentUpdateSerializer(InputLimitsMixin, serializers.Serializer):
    """PATCH: customers edit the text fields and ask for 24x7; staff also drop 24x7 (with
    a `reason`) and move the status. Severity changes go through `/severity/`."""

    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    product = serializers.CharField(required=False, allow_blank=True, max_length=200)
    external_reference = serializers.CharField(required=False, allow_blank=True, max_length=200)
    around_the_clock = serializers.BooleanField(required=False)
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=500, write_only=True
    )
    status = serializers.ChoiceField(
        choices=IncidentStatus.choices,
        required=False,
        help_text="Staff move the status; a customer may mark its incident solved (resolved) or close it.",
    )
    assignee = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        max_length=150,
        help_text="Staff only: a staff username, or null/empty to unassign.",
    )

    #: Fields of the read shape that a PATCH may not set, with where to go instead.
    FORBIDDEN = {
        "severity": "Change the severity with POST /incidents/{id}/severity/ (R3).",
        "opened_at": "opened_at is set when the incident is filed.",
        "work_order": "An incident stays on its work order.",
        "contact": "An incident keeps its contact.",
        "responded_at": "Record the first response with POST /incidents/{id}/respond/.",
        "response_due_at": "Computed from the target (R4, R5).",
        "response_breached": "Computed.",
        "is_cloud": "Set when the incident is filed.",
        "language": "Set when the incident is filed (R22).",
    }

    def validate(self, attrs):
        bad = {name: [why] for name, why in self.FORBIDDEN.items() if name in self.initial_data}
        if bad:
            raise serializers.ValidationError(bad)
        return attrs


class RespondSerializer(InputLimitsMixin, serializers.Serializer):
    responded_at = serializers.DateTimeField(
        required=False, help_text="Default now; never in the future."
    )


class SeverityChangeSerializer(InputLimitsMixin, serializers.Serializer):
    severity = serializers.ChoiceField(choices=Severity.choices)
    reason = serializers.CharField(max_length=2000)


class SeverityAskedSerializer(InputLimitsMixin, serializers.Serializer):
    """A customer's recorded request for another severity (R3): support decides."""

    requested = serializers.BooleanField(default=True)
    incident = serializers.IntegerField()
    severity = serializers.ChoiceField(
        choices=Severity.choices, help_text="The severity asked for."
    )
    current_severity = serializers.ChoiceField(choices=Severity.choices)
    reason = serializers.CharField()
    requested_at = serializers.DateTimeField()


def _missing(message) -> dict:
    """A required text left out or blank: the service's own message, naming the rule."""
    return {"required": message, "blank": message, "null": message}


class OnsiteRequestSerializer(InputLimitsMixin, serializers.Serializer):
    agreed_by = serializers.CharField(
        max_length=200,
        help_text="Who at the customer agreed to onsite resources (R7).",
        error_messages=_missing(_("Say who at the customer agreed to onsite resources (R7).")),
    )
    note = serializers.CharField(required=False, default="", allow_blank=True, max_length=2000)


class ProductEscalationSerializer(InputLimitsMixin, serializers.Serializer):
    team = serializers.CharField(
        max_length=200,
        help_text="The product team escalated to; the same team twice is 409 (R7).",
        error_messages=_missing(_("Name the product team to escalate to (R7).")),
    )
    note = serializers.CharField(required=False, default="", allow_blank=True, max_length=2000)


class RsmRequestSerializer(InputLimitsMixin, serializers.Serializer):
    reason = serializers.CharField(
        max_length=500,
        help_text="Why Reactive Support Management is requested (R8).",
        error_messages=_missing(_("Say why you request Reactive Support Management (R8).")),
    )


class IncidentEventSerializer(InputLimitsMixin, serializers.Serializer):
    """A recorded entry of an incident's timeline (an R7/R8 request or escalation)."""

    id = serializers.IntegerField(read_only=True)
    incident = serializers.IntegerField(source="incident_id", read_only=True)
    # A plain string, not an enum: EventKind's many values would add a `KindEnum`
    # component that collides with the credit entries' `kind`.
    kind = serializers.CharField(
        read_only=True, help_text="`onsite_request`, `product_escalation` or `rsm_request`."
    )
    created_at = serializers.DateTimeField(read_only=True)
    data = serializers.JSONField(
        read_only=True, help_text="What was recorded: `agreed_by`, `team`, `note` or `reason`."
    )


class AttachmentSerializer(serializers.Serializer):
    """A file on an incident or a comment; `download` is the scoped download URL."""

    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    size = serializers.IntegerField(read_only=True, help_text="Bytes.")
    content_type = serializers.CharField(read_only=True)
    comment = serializers.IntegerField(source="comment_id", read_only=True, allow_null=True)
    internal = serializers.BooleanField(read_only=True)
    author = serializers.CharField(source="author_label", read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    download = serializers.SerializerMethodField()

    @extend_schema_field(OpenApiTypes.URI)
    def get_download(self, instance) -> str:
        request = self.context.get("request")
        path = f"/api/v1/incidents/{instance.incident_id}/attachments/{instance.pk}/download/"
        return request.build_absolute_uri(path) if request is not None else path


class AttachmentUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="multipart/form-data; at most settings.ATTACHMENT_MAX_BYTES (413 above), never empty.",
        allow_empty_file=True,  # the service refuses zero bytes with its own message
    )
    internal = serializers.BooleanField(required=False, default=False, help_text="Staff only.")


class CommentSerializer(serializers.Serializer):
    """A public reply or (staff only) an internal note, never shown to the customer."""

    id = serializers.IntegerField(read_only=True)
    body = serializers.CharField(max_length=20000)
    internal = serializers.BooleanField(required=False, default=False)
    author = serializers.CharField(source="author_label", read_only=True)
    from_customer = serializers.BooleanField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    attachments = serializers.SerializerMethodField()

    @extend_schema_field(AttachmentSerializer(many=True))
    def get_attachments(self, instance):
        files = getattr(instance, "files", None)
        if files is None:
            files = list(instance.attachments.all())
        return AttachmentSerializer(files, many=True, context=self.context).data


class TimelineEntrySerializer(serializers.Serializer):
    """One timeline entry, oldest first; customers never get internal ones."""

    id = serializers.IntegerField(read_only=True)
    kind = serializers.CharField(read_only=True)
    author = serializers.CharField(source="author_label", read_only=True)
    from_customer = serializers.BooleanField(read_only=True)
    internal = serializers.BooleanField(read_only=True)
    body = serializers.CharField(read_only=True)
    data = serializers.JSONField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class SeverityRequestSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    incident = serializers.IntegerField(source="incident_id", read_only=True)
    number = serializers.CharField(source="incident.number", read_only=True)
    severity = serializers.ChoiceField(choices=Severity.choices, read_only=True)
    reason = serializers.CharField(read_only=True)
    state = serializers.CharField(read_only=True, help_text="`open`, `accepted` or `declined`.")
    requested_by = serializers.CharField(source="requested_by_label", read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    decided_at = serializers.DateTimeField(read_only=True, allow_null=True)
    decided_by = serializers.CharField(source="decided_by_label", read_only=True)
    decision_reason = serializers.CharField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class DecisionSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text="Recorded and shown (R3).")
