from django.contrib import admin

from reviews.models import ServiceReview


@admin.register(ServiceReview)
class ServiceReviewAdmin(admin.ModelAdmin):
    """Stored reviews, read-only: a finished period's review is never edited."""

    list_display = ("period_key", "customer", "work_order", "prepared_at", "notified_at")
    list_filter = ("period_key",)
    search_fields = ("customer__code", "customer__name", "work_order__number")
    date_hierarchy = "prepared_at"
    list_select_related = ("customer", "work_order")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # Administrators may delete one (e.g. a customer removed); the next read stores it anew.
        return request.user.is_superuser
