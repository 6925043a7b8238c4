"""Web pages of the contracts app (staff): mounted at the site root by portal.urls."""

from django.urls import path

from contracts import views
from contracts.views import lifecycle

app_name = "contracts"

urlpatterns = [
    path("customers/", views.customer_list, name="customer_list"),
    path("customers/new/", views.customer_create, name="customer_create"),
    path("customers/<int:pk>/", views.customer_detail, name="customer_detail"),
    path("work-orders/", views.work_order_list, name="work_order_list"),
    path("work-orders/new/", views.work_order_create, name="work_order_create"),
    path("work-orders/<int:pk>/edit/", views.work_order_edit, name="work_order_edit"),
    path("work-orders/<int:pk>/history/", views.work_order_history, name="work_order_history"),
    path(
        "work-orders/<int:pk>/terminate/", views.work_order_terminate, name="work_order_terminate"
    ),
    path("work-orders/<int:pk>/lines/", views.line_add, name="line_add"),
    path("work-orders/<int:pk>/contacts/", views.contact_add, name="contact_add"),
    path("work-orders/<int:pk>/location/", views.location_update, name="location_update"),
    path("work-orders/<int:pk>/location/closures/", views.closure_set, name="closure_set"),
    path("work-orders/<int:pk>/location/preview/", views.location_preview, name="location_preview"),
    path("lines/<int:pk>/quantity/", views.line_update, name="line_update"),
    path("lines/<int:pk>/remove/", views.line_remove, name="line_remove"),
    path("contacts/<int:pk>/", views.contact_edit, name="contact_edit"),
    path("customers/<int:pk>/edit/", lifecycle.customer_edit, name="customer_edit"),
    path("contacts/<int:pk>/invite/", lifecycle.contact_invite, name="contact_invite"),
    path("contacts/<int:pk>/deactivate/", lifecycle.contact_deactivate, name="contact_deactivate"),
    path(
        "work-orders/<int:pk>/contacts/import/", lifecycle.contacts_import, name="contacts_import"
    ),
    path(
        "work-orders/<int:pk>/contacts/proposals/",
        lifecycle.contact_proposals,
        name="contact_proposals",
    ),
    path(
        "work-orders/<int:pk>/contacts/propose/", lifecycle.contact_propose, name="contact_propose"
    ),
    path("work-orders/<int:pk>/renew/", lifecycle.work_order_renew, name="work_order_renew"),
    path(
        "lines/<int:pk>/remove/confirm/", lifecycle.line_remove_confirm, name="line_remove_confirm"
    ),
    path("invitations/<str:token>/", lifecycle.invitation_accept, name="invitation_accept"),
]
