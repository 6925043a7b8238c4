"""Admin for people and API keys. A new key is shown once; only its hash is stored."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts import services as account_services
from accounts.models import ApiKey, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        ("Portal", {"fields": ("role", "customer", "language", "time_zone")}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        ("Portal", {"fields": ("email", "role", "customer")}),
    )
    list_display = [
        "username",
        "email",
        "first_name",
        "last_name",
        "role",
        "customer",
        "is_staff",
        "is_active",
    ]
    list_filter = ["role", "is_staff", "is_superuser", "is_active", "customer"]
    list_select_related = ["customer"]
    search_fields = [
        "username",
        "email",
        "first_name",
        "last_name",
        "customer__name",
        "customer__code",
    ]
    autocomplete_fields = ["customer"]


class ApiKeyForm(forms.ModelForm):
    class Meta:
        model = ApiKey
        fields = ["name", "customer"]
        help_texts = {
            "customer": _("Empty: the key acts as staff. The key is shown once, after saving.")
        }


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    form = ApiKeyForm
    list_display = [
        "name",
        "prefix",
        "customer",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter), "customer"]
    list_select_related = ["customer", "created_by"]
    search_fields = ["name", "prefix", "customer__name", "customer__code"]
    autocomplete_fields = ["customer"]
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [
            "name",
            "customer",
            "prefix",
            "created_by",
            "created_at",
            "last_used_at",
            "revoked_at",
        ]

    def save_model(self, request, obj, form, change):
        if change:
            return  # nothing on a key is editable; revoke it instead
        key, raw = account_services.api_key_create(
            name=form.cleaned_data["name"],
            customer=form.cleaned_data.get("customer"),
            by=request.user,
        )
        for field in ApiKey._meta.concrete_fields:
            setattr(obj, field.attname, getattr(key, field.attname))
        obj._state.adding = False
        messages.success(
            request,
            _("New API key %(name)s: %(key)s — copy it now; it will not be shown again.")
            % {"name": key.name, "key": raw},
        )

    @admin.action(description=_("Revoke the selected API keys"))
    def revoke(self, request, queryset):
        for key in queryset:
            account_services.api_key_revoke(key=key, by=request.user)
        count = queryset.count()
        self.message_user(
            request,
            ngettext("%(count)s key revoked.", "%(count)s keys revoked.", count) % {"count": count},
        )
