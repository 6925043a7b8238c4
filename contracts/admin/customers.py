"""Admin of customers and their support locations (with closure days): forms that run
the contracts.rules checks, saves through contracts.services."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages

from contracts import rules
from contracts import services as contract_services
from contracts.models import ClosureDay, Customer, SupportLocation
from core.admin_utils import DomainErrorsAdmin, add_domain_error, copy_fields
from core.errors import DomainError


class CustomerForm(forms.ModelForm):
    class Meta:
        model = Customer
        fields = ["code", "name", "country", "timezone", "language"]

    def clean(self):
        data = super().clean()
        for check, field in ((rules.check_country, "country"), (rules.check_timezone, "timezone")):
            if data.get(field):
                try:
                    check(data[field])
                except DomainError as exc:
                    add_domain_error(self, exc)
        return data


@admin.register(Customer)
class CustomerAdmin(DomainErrorsAdmin):
    form = CustomerForm
    list_display = ["code", "name", "country", "timezone", "language", "created_at"]
    list_filter = ["country", "language"]
    search_fields = ["code", "name"]

    def get_readonly_fields(self, request, obj=None):
        # The code is the customer's name in the API (API.md): it never changes.
        return ["code", "created_at"] if obj else ["created_at"]

    def save_model(self, request, obj, form, change):
        if change:
            rules.stamp(obj, request.user).save()
            return
        data = form.cleaned_data
        customer = contract_services.customer_create(
            code=data["code"],
            name=data["name"],
            country=data["country"],
            timezone=data["timezone"],
            language=data.get("language") or "en",
            by=request.user,
        )
        copy_fields(obj, customer)


class SupportLocationForm(forms.ModelForm):
    class Meta:
        model = SupportLocation
        fields = [
            "customer",
            "name",
            "country",
            "subdivision",
            "timezone",
            "opens_at",
            "closes_at",
            "weekdays",
            "weekday_hours",
        ]
        help_texts = {
            "weekday_hours": 'Per weekday (0=Monday), e.g. {"0": ["08:30", "17:30"], '
            '"4": ["08:30", "16:00"]}; a weekday left out is closed. Empty: the same '
            "hours on each of the weekdays above."
        }

    def clean(self):
        data = super().clean()
        try:
            if data.get("country"):
                rules.check_country(data["country"])
            if data.get("timezone"):
                rules.check_timezone(data["timezone"])
            if data.get("weekday_hours"):
                data["weekday_hours"] = contract_services.weekday_hours_from(data["weekday_hours"])
            else:
                data["weekday_hours"] = None
                contract_services.check_opening_hours(
                    {
                        k: data.get(k)
                        for k in ("opens_at", "closes_at", "weekdays")
                        if data.get(k) is not None
                    }
                )
        except DomainError as exc:
            add_domain_error(self, exc)
        return data


class ClosureDayInline(admin.TabularInline):
    model = ClosureDay
    fields = ["date", "name", "source", "is_closed"]
    readonly_fields = ["source"]
    extra = 1
    # Reopen a holiday with is_closed=False instead: a deleted one would be copied back.
    can_delete = False


@admin.register(SupportLocation)
class SupportLocationAdmin(DomainErrorsAdmin):
    form = SupportLocationForm
    inlines = [ClosureDayInline]
    list_display = [
        "name",
        "customer",
        "country",
        "subdivision",
        "timezone",
        "opens_at",
        "closes_at",
        "calendar_version",
    ]
    list_filter = ["country", "timezone"]
    list_select_related = ["customer"]
    search_fields = ["name", "customer__name", "customer__code"]
    autocomplete_fields = ["customer"]
    readonly_fields = ["calendar_version"]
    actions = ["sync_holidays"]

    def get_readonly_fields(self, request, obj=None):
        return ["customer", "calendar_version"] if obj else ["calendar_version"]

    def save_model(self, request, obj, form, change):
        data = {k: form.cleaned_data[k] for k in form.cleaned_data if k != "customer"}
        if change:
            location = contract_services.support_location_update(
                location=obj,
                by=request.user,
                **{k: data[k] for k in form.changed_data if k in data},
            )
        else:
            location = contract_services.support_location_create(
                customer=form.cleaned_data["customer"], by=request.user, **data
            )
        copy_fields(obj, location)

    def save_formset(self, request, form, formset, change):
        if formset.model is not ClosureDay:
            return super().save_formset(request, form, formset, change)
        formset.save(commit=False)
        saved = []
        for day in [*(obj for obj, _ in formset.changed_objects), *formset.new_objects]:
            saved.append(
                contract_services.closure_day_set(
                    location=form.instance,
                    date=day.date,
                    name=day.name,
                    is_closed=day.is_closed,
                    by=request.user,
                )
            )
        formset.new_objects = [
            d for d in saved if d.pk not in {o.pk for o, _ in formset.changed_objects}
        ]

    @admin.action(description="Copy public holidays (this year and the next two)")
    def sync_holidays(self, request, queryset):
        year = contract_services.timezone_now_year()
        total = 0
        for location in queryset:
            try:
                total += contract_services.support_location_sync_holidays(
                    location=location,
                    years=range(year, year + contract_services.HOLIDAY_YEARS),
                    by=request.user,
                )
            except DomainError as exc:
                self.message_user(request, f"{location}: {exc.message}", level=messages.ERROR)
        self.message_user(request, f"{total} closure days added.")
