"""Rates (staff write, customers read their own and the defaults), a work order's
credits, and redemptions (staff, or the customer's key)."""

from django.db.models import Exists, OuterRef, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import GenericAPIView, get_object_or_404
from rest_framework.response import Response

from accounts.permissions import IsStaffEditorOrReadOnly, IsStaffOrCustomerReadOnly, can_edit
from contracts.models import WorkOrder
from core.api.base import (
    IdempotentCreateMixin,
    PortalViewSet,
    StrictQueryMixin,
    UtcMixin,
    VersionedRetrieveMixin,
    strict_serializer,
)
from core.api.idempotency import HEADER as IDEMPOTENCY_HEADER
from core.api.idempotency import run_idempotent
from core.times import business_today
from credits import selectors, services
from credits.api.serializers import (
    CreditsSerializer,
    RateSerializer,
    RedemptionCancelSerializer,
    RedemptionDeliverSerializer,
    RedemptionRescheduleSerializer,
    RedemptionSerializer,
    TimeEntrySerializer,
)
from credits.models import Rate, Redemption, TimeEntry


def in_force_on(qs, on):
    """Rates in force on a date: per service and customer (or default), the latest valid_from ≤ on."""
    newer = (
        Rate.objects.filter(
            service=OuterRef("service"), valid_from__lte=on, valid_from__gt=OuterRef("valid_from")
        )
        .annotate(_who=Coalesce("customer_id", Value(0)))
        .filter(_who=OuterRef("_who"))
    )
    return (
        qs.filter(valid_from__lte=on)
        .annotate(_who=Coalesce("customer_id", Value(0)))
        .exclude(Exists(newer))
    )


class RateViewSet(mixins.ListModelMixin, IdempotentCreateMixin, PortalViewSet):
    """The rate card (R10). `?valid_on=YYYY-MM-DD` (or `?current=true` for today) keeps
    the rows in force on that date."""

    queryset = Rate.objects.all()
    serializer_class = RateSerializer
    permission_classes = [IsStaffOrCustomerReadOnly]
    filterset_fields = {"valid_from": ["exact", "gte", "lte"]}
    extra_query_params = {"list": ("current", "valid_on", "service", "customer")}
    ordering_fields = ("updated_at", "valid_from", "created_at", "id")

    def get_queryset(self):
        # Defaults are public (every customer redeems at them); own rates otherwise.
        qs = selectors.rate_card(actor=self.request.user)
        on = None
        current = self.request.query_params.get("current") or None
        if current not in (None, "true", "false"):
            raise serializers.ValidationError({"current": ["Must be true or false."]})
        if current == "true":
            on = business_today()
        if self.request.query_params.get("valid_on"):
            try:
                on = serializers.DateField().to_internal_value(
                    self.request.query_params["valid_on"]
                )
            except serializers.ValidationError as exc:
                raise serializers.ValidationError({"valid_on": exc.detail}) from exc
        return in_force_on(qs, on) if on is not None else qs

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "current", OpenApiTypes.BOOL, description="Only the rates in force today."
            ),
            OpenApiParameter(
                "valid_on", OpenApiTypes.DATE, description="Only the rates in force on this date."
            ),
            OpenApiParameter("service", OpenApiTypes.STR, description="A service code."),
            OpenApiParameter("customer", OpenApiTypes.STR, description="A customer code."),
        ]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        params = self.request.query_params
        if params.get("service"):
            queryset = queryset.filter(service__code=params["service"])
        if params.get("customer"):
            queryset = queryset.filter(customer__code=params["customer"])
        return queryset

    def perform_create(self, serializer):
        return services.rate_create(by=self.actor, **serializer.validated_data)

    def refetch(self, instance):
        return instance


def visible_work_order(request, pk) -> WorkOrder:
    """A work order through the one door; 404 for another customer's (never its data)."""
    return get_object_or_404(
        WorkOrder.objects.visible_to(request.user).select_related("customer", "support_location"),
        pk=pk,
    )


class WorkOrderCreditsView(UtcMixin, StrictQueryMixin, GenericAPIView):
    """`GET /work-orders/{id}/credits/`: balance and ledger."""

    permission_classes = [IsStaffEditorOrReadOnly]
    serializer_class = CreditsSerializer
    queryset = WorkOrder.objects.none()
    pagination_class = None
    filter_backends = []

    def get(self, request, pk):
        work_order = visible_work_order(request, pk)
        entries = list(selectors.ledger(work_order=work_order, actor=request.user))
        body = {
            "work_order": work_order.pk,
            "balance": selectors.balance(work_order=work_order),
            # R14: what the burn rate so far leaves unused at the term's end.
            "forecast_expiring": selectors.credits_forecast(work_order=work_order)["at_risk"],
            "entries": entries,
        }
        return Response(CreditsSerializer(body).data)


class WorkOrderRedemptionViewSet(mixins.ListModelMixin, IdempotentCreateMixin, PortalViewSet):
    """`/work-orders/{id}/redemptions/`: redeem credits for an add-on (R10; 409 if the balance is short)."""

    queryset = Redemption.objects.all()
    serializer_class = RedemptionSerializer
    permission_classes = [IsStaffEditorOrReadOnly]
    filterset_fields = ["status", "scheduled_for", "delivery_mode"]
    extra_query_params = {"list": ("service",)}
    ordering_fields = ("updated_at", "scheduled_for", "created_at", "id")

    @extend_schema(
        parameters=[OpenApiParameter("service", OpenApiTypes.STR, description="A service code.")]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def filter_queryset(self, queryset):
        # `service` is the service's code (API.md), as on the rate card.
        queryset = super().filter_queryset(queryset)
        if self.request.query_params.get("service"):
            queryset = queryset.filter(service__code=self.request.query_params["service"])
        return queryset

    def work_order(self) -> WorkOrder:
        if not hasattr(self, "_work_order"):
            self._work_order = visible_work_order(self.request, self.kwargs["pk"])
        return self._work_order

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Redemption.objects.none()
        return selectors.redemption_list(actor=self.request.user, work_order=self.work_order())

    def perform_create(self, serializer):
        return services.credits_redeem(
            work_order=self.work_order(),
            idempotency_key=(self.request.headers.get(IDEMPOTENCY_HEADER) or "")[:200],
            by=self.actor,
            **serializer.validated_data,
        )


class RedemptionViewSet(VersionedRetrieveMixin, PortalViewSet):
    """`/redemptions/{id}/` and its `cancel`, `reschedule` (R16) and `deliver` (R14, staff) actions."""

    queryset = Redemption.objects.all()
    serializer_class = RedemptionSerializer
    permission_classes = [IsStaffEditorOrReadOnly]
    #: Set per action: a POST that writes (a fee entry) takes an Idempotency-Key (schema).
    creates = False

    def get_queryset(self):
        return selectors.redemption_list(actor=self.request.user)

    @extend_schema(request=RedemptionCancelSerializer, responses={200: RedemptionSerializer})
    @action(detail=True, methods=["post"], serializer_class=RedemptionCancelSerializer)
    def cancel(self, request, pk=None):
        return self._act(
            request, self.get_object(), RedemptionCancelSerializer, services.redemption_cancel
        )

    def _act(self, request, redemption, input_class, service):
        """A workflow action: validate `input_class`, call the service with the redemption
        and the actor, answer with the redemption as it is now (200)."""
        data = strict_serializer(input_class, data=request.data)
        data.is_valid(raise_exception=True)
        done = service(redemption=redemption, by=self.actor, **data.validated_data)
        return Response(
            RedemptionSerializer(self.get_queryset().get(pk=done.pk)).data,
            status=status.HTTP_200_OK,
        )

    @extend_schema(
        request=RedemptionRescheduleSerializer,
        responses={200: RedemptionSerializer},
        description="Move a scheduled redemption to another delivery date inside the term "
        "(R14, R15). Less than 14 days before the current delivery date the work order's "
        "cancellation-fee percentage of its credits is charged as a `cancellation_fee` "
        "entry (R16); 409 if the balance cannot pay it.",
    )
    @action(
        detail=True, methods=["post"], serializer_class=RedemptionRescheduleSerializer, creates=True
    )
    def reschedule(self, request, pk=None):
        # Under Idempotency-Key: a retried move must not pay the R16 fee twice.
        return run_idempotent(request, lambda: self._reschedule(request))

    def _reschedule(self, request):
        return self._act(
            request,
            self.get_object(),
            RedemptionRescheduleSerializer,
            services.redemption_reschedule,
        )

    @extend_schema(
        request=RedemptionDeliverSerializer,
        responses={200: RedemptionSerializer},
        description="Staff only: record that a scheduled redemption was delivered (R14), on "
        "`delivered_on` (today if omitted; never in the future, within the term). 409 if it "
        "is no longer scheduled (delivered, cancelled, exchanged or lapsed at the end of the "
        "term). Customer keys get 403.",
    )
    @action(detail=True, methods=["post"], serializer_class=RedemptionDeliverSerializer)
    def deliver(self, request, pk=None):
        # Scoped lookup first: another customer's redemption is a 404, never a 403 that
        # would confirm it exists; then the staff-editor check (R14: staff record delivery).
        redemption = self.get_object()
        if not can_edit(request.user):
            raise PermissionDenied(
                _("R14: only administrators and account managers mark a redemption delivered.")
            )
        return self._act(
            request, redemption, RedemptionDeliverSerializer, services.redemption_mark_delivered
        )


class WorkOrderTimeEntryViewSet(mixins.ListModelMixin, IdempotentCreateMixin, PortalViewSet):
    """`/work-orders/{id}/time-entries/`: staff record hours used against an hour block
    (R11); the customer's key reads its own. 409 past what is left on the block."""

    queryset = TimeEntry.objects.all()
    serializer_class = TimeEntrySerializer
    permission_classes = [IsStaffOrCustomerReadOnly]
    filterset_fields = {"worked_on": ["exact", "gte", "lte"]}
    refetch_after_create = False

    def work_order(self) -> WorkOrder:
        if not hasattr(self, "_work_order"):
            self._work_order = visible_work_order(self.request, self.kwargs["pk"])
        return self._work_order

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return TimeEntry.objects.none()
        return (
            TimeEntry.objects.visible_to(self.request.user)
            .filter(line__work_order=self.work_order())
            .select_related("line__service")
            .order_by("-worked_on", "-id")
        )

    def perform_create(self, serializer):
        data = serializer.validated_data
        work_order = self.work_order()
        line = (
            work_order.lines.filter(service=data["service"])
            .select_related("service", "work_order")
            .order_by("expired_at", "-id")
            .first()
        )
        if line is None:
            raise serializers.ValidationError(
                {
                    "service": [
                        _("This work order holds no %(service)s hours.")
                        % {"service": data["service"].code}
                    ]
                }
            )
        return services.time_entry_record(
            line=line,
            hours=data["hours"],
            worked_on=data["date"],
            description=data["description"],
            reference=data.get("reference", ""),
            by=self.actor,
        )
