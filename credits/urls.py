"""Web pages of the credits app, mounted at /credits/ by portal.urls."""

from django.urls import path

from credits import views, views_corrections, views_term

app_name = "credits"

urlpatterns = [
    path("work-orders/<int:pk>/redeem/", views.redeem, name="redeem"),
    path("redemptions/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("redemptions/<int:pk>/reschedule/", views.reschedule, name="reschedule"),
    path("redemptions/<int:pk>/deliver/", views.deliver, name="deliver"),
    path("work-orders/<int:pk>/shortfall/", views.shortfall, name="shortfall"),
    # The invoice is posted (void-invoice) and looked up within the work order.
    path("work-orders/<int:pk>/shortfall/void/", views.shortfall_void, name="shortfall_void"),
    path("customers/<int:customer_pk>/rates/", views.rates, name="rates"),
    path("customers/<int:customer_pk>/rates/new/", views.rate_add, name="rate_add"),
    path("work-orders/<int:pk>/hours/", views_corrections.hours, name="hours"),
    path("work-orders/<int:pk>/adjust/", views_corrections.adjust, name="adjust"),
    path(
        "work-orders/<int:pk>/sa-conversion/", views_corrections.sa_conversion, name="sa_conversion"
    ),
    path("work-orders/<int:pk>/engagements/", views_corrections.engagements, name="engagements"),
    path(
        "work-orders/<int:pk>/vendor-consent/",
        views_corrections.vendor_consent,
        name="vendor_consent",
    ),
    path("redemptions/<int:pk>/exchange/", views_corrections.exchange, name="exchange"),
    path("work-orders/<int:pk>/extend/", views_term.work_order_extend, name="work_order_extend"),
    path(
        "work-orders/<int:pk>/terminate/confirm/",
        views_term.terminate_confirm,
        name="terminate_confirm",
    ),
]
