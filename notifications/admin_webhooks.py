"""Admin for webhooks: subscriptions, deliveries with their attempt log (every
attempt visible to staff) and a "redeliver" action. Imported by notifications/admin.py."""

from django.contrib import admin, messages

from notifications.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from notifications.webhooks import webhook_redeliver


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["url", "customer", "events", "active", "created_at"]
    list_filter = ["active"]
    search_fields = ["url", "customer__code"]
    # The secret signs deliveries; staff never need to read it back.
    exclude = ["secret"]
    readonly_fields = ["created_at", "created_by", "api_key"]


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = ["attempted_at", "status_code", "error", "duration_ms"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "delivery_id",
        "event",
        "subscription",
        "state",
        "attempts",
        "next_attempt_at",
        "delivered_at",
    ]
    list_filter = ["state", "event"]
    search_fields = ["delivery_id", "subscription__url"]
    list_select_related = ["subscription"]
    readonly_fields = [
        "delivery_id",
        "subscription",
        "outbox",
        "event",
        "payload",
        "state",
        "attempts",
        "next_attempt_at",
        "created_at",
        "delivered_at",
    ]
    inlines = [WebhookAttemptInline]
    actions = ["redeliver"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Redeliver now (same X-Portal-Delivery id)")
    def redeliver(self, request, queryset):
        ok = failed = 0
        for delivery in queryset[:100]:
            log = webhook_redeliver(delivery=delivery, by=request.user)
            if log.status_code and 200 <= log.status_code < 300:
                ok += 1
            else:
                failed += 1
        self.message_user(
            request,
            f"Redelivered {ok}; {failed} failed (see the attempt log).",
            messages.SUCCESS if not failed else messages.WARNING,
        )
