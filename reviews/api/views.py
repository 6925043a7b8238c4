"""`GET /api/v1/work-orders/{id}/reviews/?period=2026-Q3`: a work order's service review as
JSON (the same figures as the page and the stored snapshot), or as PDF / CSV by content
negotiation (`Accept: application/pdf`, `text/csv`) or `format=pdf|csv`."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView, get_object_or_404
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from accounts.permissions import IsStaffOrCustomerReadOnly
from contracts.models import WorkOrder
from core.api.base import UtcMixin
from reviews import selectors, services
from reviews.periods import PeriodError, parse_period, previous_month
from reviews.render import render_pdf, review_context
from reviews.selectors import without_rule_numbers
from reviews.tables import build_tables, to_csv

KNOWN_PARAMS = {"period", "format", "table"}


class PDFRenderer(BaseRenderer):
    """Negotiation only: the view answers PDF itself (a rendered document, not data)."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


class CSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


class ReviewSerializer(serializers.Serializer):
    """The figures of reviews.figures.review_figures (documented shape, JSON data)."""

    schema = serializers.IntegerField()
    scope = serializers.ChoiceField(choices=["work_order", "customer"])
    stored = serializers.BooleanField(
        help_text="True when the period is finished and the review is stored (it will not change)."
    )
    stored_at = serializers.DateTimeField(allow_null=True)
    customer = serializers.DictField()
    work_orders = serializers.ListField(child=serializers.DictField())
    period = serializers.DictField(
        help_text="`key`, `kind` (month, quarter, term), `start`, `end`."
    )
    as_of = serializers.DateField()
    computed_at = serializers.DateTimeField()
    incidents = serializers.DictField(help_text="`total`, `by_severity`, `by_product`.")
    attainment = serializers.DictField(
        help_text="First responses met / missed / pending by month and severity; `percent` met of met+missed."
    )
    breaches = serializers.ListField(
        child=serializers.DictField(),
        help_text="Each missed first response with `explanation` per language.",
    )
    response_times = serializers.DictField(
        help_text="`median_minutes`, `p90_minutes` (nearest rank), overall and `by_severity`."
    )
    escalations = serializers.ListField(child=serializers.DictField())
    customer_misses = serializers.ListField(child=serializers.DictField())
    credits = serializers.DictField(
        help_text="Granted, redeemed (and `redeemed_by_service`), refunded, fees, expired, `cancelled`, `lapsed`, and per work order balances, `forecast_expiring` and `request_by` (R15)."
    )
    hours = serializers.ListField(
        child=serializers.DictField(), help_text="Per hour block: quantity, used, left, burn-down."
    )
    satisfaction = serializers.DictField(
        help_text="`collected` is false while ratings are not collected."
    )
    next_period = serializers.DictField(
        help_text="What expires, R15 cut-offs and scheduled redemptions in the next period."
    )


class WorkOrderReviewView(UtcMixin, GenericAPIView):
    """A work order's service review of a period (staff; the customer's own key)."""

    permission_classes = [IsStaffOrCustomerReadOnly]
    renderer_classes = [JSONRenderer, PDFRenderer, CSVRenderer]
    serializer_class = ReviewSerializer
    queryset = WorkOrder.objects.none()
    pagination_class = None
    filter_backends = []

    def perform_content_negotiation(self, request, force=False):
        # DRF answers an unknown `format` with a 404; it is bad input: 400 naming it.
        try:
            return super().perform_content_negotiation(request, force=force)
        except Http404 as exc:
            if force:
                raise
            raise serializers.ValidationError({"format": [_("Use json, pdf or csv.")]}) from exc

    def handle_exception(self, exc):
        # Errors are JSON whatever was asked for (API.md), never a PDF or CSV body.
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return super().handle_exception(exc)

    @extend_schema(
        operation_id="work_order_review",
        parameters=[
            OpenApiParameter(
                "period",
                OpenApiTypes.STR,
                description="`YYYY-MM` (a month), `YYYY-Qn` (a quarter) or `term` (term to date). "
                "Default: the last finished month.",
                examples=[],
            ),
            OpenApiParameter(
                "format",
                OpenApiTypes.STR,
                enum=["json", "pdf", "csv"],
                description="Instead of an Accept header: `pdf` for the whole review as a PDF, "
                "`csv` for its tables as CSV.",
            ),
            OpenApiParameter(
                "table",
                OpenApiTypes.STR,
                description="With CSV: one table by its key (e.g. `attainment`, `breaches`, "
                "`credits_by_service`, `hours`); all tables without it.",
            ),
        ],
        responses={
            (200, "application/json"): ReviewSerializer,
            (200, "application/pdf"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The review as a PDF."
            ),
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR, description="The review's tables as CSV."
            ),
            400: OpenApiResponse(description="An unknown period, table or query parameter."),
            404: OpenApiResponse(description="No such work order for this key."),
        },
    )
    def get(self, request, pk):
        unknown = sorted(set(request.query_params) - KNOWN_PARAMS)
        if unknown:
            raise serializers.ValidationError(
                {name: [_("Unknown query parameter.")] for name in unknown}
            )
        work_order = get_object_or_404(
            WorkOrder.objects.visible_to(request.user).select_related(
                "customer", "account_manager", "support_location"
            ),
            pk=pk,
        )
        today = selectors.business_today()
        try:
            period = parse_period(
                request.query_params.get("period") or previous_month(today).key,
                term_start=work_order.start_date,
                term_end=work_order.end_date,
                today=today,
            )
        except PeriodError as exc:
            raise serializers.ValidationError(
                {"period": [_("Use YYYY-MM, YYYY-Qn or term.")]}
            ) from exc
        fmt = request.accepted_renderer.format
        table = request.query_params.get("table")
        figures, stored = services.review_obtain(
            actor=request.user, period=period, work_order=work_order, today=today
        )
        staff = bool(getattr(request.user, "is_staff", False))
        name = f"service-review-{work_order.number}-{period.key}"
        if fmt == "pdf":
            response = HttpResponse(
                render_pdf(review_context(figures, staff=staff, stored=stored)),
                content_type="application/pdf",
            )
            response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
            return response
        if fmt == "csv":
            tables = build_tables(figures, staff=staff)
            if table is not None and table not in {t.key for t in tables}:
                raise serializers.ValidationError(
                    {
                        "table": [
                            _("Unknown table. Tables: %(keys)s.")
                            % {"keys": ", ".join(t.key for t in tables)}
                        ]
                    }
                )
            response = HttpResponse(
                to_csv(tables, key=table), content_type="text/csv; charset=utf-8"
            )
            response["Content-Disposition"] = (
                f'attachment; filename="{name}{"-" + table if table else ""}.csv"'
            )
            return response
        if table is not None:
            raise serializers.ValidationError({"table": [_("Only with format=csv.")]})
        if not staff:
            # Customers read plain words: the explanations without R-numbers (as on the page).
            figures = {
                **figures,
                "breaches": [
                    {
                        **b,
                        "explanation": {
                            lang: [without_rule_numbers(t) for t in texts]
                            for lang, texts in b["explanation"].items()
                        },
                    }
                    for b in figures["breaches"]
                ],
                # Staff's notes on escalations stay with staff (the page hides them too).
                "escalations": [{**e, "note": ""} for e in figures["escalations"]],
            }
        body = {
            **figures,
            "stored": stored is not None,
            "stored_at": stored.prepared_at if stored else None,
        }
        return Response(ReviewSerializer(body).data)
