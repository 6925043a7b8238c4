from django.contrib import admin
from django.urls import include, path

from accounts.views import ThrottledPasswordResetView
from portal import health, ops, views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("ops/", ops.ops_dashboard, name="ops"),
    path("admin/", admin.site.urls),
    # Before auth's own URLs: the reset form with a per-address and per-client throttle.
    path(
        "accounts/password_reset/",
        ThrottledPasswordResetView.as_view(),
        name="password_reset",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("portal.api.urls")),
    # Web portal (server-rendered pages).
    path("preferences/", views.preferences, name="preferences"),
    path("work-orders/<int:pk>/", views.work_order_overview, name="work_order_overview"),
    path("", include("contracts.urls")),
    path("incidents/", include("incidents.urls")),
    path("credits/", include("credits.urls")),
    path("reviews/", include("reviews.urls")),
]
