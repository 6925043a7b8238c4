"""Admin of the service catalogue: staff edit rows through services.services.service_update."""

from django import forms
from django.contrib import admin

from core.admin_utils import DomainErrorsAdmin, add_domain_error, copy_fields
from core.errors import DomainError
from services.models import Service
from services.services import (
    EDITABLE_FIELD_ORDER,
    EDITABLE_FIELDS,
    check_quantity_bounds,
    service_update,
)


class ServiceForm(forms.ModelForm):
    class Meta:
        model = Service
        fields = ["code", *EDITABLE_FIELD_ORDER]

    def clean(self):
        data = super().clean()
        try:
            check_quantity_bounds(data.get("min_quantity"), data.get("max_quantity"))
        except DomainError as exc:
            add_domain_error(self, exc)
        return data


@admin.register(Service)
class ServiceAdmin(DomainErrorsAdmin):
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

    def save_model(self, request, obj, form, change):
        if not change:
            obj._history_user = request.user
            obj.save()
            return
        fields = {k: form.cleaned_data[k] for k in form.changed_data if k in EDITABLE_FIELDS}
        service = service_update(service=Service.objects.get(pk=obj.pk), by=request.user, **fields)
        copy_fields(obj, service)
