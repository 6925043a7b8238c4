"""`/incidents/`: staff and the customer's own key. Writes call incidents.services;
the list filters (status, severity, work_order, external_reference, breached, opened
range) are incidents.filtersets.IncidentFilterSet, shared with the staff list page."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.permissions import IsStaffEditor, IsStaffEditorOrReadOnly, is_api_key
from incidents import services
from incidents.api.serializers import (
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
)
from incidents.choices import Channel
from incidents.filtersets import IncidentFilterSet
from incidents.models import Incident
from portal.api.base import (
    ConditionalUpdateMixin,
    IdempotentCreateMixin,
    PortalViewSet,
    VersionedRetrieveMixin,
)
from portal.api.idempotency import run_idempotent


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
    select_related = ("contact",)
    # incident_open returns the incident complete (contact, version): no second read.
    refetch_after_create = False
    http_method_names = ["get", "post", "patch", "head", "options"]

    # One FilterSet per model, shared with the list pages.
    filterset_class = IncidentFilterSet

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
        incident = serializer.instance
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
        data = RespondSerializer(data=request.data)
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
        data = SeverityChangeSerializer(data=request.data)
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
        data = serializer_class(data=request.data)
        data.is_valid(raise_exception=True)
        event = service(incident=incident, by=self.actor, **data.validated_data)
        return Response(IncidentEventSerializer(event).data, status=status.HTTP_201_CREATED)
