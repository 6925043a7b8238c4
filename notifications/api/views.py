"""`/webhooks/`: a customer's key manages its own customer's subscriptions; staff
manage all (a staff subscription without customer receives every customer's events).

DELETE works on `/webhooks/{id}/` and, as API.md lists DELETE on the collection, on
`/webhooks/?id=<id>` or `/webhooks/?url=<url>` (a filter is required)."""

import uuid

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from accounts.permissions import IsStaffEditorOrReadOnly
from contracts.models import Customer
from core.api.base import IdempotentCreateMixin, PortalViewSet, reject_unknown_fields
from core.api.filters import StrictBooleanFilter
from core.api.sync import sync_queryset
from core.scoping import actor_is_staff
from notifications.api.serializers import (
    WebhookDeliverySerializer,
    WebhookSubscriptionCreatedSerializer,
    WebhookSubscriptionSerializer,
    new_secret,
)
from notifications.models import WebhookDelivery, WebhookSubscription
from notifications.webhooks import webhook_redeliver, webhook_subscribe


class WebhookSubscriptionFilterSet(django_filters.FilterSet):
    active = StrictBooleanFilter()

    class Meta:
        model = WebhookSubscription
        fields = ["active", "url"]


class WebhookViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, IdempotentCreateMixin, PortalViewSet
):
    queryset = WebhookSubscription.objects.all()
    serializer_class = WebhookSubscriptionSerializer
    permission_classes = [IsStaffEditorOrReadOnly]
    filterset_class = WebhookSubscriptionFilterSet
    extra_query_params = {"bulk_destroy": ("id", "url")}
    list_actions = ("deliveries",)
    list_models = {"deliveries": WebhookDelivery}

    @extend_schema(
        responses={200: WebhookDeliverySerializer(many=True)},
        summary="Deliveries of a subscription and their attempts (status code, time, error)",
    )
    def deliveries(self, request, pk=None):
        subscription = self.get_object()  # the one door: another customer's is 404
        qs = (
            WebhookDelivery.objects.filter(subscription=subscription)
            .prefetch_related("attempt_log")
            .order_by("-created_at", "-id")
        )
        qs = sync_queryset(qs, request, self)
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)

    @extend_schema(
        request=None,
        responses={200: WebhookDeliverySerializer},
        summary="Send a delivery again now (same X-Portal-Delivery id, a new attempt)",
    )
    def redeliver(self, request, pk=None, delivery_id=None):
        subscription = self.get_object()
        try:
            delivery = WebhookDelivery.objects.get(
                subscription=subscription, delivery_id=uuid.UUID(str(delivery_id))
            )
        except (ValueError, WebhookDelivery.DoesNotExist) as exc:
            raise NotFound() from exc
        if request.data:
            reject_unknown_fields(WebhookDeliverySerializer(), request.data)
        webhook_redeliver(delivery=delivery, by=self.actor)
        delivery = WebhookDelivery.objects.prefetch_related("attempt_log").get(pk=delivery.pk)
        return Response(WebhookDeliverySerializer(delivery).data)

    select_related = ("customer",)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        customer = data.pop("customer", None)
        if not actor_is_staff(self.actor):
            # A customer's key subscribes for its own customer, whatever it sends.
            customer = Customer.objects.get(pk=self.actor_customer_id)
        data.setdefault("secret", new_secret())
        return webhook_subscribe(customer=customer, by=self.actor, **data)

    def get_output_serializer(self, instance):
        return WebhookSubscriptionCreatedSerializer(instance, context=self.get_serializer_context())

    @extend_schema(responses={201: WebhookSubscriptionCreatedSerializer})
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    def destroy(self, request, pk=None):
        subscription = self.get_object()
        subscription.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        parameters=[
            OpenApiParameter("id", OpenApiTypes.INT, description="The subscription to delete."),
            OpenApiParameter(
                "url", OpenApiTypes.URI, description="Delete the subscriptions with this URL."
            ),
        ],
        responses={204: None},
        summary="Delete subscriptions by id or url (one of them is required)",
        operation_id="webhooks_delete_by_query",
    )
    def bulk_destroy(self, request):
        params = request.query_params
        if not params.get("id") and not params.get("url"):
            raise ValidationError({"id": ["Give ?id=<subscription id> or ?url=<url>."]})
        qs = self.get_queryset()
        if params.get("id"):
            if not params["id"].isdigit() or len(params["id"]) > 18:
                raise ValidationError({"id": ["Must be an integer."]})
            get_object_or_404(qs, pk=int(params["id"])).delete()
        else:
            deleted, _ = qs.filter(url=params["url"]).delete()
            if not deleted:
                return Response(
                    {"detail": "No such subscription."}, status=status.HTTP_404_NOT_FOUND
                )
        return Response(status=status.HTTP_204_NO_CONTENT)
