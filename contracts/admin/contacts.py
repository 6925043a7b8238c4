"""Admin of named contacts on their own (R1: the contact limit, unique e-mail per work
order); saves through contracts.services."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from contracts import rules
from contracts import services as contract_services
from contracts.models import NamedContact
from core.admin_utils import DomainErrorsAdmin, add_domain_error, copy_fields
from core.errors import DomainError


class NamedContactForm(forms.ModelForm):
    class Meta:
        model = NamedContact
        fields = ["work_order", "name", "email", "phone", "active", "is_lead", "user"]

    def clean(self):
        data = super().clean()
        work_order = data.get("work_order") or getattr(self.instance, "work_order", None)
        if work_order is None:
            return data
        pk = self.instance.pk
        try:
            if data.get("email"):
                data["email"] = rules.check_contact_email(
                    work_order=work_order, email=data["email"], exclude_pk=pk
                )
            was_active = pk is not None and NamedContact.objects.filter(pk=pk, active=True).exists()
            if data.get("active") and not was_active:
                rules.check_room_for_contact(work_order=work_order, exclude_pk=pk)
        except DomainError as exc:
            add_domain_error(self, exc)
        return data


@admin.register(NamedContact)
class NamedContactAdmin(DomainErrorsAdmin):
    form = NamedContactForm
    list_display = ["name", "email", "work_order", "customer", "active", "is_lead", "user"]
    list_filter = ["active", "is_lead", "work_order__package"]
    list_select_related = ["work_order__customer", "user"]
    search_fields = ["name", "email", "work_order__number", "work_order__customer__name"]
    autocomplete_fields = ["work_order"]
    raw_id_fields = ["user"]

    @admin.display(ordering="work_order__customer__name")
    def customer(self, obj):
        return obj.work_order.customer

    def get_readonly_fields(self, request, obj=None):
        return ["work_order", "version"] if obj else []

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            fields = {
                k: data[k] for k in form.changed_data if k in contract_services.CONTACT_FIELDS
            }
            contact = contract_services.named_contact_update(contact=obj, by=request.user, **fields)
        else:
            contact = contract_services.named_contact_add(
                work_order=data["work_order"],
                name=data["name"],
                email=data["email"],
                phone=data.get("phone", ""),
                active=data.get("active", True),
                is_lead=data.get("is_lead", False),
                user=data.get("user"),
                by=request.user,
            )
        copy_fields(obj, contact)
