"""Every path of API.md, under /api/v1/. Resources on one router; the nested
work-order paths of other apps are explicit so contracts never imports credits."""

from csp.decorators import csp_update
from django.http import JsonResponse
from django.urls import path, re_path
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
)
from rest_framework.routers import DefaultRouter

from contracts.api.views import CustomerViewSet, SupportLocationViewSet, WorkOrderViewSet
from credits.api.views import (
    RateViewSet,
    RedemptionViewSet,
    WorkOrderCreditsView,
    WorkOrderRedemptionViewSet,
    WorkOrderTimeEntryViewSet,
)
from incidents.api.views import IncidentViewSet, SeverityRequestViewSet
from notifications.api.views import WebhookViewSet
from reviews.api.views import WorkOrderReviewView
from services.api.views import ServiceViewSet


class Router(DefaultRouter):
    include_root_view = False
    # No "<path>.json" variants: API.md promises none, and custom actions without
    # **kwargs answered them with a 500 (found by tests/security/test_isolation.py).
    include_format_suffixes = False


router = Router()
router.register("services", ServiceViewSet, basename="service")
router.register("customers", CustomerViewSet, basename="customer")
router.register("work-orders", WorkOrderViewSet, basename="work-order")
router.register("locations", SupportLocationViewSet, basename="location")
router.register("rates", RateViewSet, basename="rate")
router.register("redemptions", RedemptionViewSet, basename="redemption")
router.register("incidents", IncidentViewSet, basename="incident")
router.register("severity-requests", SeverityRequestViewSet, basename="severity-request")

webhooks = WebhookViewSet.as_view({"get": "list", "post": "create", "delete": "bulk_destroy"})
webhook = WebhookViewSet.as_view({"get": "retrieve", "delete": "destroy"})
webhook_deliveries = WebhookViewSet.as_view({"get": "deliveries"})
webhook_redeliver = WebhookViewSet.as_view({"post": "redeliver"})
work_order_redemptions = WorkOrderRedemptionViewSet.as_view({"get": "list", "post": "create"})
work_order_time_entries = WorkOrderTimeEntryViewSet.as_view({"get": "list", "post": "create"})


@csrf_exempt  # any method: a PATCH or DELETE to an unknown path is a JSON 404, not a CSRF page
def not_found(request, *args, **kwargs):
    """API.md: JSON in and out, errors included; an unknown path under /api/v1/ is a
    JSON 404, not the site's HTML page. Only paths ending in a slash match, so Django's
    APPEND_SLASH still sends `/api/v1/incidents` on to `/api/v1/incidents/`."""
    # DRF's own message (and its translations), as on every other API 404.
    return JsonResponse({"detail": _("Not found.")}, status=404)


REFERENCE = csp_update({"style-src": ["'unsafe-inline'"], "worker-src": ["'self'", "blob:"]})(
    SpectacularRedocView.as_view(url_name="api-schema")
)

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The browsable reference is Redoc (templates/drf_spectacular/redoc.html: served from
    # this host, lang="en"). Swagger UI failed axe-core on every page view (67 contrast
    # failures, buttons inside buttons) and is not served (issue #19). Redoc injects
    # <style> elements: allowed on this page only.
    path("docs/", REFERENCE, name="api-docs"),
    path("redoc/", REFERENCE, name="api-redoc"),
    path(
        "work-orders/<str:pk>/credits/", WorkOrderCreditsView.as_view(), name="work-order-credits"
    ),
    path(
        "work-orders/<str:pk>/redemptions/", work_order_redemptions, name="work-order-redemptions"
    ),
    path(
        "work-orders/<str:pk>/time-entries/",
        work_order_time_entries,
        name="work-order-time-entries",
    ),
    path("work-orders/<str:pk>/reviews/", WorkOrderReviewView.as_view(), name="work-order-reviews"),
    path("webhooks/", webhooks, name="webhook-list"),
    path("webhooks/<str:pk>/", webhook, name="webhook-detail"),
    path("webhooks/<str:pk>/deliveries/", webhook_deliveries, name="webhook-deliveries"),
    path(
        "webhooks/<str:pk>/deliveries/<str:delivery_id>/redeliver/",
        webhook_redeliver,
        name="webhook-redeliver",
    ),
    *router.urls,
    # Last: whatever no route above took.
    re_path(r"^.*/$", not_found, name="api-not-found"),
]
