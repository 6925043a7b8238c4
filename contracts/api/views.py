"""Customers (staff), work orders (staff write, customers read their own) and named
contacts (staff, or the customer's own key)."""

from django.db import transaction
from django.db.models import Prefetch
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from accounts.permissions import IsStaff, IsStaffEditorOrReadOnly, IsStaffOrCustomerReadOnly
from contracts import services
from contracts.api.provisioning import (
    ContactPatchSerializer,
    InvitationSerializer,
    LinePatchSerializer,
    LineSerializer,
    RenewSerializer,
    SupportLocationSerializer,
    set_closures,
)
from contracts.api.serializers import (
    CustomerPatchSerializer,
    CustomerSerializer,
    NamedContactSerializer,
    WorkOrderSerializer,
    line_args,
    sync_lines,
)
from contracts.filtersets import CustomerFilterSet, WorkOrderFilterSet
from contracts.models import Customer, NamedContact, SupportLocation, WorkOrder, WorkOrderLine
from core.api.base import (
    ConditionalUpdateMixin,
    IdempotentCreateMixin,
    PortalViewSet,
    PreconditionFailed,
    VersionedRetrieveMixin,
    parse_if_match,
    strict_serializer,
)
from core.api.idempotency import run_idempotent
from core.api.sync import sync_queryset
from core.errors import Conflict


class CustomerViewSet(
    mixins.ListModelMixin,
    VersionedRetrieveMixin,
    IdempotentCreateMixin,
    ConditionalUpdateMixin,
    PortalViewSet,
):
    queryset = Customer.objects.all()
    serializer_class = CustomerSerializer
    permission_classes = [IsStaff]
    lookup_field = "code"
    lookup_value_regex = "[^/]+"
    filterset_class = CustomerFilterSet
    ordering_fields = ("updated_at", "code", "name", "created_at", "id")
    http_method_names = ["get", "post", "patch", "head", "options"]
    # The nested locations list pages and syncs like any list.
    list_actions = ("locations",)
    list_models = {"locations": SupportLocation}

    def get_serializer_class(self):
        if self.action == "partial_update":
            return CustomerPatchSerializer
        return super().get_serializer_class()

    def get_output_serializer(self, instance):
        return CustomerSerializer(instance, context=self.get_serializer_context())

    def perform_create(self, serializer):
        return services.customer_create(by=self.actor, **serializer.validated_data)

    def perform_update(self, serializer, expected_version=None):
        return services.customer_update(
            customer=serializer.instance,
            expected_version=expected_version,
            by=self.actor,
            **serializer.validated_data,
        )

    @extend_schema(methods=["GET"], responses={200: SupportLocationSerializer(many=True)})
    @extend_schema(
        methods=["POST"],
        request=SupportLocationSerializer,
        responses={201: SupportLocationSerializer},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        url_path="locations",
        serializer_class=SupportLocationSerializer,
        filter_backends=[],
        creates=True,
    )
    def locations(self, request, code=None):
        customer = self.get_object()
        if request.method == "POST":
            return run_idempotent(request, lambda: self._add_location(request, customer))
        qs = (
            SupportLocation.objects.visible_to(request.user)
            .filter(customer=customer)
            .order_by("id")
        )
        qs = sync_queryset(qs, request, self)
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(SupportLocationSerializer(page, many=True).data)

    def _add_location(self, request, customer):
        serializer = SupportLocationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        kwargs = serializer.service_kwargs()
        with transaction.atomic():
            location = services.support_location_create(customer=customer, by=self.actor, **kwargs)
            if "closures" in serializer.validated_data:
                set_closures(
                    location=location, dates=serializer.validated_data["closures"], by=self.actor
                )
        return Response(SupportLocationSerializer(location).data, status=status.HTTP_201_CREATED)


class SupportLocationViewSet(mixins.RetrieveModelMixin, PortalViewSet):
    """`/locations/{id}/`: GET and PATCH (staff). An edit of hours or closures recomputes
    the open incidents that use the location (R5)."""

    queryset = SupportLocation.objects.all()
    serializer_class = SupportLocationSerializer
    permission_classes = [IsStaff]
    http_method_names = ["get", "patch", "head", "options"]

    @extend_schema(request=SupportLocationSerializer, responses={200: SupportLocationSerializer})
    def partial_update(self, request, pk=None):
        location = self.get_object()
        serializer = SupportLocationSerializer(location, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            kwargs = serializer.service_kwargs()
            if kwargs:
                location = services.support_location_update(
                    location=location, by=self.actor, **kwargs
                )
            if "closures" in serializer.validated_data:
                set_closures(
                    location=location, dates=serializer.validated_data["closures"], by=self.actor
                )
        return Response(SupportLocationSerializer(self.refetch(location)).data)


def work_order_queryset():
    return WorkOrder.objects.select_related(
        "customer", "support_location", "account_manager"
    ).prefetch_related(Prefetch("lines", queryset=WorkOrderLine.objects.select_related("service")))


class WorkOrderViewSet(
    mixins.ListModelMixin,
    VersionedRetrieveMixin,
    IdempotentCreateMixin,
    ConditionalUpdateMixin,
    PortalViewSet,
):
    queryset = WorkOrder.objects.all()
    serializer_class = WorkOrderSerializer
    permission_classes = [IsStaffOrCustomerReadOnly]
    # DELETE only on /lines/{id}/ (the work order itself has no destroy: 405).
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    # One FilterSet per model, shared with the list pages.
    filterset_class = WorkOrderFilterSet
    ordering_fields = ("updated_at", "number", "start_date", "end_date", "created_at", "id")
    # The nested contacts list pages and syncs like any list.
    list_actions = ("contacts", "lines")
    list_models = {"contacts": NamedContact, "lines": WorkOrderLine}
    extra_query_params = {"contacts": ("active", "email")}

    def get_base_queryset(self):
        return work_order_queryset()

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        lines = [line_args(line) for line in data.pop("lines", [])]
        return services.work_order_create(lines=lines, by=self.actor, **data)

    def perform_update(self, serializer, expected_version=None):
        data = dict(serializer.validated_data)
        lines = data.pop("lines", None)
        work_order = serializer.instance
        if data or expected_version is not None:
            work_order = services.work_order_update(
                work_order=work_order, expected_version=expected_version, by=self.actor, **data
            )
        if lines is not None:
            sync_lines(work_order=work_order, lines=lines, by=self.actor)
        return work_order

    @extend_schema(
        methods=["GET"],
        responses={200: NamedContactSerializer(many=True)},
        parameters=[
            OpenApiParameter("active", OpenApiTypes.BOOL, description="Active contacts only."),
            OpenApiParameter("email", OpenApiTypes.EMAIL, description="The contact's e-mail."),
        ],
        summary="Named contacts of a work order",
    )
    @extend_schema(
        methods=["POST"],
        request=NamedContactSerializer,
        responses={201: NamedContactSerializer},
        summary="Add a named contact (R1: 409 past the package's limit)",
    )
    @action(
        detail=True,
        methods=["get", "post"],
        url_path="contacts",
        permission_classes=[IsStaffEditorOrReadOnly],
        serializer_class=NamedContactSerializer,
        filter_backends=[],
        # The POST creates a contact under Idempotency-Key (the schema shows the header).
        creates=True,
    )
    def contacts(self, request, pk=None):
        work_order = self.get_object()
        if request.method == "POST":
            return run_idempotent(request, lambda: self._add_contact(request, work_order))
        qs = (
            NamedContact.objects.visible_to(request.user)
            .filter(work_order=work_order)
            .order_by("name", "id")
        )
        if request.query_params.get("active") in ("true", "false"):
            qs = qs.filter(active=request.query_params["active"] == "true")
        if request.query_params.get("email"):
            qs = qs.filter(email__iexact=request.query_params["email"])
        qs = sync_queryset(qs, request, self)
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(NamedContactSerializer(page, many=True).data)

    def _add_contact(self, request, work_order):
        serializer = strict_serializer(NamedContactSerializer, data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if not self.actor_is_staff:
            # Only staff name the support services manager.
            data.pop("is_lead", None)
        contact = services.named_contact_add(work_order=work_order, by=self.actor, **data)
        return Response(NamedContactSerializer(contact).data, status=status.HTTP_201_CREATED)

    # --- API.md Revision 2: single lines, contact edits and invitations, renewal ---------

    def _line(self, work_order, line_id) -> WorkOrderLine:
        line = (
            WorkOrderLine.objects.visible_to(self.request.user)
            .select_related("service", "work_order")
            .filter(work_order=work_order, pk=line_id if str(line_id).isdigit() else None)
            .first()
        )
        if line is None:
            raise NotFound()
        return line

    @staticmethod
    def _line_data(line) -> dict:
        return LineSerializer(line).data

    @extend_schema(methods=["GET"], responses={200: LineSerializer(many=True)})
    @extend_schema(methods=["POST"], request=LineSerializer, responses={201: LineSerializer})
    @action(
        detail=True,
        methods=["get", "post"],
        url_path="lines",
        serializer_class=LineSerializer,
        filter_backends=[],
        creates=True,
    )
    def lines(self, request, pk=None):
        work_order = self.get_object()
        if request.method == "POST":
            return run_idempotent(request, lambda: self._add_line(request, work_order))
        qs = work_order.lines.select_related("service").order_by("id")
        qs = sync_queryset(qs, request, self)
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(LineSerializer(page, many=True).data)

    def _add_line(self, request, work_order):
        serializer = LineSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        line = services.work_order_line_add(
            work_order=work_order, by=self.actor, **serializer.validated_data
        )
        return Response(LineSerializer(line).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["PATCH"], request=LinePatchSerializer, responses={200: LineSerializer})
    @extend_schema(methods=["DELETE"], responses={204: None})
    @action(
        detail=True,
        methods=["patch", "delete"],
        url_path=r"lines/(?P<line_id>[^/]+)",
        serializer_class=LinePatchSerializer,
        filter_backends=[],
    )
    def line(self, request, pk=None, line_id=None):
        work_order = self.get_object()
        line = self._line(work_order, line_id)
        if request.method == "DELETE":
            services.work_order_line_remove(line=line, by=self.actor)
            return Response(status=status.HTTP_204_NO_CONTENT)
        serializer = LinePatchSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        line = services.work_order_line_update(
            line=line,
            quantity=data.get("quantity", line.quantity),
            bounds_override=data.get("bounds_override"),
            override_reason=data.get("override_reason"),
            by=self.actor,
        )
        return Response(LineSerializer(line).data)

    def _contact(self, work_order, contact_id) -> NamedContact:
        contact = (
            NamedContact.objects.visible_to(self.request.user)
            .filter(work_order=work_order, pk=contact_id if str(contact_id).isdigit() else None)
            .first()
        )
        if contact is None:
            raise NotFound()
        return contact

    @extend_schema(methods=["GET"], responses={200: NamedContactSerializer})
    @extend_schema(
        methods=["PATCH"], request=ContactPatchSerializer, responses={200: NamedContactSerializer}
    )
    @action(
        detail=True,
        methods=["get", "patch"],
        url_path=r"contacts/(?P<contact_id>[^/]+)",
        permission_classes=[IsStaffEditorOrReadOnly],
        serializer_class=ContactPatchSerializer,
        filter_backends=[],
    )
    def contact(self, request, pk=None, contact_id=None):
        work_order = self.get_object()
        contact = self._contact(work_order, contact_id)
        if request.method == "GET":
            response = Response(NamedContactSerializer(contact).data)
            response["ETag"] = f'"{contact.version}"'
            return response
        expected = parse_if_match(request)
        if expected is not None and expected != contact.version:
            raise PreconditionFailed()
        serializer = ContactPatchSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if not self.actor_is_staff:
            # R25: the customer proposes; staff name the lead and change the set.
            data.pop("is_lead", None)
        with transaction.atomic():
            if data.get("active") is False:
                if not contact.active:
                    raise Conflict(
                        f"{contact.name} is already deactivated.",
                        field="active",
                        code="already_deactivated",
                    )
                data.pop("active")
                contact = services.named_contact_deactivate(contact=contact, by=self.actor)
                expected = None
            if data:
                contact = services.named_contact_update(
                    contact=contact, expected_version=expected, by=self.actor, **data
                )
        contact.refresh_from_db()
        response = Response(NamedContactSerializer(contact).data)
        response["ETag"] = f'"{contact.version}"'
        return response

    @extend_schema(request=None, responses={201: InvitationSerializer})
    @action(
        detail=True,
        methods=["post"],
        url_path=r"contacts/(?P<contact_id>[^/]+)/invite",
        permission_classes=[IsStaffEditorOrReadOnly],
        serializer_class=InvitationSerializer,
        filter_backends=[],
    )
    def invite(self, request, pk=None, contact_id=None):
        """E-mail the contact a one-time link to set a password, linked to this contact.
        Sending again replaces the earlier link (resend)."""
        work_order = self.get_object()
        contact = self._contact(work_order, contact_id)
        if request.data:
            raise ValidationError({k: ["Unknown field."] for k in request.data})
        invitation, _link = services.named_contact_invite(contact=contact, by=self.actor)
        return Response(
            InvitationSerializer(
                {
                    "contact": contact.pk,
                    "email": invitation.email,
                    "expires_at": invitation.expires_at,
                }
            ).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(request=RenewSerializer, responses={201: WorkOrderSerializer})
    @action(
        detail=True,
        methods=["post"],
        url_path="renew",
        serializer_class=RenewSerializer,
        filter_backends=[],
        creates=True,
    )
    def renew(self, request, pk=None):
        """The next term: same customer, package, location, contacts and lines (R14: the
        old term's unused entitlements are not carried over)."""
        return run_idempotent(request, lambda: self._renew(request))

    def _renew(self, request):
        work_order = self.get_object()
        serializer = RenewSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        new = services.work_order_renew(
            work_order=work_order, by=self.actor, **serializer.validated_data
        )
        return Response(WorkOrderSerializer(self.refetch(new)).data, status=status.HTTP_201_CREATED)
