"""Web pages of service reviews, mounted at /reviews/ by portal.urls."""

from django.urls import path

from reviews import views

app_name = "reviews"

urlpatterns = [
    path("overview/", views.overview, name="overview"),
    path("work-orders/<int:pk>/", views.work_order_review, name="work_order"),
    path(
        "work-orders/<int:pk>/pdf/",
        views.work_order_review,
        {"fmt": "pdf"},
        name="work_order_pdf",
    ),
    path(
        "work-orders/<int:pk>/csv/",
        views.work_order_review,
        {"fmt": "csv"},
        name="work_order_csv",
    ),
    path("customers/<int:pk>/", views.customer_review, name="customer"),
    path("customers/<int:pk>/pdf/", views.customer_review, {"fmt": "pdf"}, name="customer_pdf"),
    path("customers/<int:pk>/csv/", views.customer_review, {"fmt": "csv"}, name="customer_csv"),
]
