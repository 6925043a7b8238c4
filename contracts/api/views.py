"""Customers (staff), work orders (staff write, customers read their own) and named
contacts (staff, or the customer's own key)."""

from django.db.models import Prefetch
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.permissions import IsStaff, IsStaffEditorOrReadOnly, IsStaffOrCustomerReadOnly
from contracts import services
from contracts.api.serializers import (
    CustomerSerializer,
    NamedContactSerializer,
    WorkOrderSerializer,
    line_args,
    sync_lines,
)
from contracts.filtersets import CustomerFilterSet, WorkOrderFilterSet
from contracts.models import Customer, NamedContact, WorkOrder, WorkOrderLine
from core.api.base import (
    ConditionalUpdateMixin,
    IdempotentCreateMixin,
    PortalViewSet,
    VersionedRetrieveMixin,
    strict_serializer,
)
from core.api.idempotency import run_idempotent
from core.api.sync import sync_queryset


class CustomerViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, IdempotentCreateMixin, PortalViewSet
):
    queryset = Customer.objects.all()
    serializer_class = CustomerSerializer
    permission_classes = [IsStaff]
    lookup_field = "code"
    lookup_value_regex = "[^/]+"
    filterset_class = CustomerFilterSet
    ordering_fields = ("updated_at", "code", "name", "created_at", "id")

    def perform_create(self, serializer):
        return services.customer_create(by=self.actor, **serializer.validated_data)


def work_order_queryset():
    return WorkOrder.objects.select_related("customer").prefetch_related(
        Prefetch("lines", queryset=WorkOrderLine.objects.select_related("service"))
    )


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
    http_method_names = ["get", "post", "patch", "head", "options"]

    # One FilterSet per model, shared with the list pages.
    filterset_class = WorkOrderFilterSet
    ordering_fields = ("updated_at", "number", "start_date", "end_date", "created_at", "id")
    # The nested contacts list pages and syncs like any list.
    list_actions = ("contacts",)
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
