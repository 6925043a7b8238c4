"""Staff admin: response targets are editable data (R4); incidents change only through
incidents.services, so their admin is a read-only view with history and timeline."""

from django.contrib import admin, messages
from simple_history.admin import SimpleHistoryAdmin

from incidents.models import (
    DeadlineEvent,
    DeadlineRecomputation,
    Incident,
    IncidentAttachment,
    IncidentEvent,
    ResponseTarget,
    SatisfactionRating,
    SeverityRequest,
)
from incidents.services import (
    incidents_recompute_deadlines,
    severity_request_decline,
)


@admin.register(ResponseTarget)
class ResponseTargetAdmin(SimpleHistoryAdmin):
    list_display = ["package", "severity", "rapid_response", "minutes", "clock", "note"]
    list_filter = ["package", "severity", "rapid_response", "clock"]
    actions = ["apply_to_open_incidents"]

    @admin.action(description="Apply to open, unresponded incidents using this target (R4)")
    def apply_to_open_incidents(self, request, queryset):
        # Saving a row moves no open incident's deadline (each carries a copy);
        # this explicit action is the only way an edit reaches them.
        moved = sum(incidents_recompute_deadlines(target=t, by=request.user) for t in queryset)
        self.message_user(request, f"{moved} open incident(s) recomputed.", messages.SUCCESS)


class IncidentEventInline(admin.TabularInline):
    model = IncidentEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "kind", "author_label", "from_customer", "internal", "body", "data"]
    readonly_fields = fields
    ordering = ["created_at", "id"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class DeadlineEventInline(admin.TabularInline):
    model = DeadlineEvent
    extra = 0
    can_delete = False
    fields = ["deadline", "threshold", "occurred_at", "recorded_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Incident)
class IncidentAdmin(SimpleHistoryAdmin):
    list_display = [
        "number",
        "title",
        "work_order",
        "severity",
        "status",
        "opened_at",
        "response_due_at",
        "responded_at",
        "response_breached",
        "next_deadline_at",
    ]
    list_filter = [
        "status",
        "severity",
        "response_breached",
        "channel",
        "is_cloud",
        "around_the_clock",
        "work_order__package",
    ]
    search_fields = [
        "number",
        "title",
        "external_reference",
        "work_order__number",
        "work_order__customer__code",
    ]
    list_select_related = ["work_order"]
    date_hierarchy = "opened_at"
    inlines = [IncidentEventInline, DeadlineEventInline]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Incident._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DeadlineRecomputation)
class DeadlineRecomputationAdmin(admin.ModelAdmin):
    list_display = ["started_at", "finished_at", "location", "target", "examined", "changed", "by"]
    list_select_related = ["location", "target", "by"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in DeadlineRecomputation._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class _ReadOnly(admin.ModelAdmin):
    """Rows written only by incidents.services: staff look, never edit here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SeverityRequest)
class SeverityRequestAdmin(_ReadOnly):
    """Customers' severity requests (R3); decided on the incident page, or declined here."""

    list_display = [
        "incident",
        "severity",
        "state",
        "requested_by_label",
        "created_at",
        "decided_by_label",
    ]
    list_filter = ["state", "severity"]
    search_fields = ["incident__number", "reason"]
    list_select_related = ["incident"]
    actions = ["decline_as_duplicate"]

    @admin.action(description="Decline: already handled on the incident (R3)")
    def decline_as_duplicate(self, request, queryset):
        done = 0
        for item in queryset.filter(state="open"):
            severity_request_decline(
                request=item, reason="Already handled on the incident.", by=request.user
            )
            done += 1
        self.message_user(request, f"{done} request(s) declined.", messages.SUCCESS)


@admin.register(IncidentAttachment)
class IncidentAttachmentAdmin(_ReadOnly):
    # No link to the file: downloads go through the scoped view only.
    list_display = [
        "name",
        "incident",
        "size",
        "content_type",
        "internal",
        "author_label",
        "created_at",
    ]
    list_filter = ["internal", "from_customer"]
    search_fields = ["name", "incident__number"]
    exclude = ["file"]
    list_select_related = ["incident"]


@admin.register(SatisfactionRating)
class SatisfactionRatingAdmin(_ReadOnly):
    list_display = ["incident", "score", "rated_at"]
    list_filter = ["score"]
    search_fields = ["incident__number", "comment"]
    list_select_related = ["incident"]
