"""Admin of the service catalogue: staff edit rows through services.service_update."""

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.http import HttpResponseRedirect
from simple_history.admin import SimpleHistoryAdmin

from portal.errors import DomainError
from services import services as catalogue
from services.models import Service


class ServiceForm(forms.ModelForm):
    class Meta:
        model = Service
        fields = [
            "code",
            "name",
            "category",
            "unit",
            "availability_core",
            "availability_advanced",
            "availability_performance",
            "min_quantity",
            "max_quantity",
            "is_hour_block",
            "notes",
        ]

    def clean(self):
        data = super().clean()
        low, high = data.get("min_quantity"), data.get("max_quantity")
        if low is not None and high is not None and low > high:
            self.add_error("max_quantity", "The minimum quantity cannot exceed the maximum (R12).")
        return data


@admin.register(Service)
class ServiceAdmin(SimpleHistoryAdmin):
    form = ServiceForm
    list_display = [
        "code",
        "name",
        "category",
        "unit",
        "availability_core",
        "availability_advanced",
        "availability_performance",
        "min_quantity",
        "max_quantity",
    ]
    list_filter = [
        "category",
        "unit",
        "availability_core",
        "availability_advanced",
        "availability_performance",
    ]
    search_fields = ["code", "name"]

    def get_readonly_fields(self, request, obj=None):
        # Codes are part of the API contract (API.md): set once, never changed.
        return ["code"] if obj else []

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            with transaction.atomic():
                return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as exc:
            self.message_user(request, exc.message, level=messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request, obj, form, change):
        if not change:
            obj._history_user = request.user
            obj.save()
            return
        fields = {
            k: form.cleaned_data[k] for k in form.changed_data if k in catalogue.EDITABLE_FIELDS
        }
        service = catalogue.service_update(
            service=Service.objects.get(pk=obj.pk), by=request.user, **fields
        )
        for field in Service._meta.concrete_fields:
            setattr(obj, field.attname, getattr(service, field.attname))
