"""Web pages of the incidents app, mounted at /incidents/ by portal.urls."""

from django.urls import path

from incidents import desk_actions, desk_views, views

app_name = "incidents"

urlpatterns = [
    path("", desk_views.incident_list, name="list"),
    path("marker/", desk_views.queue_marker, name="queue_marker"),
    path("views/", desk_views.saved_view_save, name="view_save"),
    path("views/<int:pk>/delete/", desk_views.saved_view_delete, name="view_delete"),
    path("bulk/", desk_views.queue_bulk, name="bulk"),
    path("ratings/", desk_views.ratings, name="ratings"),
    path("<int:pk>/marker/", desk_actions.incident_marker, name="marker"),
    path("<int:pk>/attach/", desk_actions.incident_attach, name="attach"),
    path(
        "<int:pk>/attachments/<int:attachment_id>/",
        desk_actions.attachment_download,
        name="attachment",
    ),
    path("<int:pk>/assign/", desk_actions.incident_assign, name="assign"),
    path(
        "<int:pk>/severity-requests/<int:request_id>/",
        desk_actions.severity_request_decide,
        name="severity_request",
    ),
    path(
        "<int:pk>/change-control/",
        desk_actions.incident_grant_change_control,
        name="change_control",
    ),
    path(
        "<int:pk>/critical-situation/",
        desk_actions.incident_assign_critical_situation,
        name="critical_situation",
    ),
    path("<int:pk>/effort/", desk_actions.incident_log_effort, name="effort"),
    path("<int:pk>/solved/", desk_actions.incident_mark_solved, name="solved"),
    path("<int:pk>/rate/", desk_actions.incident_rate, name="rate"),
    path("new/", views.incident_create, name="create"),
    path("new/preview/", views.incident_preview, name="preview"),
    path("<int:pk>/", views.incident_detail, name="detail"),
    path("<int:pk>/comment/", desk_actions.incident_comment, name="comment"),
    path("<int:pk>/severity/", views.incident_severity, name="severity"),
    path("<int:pk>/status/", views.incident_status, name="status"),
    path("<int:pk>/respond/", views.incident_respond, name="respond"),
    path("<int:pk>/onsite/", views.incident_request_onsite, name="onsite"),
    path("<int:pk>/product-team/", views.incident_escalate_to_product_team, name="product_team"),
    path("<int:pk>/rsm/", views.incident_request_rsm, name="rsm"),
]
