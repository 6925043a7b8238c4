"""Web pages of the incidents app, mounted at /incidents/ by portal.urls."""

from django.urls import path

from incidents import views

app_name = "incidents"

urlpatterns = [
    path("", views.incident_list, name="list"),
    path("new/", views.incident_create, name="create"),
    path("new/preview/", views.incident_preview, name="preview"),
    path("<int:pk>/", views.incident_detail, name="detail"),
    path("<int:pk>/comment/", views.incident_comment, name="comment"),
    path("<int:pk>/severity/", views.incident_severity, name="severity"),
    path("<int:pk>/status/", views.incident_status, name="status"),
    path("<int:pk>/respond/", views.incident_respond, name="respond"),
    path("<int:pk>/onsite/", views.incident_request_onsite, name="onsite"),
    path("<int:pk>/product-team/", views.incident_escalate_to_product_team, name="product_team"),
    path("<int:pk>/rsm/", views.incident_request_rsm, name="rsm"),
]
