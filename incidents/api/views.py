"""`/incidents/`: staff and the customer's own key. Writes call incidents.services;
the list filters (status, severity, work_order, external_reference, breached, opened
range) are incidents.filtersets.IncidentFilterSet, shared with the staff list page."""

from django.conf import settings
from django.db.models import QuerySet
from django.http import FileResponse, Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from accounts.permissions import IsStaffEditor, IsStaffEditorOrReadOnly, is_api_key
from core.api.base import (
    ConditionalUpdateMixin,
    IdempotentCreateMixin,
    PortalViewSet,
    VersionedRetrieveMixin,
    strict_serializer,
)
from core.api.idempotency import run_idempotent
from core.api.sync import sync_queryset
from incidents import selectors, services
from incidents.api.serializers import (
    AttachmentSerializer,
    AttachmentUploadSerializer,
    CommentSerializer,
    DecisionSerializer,
    IncidentCreateSerializer,
    IncidentEventSerializer,
    IncidentSerializer,
    IncidentUpdateSerializer,
    OnsiteRequestSerializer,
    ProductEscalationSerializer,
    RespondSerializer,
    RsmRequestSerializer,
    SeverityAskedSerializer,
    SeverityChangeSerializer,
    SeverityRequestSerializer,
    TimelineEntrySerializer,
)
from incidents.choices import Channel
from incidents.filtersets import IncidentFilterSet, SeverityRequestFilterSet
from incidents.models import Incident, IncidentAttachment, IncidentEvent, SeverityRequest


class IncidentViewSet(
    mixins.ListModelMixin,
    VersionedRetrieveMixin,
    IdempotentCreateMixin,
    ConditionalUpdateMixin,
    PortalViewSet,
):
    # Newest first, the id breaking ties: a stable page order that incident_list_opened_idx
    # holds (issue #20).
    queryset = Incident.objects.order_by("-opened_at", "-id")
    serializer_class = IncidentSerializer
    permission_classes = [IsStaffEditorOrReadOnly]
    select_related = ("contact", "assignee")
    # incident_open returns the incident complete (contact, version): no second read.
    refetch_after_create = False
    http_method_names = ["get", "post", "patch", "head", "options"]

    # One FilterSet per model, shared with the list pages.
    filterset_class = IncidentFilterSet
    #: Nested lists that page, sync and know the list parameters (core.api.base).
    list_actions = ("comments", "attachments", "timeline")
    list_models = {
        "comments": IncidentEvent,
        "attachments": IncidentAttachment,
        "timeline": IncidentEvent,
    }
    #: `?ordering=` (API.md Revision 2); `updated_at` pages by cursor (core.api.sync).
    ordering_fields = (
        "updated_at",
        "opened_at",
        "response_due_at",
        "number",
        "severity",
        "status",
        "id",
    )

    def get_serializer_class(self):
        if self.action == "create":
            return IncidentCreateSerializer
        if self.action in ("update", "partial_update"):
            return IncidentUpdateSerializer
        return IncidentSerializer

    def get_output_serializer(self, instance):
        return IncidentSerializer(instance, context=self.get_serializer_context())

    @extend_schema(request=IncidentCreateSerializer, responses={201: IncidentSerializer})
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    @extend_schema(request=IncidentUpdateSerializer, responses={200: IncidentSerializer})
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        channel = Channel.API if is_api_key(self.actor) else Channel.WEB
        return services.incident_open(channel=channel, by=self.actor, **data)

    def perform_update(self, serializer, expected_version=None):
        data = dict(serializer.validated_data)
        new_status = data.pop("status", None)
        assign = "assignee" in data
        assignee = data.pop("assignee", None)
        incident = serializer.instance
        if assign:
            incident = services.incident_assign(
                incident=incident,
                assignee=assignee or None,
                by=self.actor,
                expected_version=expected_version,
            )
            expected_version = None
        if data:
            incident = services.incident_update(
                incident=incident, by=self.actor, expected_version=expected_version, **data
            )
            expected_version = None  # claimed by the edit above
        if new_status is not None and new_status != incident.status:
            incident = services.incident_set_status(
                incident=incident,
                status=new_status,
                by=self.actor,
                expected_version=expected_version,
            )
        return incident

    @extend_schema(
        request=RespondSerializer,
        responses={200: IncidentSerializer},
        summary="Record the first response",
    )
    @action(
        detail=True,
        methods=["post"],
        permission_classes=[IsStaffEditor],
        serializer_class=RespondSerializer,
    )
    def respond(self, request, pk=None):
        incident = self.get_object()
        data = strict_serializer(RespondSerializer, data=request.data)
        data.is_valid(raise_exception=True)
        done = services.incident_respond(incident=incident, by=self.actor, **data.validated_data)
        return Response(self.get_output_serializer(self.refetch(done)).data)

    @extend_schema(
        request=SeverityChangeSerializer,
        responses={
            200: OpenApiResponse(
                IncidentSerializer, description="Staff: severity changed, target recomputed (R3)."
            ),
            202: OpenApiResponse(
                SeverityAskedSerializer,
                description="A customer's key: the request is recorded; support decides (R3).",
            ),
        },
        summary="Change the severity (staff) or ask for a change (the customer)",
    )
    # Under Idempotency-Key, so a retried request is not recorded twice (creates=True
    # shows the header in the schema).
    @action(detail=True, methods=["post"], serializer_class=SeverityChangeSerializer, creates=True)
    def severity(self, request, pk=None):
        incident = self.get_object()
        return run_idempotent(request, lambda: self._severity(request, incident))

    def _severity(self, request, incident):
        data = strict_serializer(SeverityChangeSerializer, data=request.data)
        data.is_valid(raise_exception=True)
        if self.actor_is_staff:
            done = services.incident_change_severity(
                incident=incident, by=self.actor, **data.validated_data
            )
            return Response(self.get_output_serializer(self.refetch(done)).data)
        event = services.incident_request_severity_change(
            incident=incident, by=self.actor, **data.validated_data
        )
        body = {
            "requested": True,
            "incident": incident.pk,
            "severity": data.validated_data["severity"],
            "current_severity": incident.severity,
            "reason": data.validated_data["reason"].strip(),
            "requested_at": event.created_at,
        }
        return Response(SeverityAskedSerializer(body).data, status=status.HTTP_202_ACCEPTED)

    # R7/R8 requests record a timeline event: 201 with that event, under Idempotency-Key
    # so a retried request is not recorded twice (creates=True shows the header).

    @extend_schema(
        request=OnsiteRequestSerializer,
        responses={
            201: OpenApiResponse(
                IncidentEventSerializer, description="The recorded `onsite_request` event."
            )
        },
        summary="Record that onsite resources are requested (R7: Performance critical, "
        "24 hours after the opening, with the customer's agreement; once)",
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="onsite",
        permission_classes=[IsStaffEditor],
        serializer_class=OnsiteRequestSerializer,
        creates=True,
    )
    def onsite(self, request, pk=None):
        incident = self.get_object()
        return run_idempotent(
            request,
            lambda: self._record(
                request, OnsiteRequestSerializer, services.incident_request_onsite, incident
            ),
        )

    @extend_schema(
        request=ProductEscalationSerializer,
        responses={
            201: OpenApiResponse(
                IncidentEventSerializer, description="The recorded `product_escalation` event."
            )
        },
        summary="Escalate to a product team (R7: Performance critical; 409 for a team "
        "already engaged)",
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="product-escalations",
        permission_classes=[IsStaffEditor],
        serializer_class=ProductEscalationSerializer,
        creates=True,
    )
    def product_escalations(self, request, pk=None):
        incident = self.get_object()
        return run_idempotent(
            request,
            lambda: self._record(
                request,
                ProductEscalationSerializer,
                services.incident_escalate_to_product_team,
                incident,
            ),
        )

    @extend_schema(
        request=RsmRequestSerializer,
        responses={
            201: OpenApiResponse(
                IncidentEventSerializer, description="The recorded `rsm_request` event."
            )
        },
        summary="Request Reactive Support Management (R8: Core work orders, open incidents; once)",
    )
    # The customer's own key may ask too: the default permission classes, as `severity`.
    @action(
        detail=True,
        methods=["post"],
        url_path="rsm",
        serializer_class=RsmRequestSerializer,
        creates=True,
    )
    def rsm(self, request, pk=None):
        incident = self.get_object()
        return run_idempotent(
            request,
            lambda: self._record(
                request, RsmRequestSerializer, services.incident_request_rsm, incident
            ),
        )

    def _record(self, request, serializer_class, service, incident):
        data = strict_serializer(serializer_class, data=request.data)
        data.is_valid(raise_exception=True)
        event = service(incident=incident, by=self.actor, **data.validated_data)
        return Response(IncidentEventSerializer(event).data, status=status.HTTP_201_CREATED)

    # --- the conversation (API.md Revision 2) --------------------------------------

    def _page(self, queryset, serializer_class):
        if isinstance(queryset, QuerySet):
            # ?updated_after= / ?ordering= / the cursor, as on every list (core.api.sync).
            queryset = sync_queryset(queryset, self.request, self)
        page = self.paginate_queryset(queryset)
        data = serializer_class(page, many=True, context=self.get_serializer_context()).data
        return self.get_paginated_response(data)

    @extend_schema(
        methods=["get"],
        responses={200: CommentSerializer(many=True)},
        summary="Comments, oldest first (customers never see internal notes)",
    )
    @extend_schema(
        methods=["post"],
        request=CommentSerializer,
        responses={201: CommentSerializer},
        summary="Add a public reply, or (staff) an internal note",
    )
    @action(
        detail=True,
        methods=["get", "post"],
        serializer_class=CommentSerializer,
        filterset_class=None,
        creates=True,
    )
    def comments(self, request, pk=None):
        incident = self.get_object()
        if request.method == "GET":
            return self._page(
                selectors.incident_comments(incident=incident, actor=self.actor), CommentSerializer
            )
        return run_idempotent(request, lambda: self._comment(request, incident))

    def _comment(self, request, incident):
        data = strict_serializer(CommentSerializer, data=request.data)
        data.is_valid(raise_exception=True)
        event = services.incident_comment(
            incident=incident,
            body=data.validated_data["body"],
            internal=data.validated_data["internal"],
            by=self.actor,
        )
        out = CommentSerializer(event, context=self.get_serializer_context())
        return Response(out.data, status=status.HTTP_201_CREATED)

    @extend_schema(
        methods=["get"],
        responses={200: AttachmentSerializer(many=True)},
        summary="Attachments of the incident and its comments",
    )
    @extend_schema(
        methods=["post"],
        request={"multipart/form-data": AttachmentUploadSerializer},
        responses={
            201: AttachmentSerializer,
            413: OpenApiResponse(description="Above the size limit (ATTACHMENT_MAX_BYTES)."),
        },
        summary="Attach a file (multipart `file`; size limit, never empty)",
        description=f"At most {settings.ATTACHMENT_MAX_BYTES} bytes; larger is 413, empty is 400.",
    )
    @action(
        detail=True,
        methods=["get", "post"],
        serializer_class=AttachmentUploadSerializer,
        parser_classes=[MultiPartParser, FormParser, JSONParser],
        filterset_class=None,
    )
    def attachments(self, request, pk=None):
        incident = self.get_object()
        if request.method == "GET":
            return self._page(
                selectors.incident_attachments(actor=self.actor, incident=incident),
                AttachmentSerializer,
            )
        data = strict_serializer(AttachmentUploadSerializer, data=request.data)
        data.is_valid(raise_exception=True)
        attachment = services.incident_attach(
            incident=incident,
            file=data.validated_data["file"],
            internal=data.validated_data["internal"],
            by=self.actor,
        )
        out = AttachmentSerializer(attachment, context=self.get_serializer_context())
        return Response(out.data, status=status.HTTP_201_CREATED)

    @extend_schema(
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
        summary="Download an attachment (scoped; never a public path)",
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"attachments/(?P<attachment_id>[^/]+)/download",
        filterset_class=None,
    )
    def attachment_download(self, request, pk=None, attachment_id=None):
        incident = self.get_object()
        if not str(attachment_id).isdigit():
            raise Http404
        attachment = (
            selectors.incident_attachments(actor=self.actor, incident=incident)
            .filter(pk=int(attachment_id))
            .first()
        )
        if attachment is None:
            raise Http404
        return attachment_response(attachment)

    @extend_schema(
        responses={200: TimelineEntrySerializer(many=True)},
        summary="Every event of the incident, oldest first",
    )
    @action(detail=True, methods=["get"], filterset_class=None)
    def timeline(self, request, pk=None):
        incident = self.get_object()
        return self._page(
            selectors.incident_timeline(incident=incident, actor=self.actor),
            TimelineEntrySerializer,
        )

    @extend_schema(
        responses={200: OpenApiTypes.OBJECT},
        summary="Why response_due_at is what it is: rule, clock, calendar, closed periods",
    )
    @action(detail=True, methods=["get"], filterset_class=None)
    def explain(self, request, pk=None):
        incident = self.get_object()
        return Response(explanation_json(selectors.incident_explain(incident)))


def attachment_response(attachment) -> FileResponse:
    """The stored file as a download (never inline: no script runs from our origin)."""
    handle = attachment.file.open("rb")
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.name,
        content_type=attachment.content_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def explanation_json(value):
    """incidents.explain's result as JSON: datetimes in UTC `Z`, lazy strings as text."""
    import datetime as dt

    from core.times import utc_iso

    if isinstance(value, dict):
        return {str(k): explanation_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [explanation_json(v) for v in value]
    if isinstance(value, dt.datetime):
        return utc_iso(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


class SeverityRequestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PortalViewSet):
    """Customers' requests to change severity (R3): staff see all and decide; a
    customer's key sees its own."""

    queryset = SeverityRequest.objects.all()
    serializer_class = SeverityRequestSerializer
    select_related = ("incident",)
    filterset_class = SeverityRequestFilterSet

    def get_queryset(self):
        return selectors.severity_requests(actor=self.actor)

    def _decide(self, request, service):
        item = self.get_object()
        data = strict_serializer(DecisionSerializer, data=request.data)
        data.is_valid(raise_exception=True)
        done = service(request=item, reason=data.validated_data["reason"], by=self.actor)
        return Response(SeverityRequestSerializer(done).data)

    @extend_schema(
        request=DecisionSerializer,
        responses={200: SeverityRequestSerializer},
        summary="Accept: the severity changes and the target is recomputed (R3)",
    )
    @action(detail=True, methods=["post"], permission_classes=[IsStaffEditor], filterset_class=None)
    def accept(self, request, pk=None):
        return self._decide(request, services.severity_request_accept)

    @extend_schema(
        request=DecisionSerializer,
        responses={200: SeverityRequestSerializer},
        summary="Decline, with a reason the customer reads (R3)",
    )
    @action(detail=True, methods=["post"], permission_classes=[IsStaffEditor], filterset_class=None)
    def decline(self, request, pk=None):
        return self._decide(request, services.severity_request_decline)
