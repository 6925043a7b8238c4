"""Admin of work orders with their lines and named contacts inline (R1, R12, R13, R14),
and the read-only list of lines; saves through contracts.services."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext
from simple_history.admin import SimpleHistoryAdmin

from contracts import rules
from contracts import services as contract_services
from contracts.choices import DEFAULT_CONTACT_LIMITS, WorkOrderStatus
from contracts.models import NamedContact, WorkOrder, WorkOrderLine
from core.admin_utils import DomainErrorsAdmin, ReadOnlyAdminMixin, add_domain_error, copy_fields
from core.errors import DomainError


class WorkOrderForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    # R14: a later end date says what happens to the unused credits and hours.
    unused_entitlements = forms.ChoiceField(
        required=False,
        choices=[
            ("", "—"),
            ("expire", "Extending: unused credits and hours expire now"),
            ("keep", "Extending: unused credits and hours are kept (give a reason)"),
        ],
        help_text="R14: asked only when the end date moves later.",
    )
    extension_reason = forms.CharField(required=False, max_length=200)

    class Meta:
        model = WorkOrder
        # The service's editable fields in their order, with the customer after the number
        # (set once, at creation) and the version the change form carries.
        fields = [
            contract_services.WORK_ORDER_FIELDS[0],
            "customer",
            *contract_services.WORK_ORDER_FIELDS[1:],
            "version",
        ]
        help_texts = {
            "named_contact_limit": "R1: Core at most 10; Advanced 50 or more; Performance empty (unlimited). "
            "Left empty on a new work order, or when the package changes, it takes the package's default."
        }

    def clean(self):
        data = super().clean()
        package = data.get("package") or self.instance.package
        if not package:
            return data
        is_new = self.instance._state.adding
        if ("package" in self.changed_data and "named_contact_limit" not in self.changed_data) or (
            is_new and data.get("named_contact_limit") is None
        ):
            data["named_contact_limit"] = DEFAULT_CONTACT_LIMITS[package]
            self.instance.named_contact_limit = data["named_contact_limit"]
        customer = data.get("customer") if is_new else self.instance.customer
        try:
            if data.get("start_date") and data.get("end_date"):
                rules.check_term(data["start_date"], data["end_date"])
            active = 0 if is_new else self.instance.contacts.filter(active=True).count()
            rules.check_contact_limit_value(
                package=package, limit=data.get("named_contact_limit"), active_count=active
            )
            if customer is not None:
                rules.check_location(customer.pk, data.get("support_location"))
        except DomainError as exc:
            add_domain_error(self, exc)
        if (
            not is_new
            and data.get("end_date")
            and "end_date" in self.changed_data
            and data["end_date"] > WorkOrder.objects.get(pk=self.instance.pk).end_date
            and not data.get("unused_entitlements")
        ):
            unused = contract_services.unused_entitlements(self.instance)
            if unused["hours"] > 0 or unused["credit_lines"]:
                self.add_error(
                    "unused_entitlements",
                    gettext(
                        "R14: the term is extended; say whether unused credits and hours "
                        "expire now or are kept."
                    ),
                )
        if not is_new and data.get("version") is not None:
            if not WorkOrder.objects.filter(pk=self.instance.pk, version=data["version"]).exists():
                raise forms.ValidationError(
                    gettext(
                        "This work order was changed by someone else meanwhile; "
                        "reload the page and try again."
                    )
                )
        return data


class AdminInlineFormSet(forms.BaseInlineFormSet):
    #: Set per request by the inline's get_formset: R12 overrides need a staff actor.
    request = None

    def live_forms(self):
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or not form.cleaned_data:
                continue
            if self.can_delete and self._should_delete_form(form):
                continue
            yield form


class LineFormSet(AdminInlineFormSet):
    def clean(self):
        super().clean()
        work_order = self.instance
        package_changed = work_order.pk is not None and (
            not WorkOrder.objects.filter(pk=work_order.pk, package=work_order.package).exists()
        )
        for form in self.live_forms():
            existing = form.instance.pk is not None
            if existing and "service" in form.changed_data:
                form.add_error(
                    "service", "Remove the line and add a new one to change its service."
                )
                continue
            if existing and not form.has_changed() and not package_changed:
                continue
            data = form.cleaned_data
            try:
                rules.check_line(
                    work_order=work_order,
                    service=data["service"],
                    quantity=data.get("quantity"),
                    bounds_override=data.get("bounds_override", False),
                    override_reason=data.get("override_reason", ""),
                    by=self.request.user if self.request else None,
                )
            except DomainError as exc:
                add_domain_error(form, exc)


class ContactFormSet(AdminInlineFormSet):
    def clean(self):
        super().clean()
        work_order = self.instance
        emails: set[str] = set()
        active = 0
        seen = set()
        for form in self.live_forms():
            data = form.cleaned_data
            seen.add(form.instance.pk)
            try:
                email = rules.check_contact_email(
                    work_order=work_order, email=data.get("email", ""), exclude_pk=form.instance.pk
                )
            except DomainError as exc:
                add_domain_error(form, exc)
                continue
            if email in emails:
                form.add_error("email", f"{email} appears twice.")
            emails.add(email)
            active += 1 if data.get("active") else 0
        if work_order.pk is not None:
            active += (
                work_order.contacts.filter(active=True)
                .exclude(pk__in=[p for p in seen if p])
                .count()
            )
        limit = work_order.named_contact_limit
        if limit is not None and active > limit:
            raise forms.ValidationError(
                gettext(
                    "R1: this work order allows at most %(limit)s active named contacts; "
                    "%(active)s would be active."
                )
                % {"limit": limit, "active": active}
            )


class RequestFormSetMixin:
    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        return type(formset.__name__, (formset,), {"request": request})


class WorkOrderLineInline(RequestFormSetMixin, admin.TabularInline):
    model = WorkOrderLine
    formset = LineFormSet
    fields = [
        "service",
        "quantity",
        "unit",
        "used",
        "bounds_override",
        "override_reason",
        "override_by",
        "ends_on",
    ]
    readonly_fields = ["unit", "used", "override_by", "ends_on"]
    autocomplete_fields = ["service"]
    extra = 0


class NamedContactInline(RequestFormSetMixin, admin.TabularInline):
    model = NamedContact
    formset = ContactFormSet
    fields = ["name", "email", "phone", "active", "is_lead", "user"]
    raw_id_fields = ["user"]
    extra = 0
    # Deactivate instead of deleting: the history of who could file incidents stays (R25).
    can_delete = False


class StatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return WorkOrderStatus.choices

    def queryset(self, request, queryset):
        if self.value() in WorkOrderStatus.values:
            return queryset.filter(status_code=self.value())
        return queryset


@admin.register(WorkOrder)
class WorkOrderAdmin(DomainErrorsAdmin):
    form = WorkOrderForm
    inlines = [WorkOrderLineInline, NamedContactInline]
    list_display = [
        "number",
        "customer",
        "package",
        "status_display",
        "start_date",
        "end_date",
        "account_manager",
    ]
    list_filter = ["package", StatusFilter, "end_date"]
    list_select_related = ["customer", "account_manager"]
    search_fields = ["number", "customer__name", "customer__code", "products"]
    autocomplete_fields = ["customer", "account_manager", "support_location"]
    actions = ["terminate"]

    def get_queryset(self, request):
        return super().get_queryset(request).with_status()

    @admin.display(description="status", ordering="status_code")
    def status_display(self, obj):
        return WorkOrderStatus(obj.status_code).label

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["customer", "terminated_at", "created_at", "updated_at"]

    def get_changeform_initial_data(self, request):
        return {"version": 1, **super().get_changeform_initial_data(request)}

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        editable = contract_services.WORK_ORDER_FIELDS
        if change:
            fields = {k: data[k] for k in form.changed_data if k in editable}
            if "package" in fields:
                fields.setdefault("named_contact_limit", data.get("named_contact_limit"))
            target = obj
            if "end_date" in fields and data.get("unused_entitlements"):
                target = contract_services.work_order_extend(
                    work_order=obj,
                    end_date=fields.pop("end_date"),
                    unused=data["unused_entitlements"],
                    reason=data.get("extension_reason") or "admin",
                    by=request.user,
                )
                data["version"] = None
            work_order = contract_services.work_order_update(
                work_order=target, expected_version=data.get("version"), by=request.user, **fields
            )
        else:
            fields = {k: data[k] for k in editable if k in data}
            work_order = contract_services.work_order_create(
                customer=data["customer"], by=request.user, **fields
            )
        copy_fields(obj, work_order)

    def save_formset(self, request, form, formset, change):
        formset.save(commit=False)
        user = request.user
        work_order = form.instance
        if formset.model is WorkOrderLine:
            for line in formset.deleted_objects:
                contract_services.work_order_line_remove(line=line, by=user)
            for line, _changed in formset.changed_objects:
                contract_services.work_order_line_update(
                    line=line,
                    quantity=line.quantity,
                    bounds_override=line.bounds_override,
                    override_reason=line.override_reason,
                    by=user,
                )
            formset.new_objects = [
                contract_services.work_order_line_add(
                    work_order=work_order,
                    service=line.service,
                    quantity=line.quantity,
                    bounds_override=line.bounds_override,
                    override_reason=line.override_reason,
                    by=user,
                )
                for line in formset.new_objects
            ]
        elif formset.model is NamedContact:
            # Changes first: a contact deactivated in this submit frees its place (R1).
            for contact, changed in formset.changed_objects:
                contract_services.named_contact_update(
                    contact=contact, by=user, **{k: getattr(contact, k) for k in changed}
                )
            formset.new_objects = [
                contract_services.named_contact_add(
                    work_order=work_order,
                    name=c.name,
                    email=c.email,
                    phone=c.phone,
                    active=c.active,
                    is_lead=c.is_lead,
                    user=c.user,
                    by=user,
                )
                for c in formset.new_objects
            ]
        else:
            super().save_formset(request, form, formset, change)

    @admin.action(description="Terminate the selected work orders")
    def terminate(self, request, queryset):
        done = 0
        for work_order in queryset:
            try:
                contract_services.work_order_terminate(work_order=work_order, by=request.user)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{work_order}: {exc.message}", level=messages.ERROR)
        self.message_user(request, f"{done} work order(s) terminated.")


# --- Lines on their own: read only ---------------------------------------------------------


@admin.register(WorkOrderLine)
class WorkOrderLineAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    """Read-only list of lines; they are added and changed on their work order (R12, R13)."""

    list_display = [
        "work_order",
        "service",
        "quantity",
        "unit",
        "used",
        "bounds_override",
        "ends_on",
    ]
    list_filter = ["bounds_override", "service__category", "unit"]
    list_select_related = ["work_order", "service"]
    search_fields = [
        "work_order__number",
        "service__code",
        "service__name",
        "work_order__customer__name",
    ]
