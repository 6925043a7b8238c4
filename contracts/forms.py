"""Web forms of the contracts app. They only shape input: every rule is checked by
contracts.services, whose RuleViolation/Conflict the views put back on the field."""

import zoneinfo
from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from accounts.choices import Role
from contracts.choices import DEFAULT_CONTACT_LIMITS
from contracts.models import Customer, SupportLocation
from core import formatting
from core.forms import PortalForm
from services.choices import PURCHASABLE, Package
from services.models import Service

WEEKDAY_CHOICES = [
    ("0", _("Monday")),
    ("1", _("Tuesday")),
    ("2", _("Wednesday")),
    ("3", _("Thursday")),
    ("4", _("Friday")),
    ("5", _("Saturday")),
    ("6", _("Sunday")),
]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%H:%M")


def _check_zone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise forms.ValidationError(_("Enter an IANA time zone such as Europe/Amsterdam.")) from exc
    return value


def country_choices():
    """ISO 3166 countries by name (pycountry's list): a country is chosen, never typed."""
    import pycountry

    return [("", "—")] + sorted(
        ((c.alpha_2, f"{c.name} ({c.alpha_2})") for c in pycountry.countries),
        key=lambda pair: pair[1],
    )


def timezone_choices():
    """IANA time zones (the system's zoneinfo), chosen from a list."""
    return [
        (z, z)
        for z in sorted(zoneinfo.available_timezones())
        if "/" in z and not z.startswith(("Etc/", "SystemV/"))
    ]


class CountryField(forms.ChoiceField):
    """An ISO 3166 country from the list; a code sent in lower case ("nl") is the same one."""

    def __init__(self, **kwargs):
        super().__init__(choices=country_choices, **kwargs)

    def to_python(self, value):
        return super().to_python(value).strip().upper()


class CustomerForm(PortalForm):
    code = forms.SlugField(
        label=_("Code"), max_length=32, help_text=_("Short and unique, e.g. acme.")
    )
    name = forms.CharField(label=_("Name"), max_length=200)
    country = CountryField(label=_("Country"))
    timezone = forms.ChoiceField(
        label=_("Time zone"), choices=timezone_choices, initial="Europe/Amsterdam"
    )
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES, initial="nl")
    location_name = forms.CharField(
        label=_("First support location"),
        max_length=120,
        required=False,
        initial=_("Headquarters"),
        help_text=_("Created with the country's public holidays; leave empty to add one later."),
    )

    def clean_timezone(self):
        return _check_zone(self.cleaned_data["timezone"])


class WorkOrderForm(PortalForm):
    """Header and term of a work order. `version` guards against a lost update."""

    customer = forms.ModelChoiceField(label=_("Customer"), queryset=Customer.objects.none())
    number = forms.CharField(label=_("Number"), max_length=32)
    package = forms.ChoiceField(
        label=_("Base package"),
        choices=Package.choices,
        help_text=_("Decides what is included, the add-ons and the response targets (R4)."),
    )
    start_date = forms.DateField(label=_("Term starts"), widget=DateInput())
    end_date = forms.DateField(label=_("Term ends"), widget=DateInput())
    support_location = forms.ModelChoiceField(
        label=_("Support location"),
        queryset=SupportLocation.objects.none(),
        required=False,
        help_text=_("Its business hours and holidays drive normal-severity deadlines (R5)."),
    )
    account_manager = forms.ModelChoiceField(
        label=_("Account manager"), queryset=None, required=False
    )
    named_contact_limit = forms.IntegerField(
        label=_("Named-contact limit"),
        min_value=1,
        required=False,
        help_text=_(
            "R1: Core at most 10; Advanced at least 50 (may be raised); Performance: empty, as many as needed."
        ),
    )
    cancellation_fee_percent = forms.DecimalField(
        label=_("Late cancellation fee (%)"),
        min_value=0,
        max_value=100,
        initial=Decimal("100"),
        help_text=_("R16: charged when a service is cancelled less than 14 days before delivery."),
    )
    low_credit_threshold = forms.IntegerField(
        label=_("Low-credit warning below"), min_value=0, required=False
    )
    deployment_docs_on_file = forms.BooleanField(
        label=_("Deployment documentation on file (needed for Rapid Response, R9)"), required=False
    )
    cloud_subscription_active = forms.BooleanField(
        label=_("Active cloud subscription (needed for On-demand Assessment, R21)"), required=False
    )
    products = forms.CharField(
        label=_("Products covered"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("One per line (R13)."),
    )
    notes = forms.CharField(
        label=_("Notes"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, customer=None, creating=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.creating = creating
        if creating:
            self.fields["customer"].queryset = Customer.objects.order_by("name")
            self.fields["named_contact_limit"].help_text = _(
                "Leave empty for the package's default (R1): Core 10, Advanced 50, Performance unlimited."
            )
        else:
            del self.fields["customer"]
        locations = SupportLocation.objects.select_related("customer")
        self.fields["support_location"].queryset = (
            locations.filter(customer=customer) if customer is not None else locations
        )
        # The customer's only support location is the obvious choice: preselect it.
        if customer is not None and not self.is_bound and not self.initial.get("support_location"):
            only = list(self.fields["support_location"].queryset[:2])
            if len(only) == 1:
                self.initial["support_location"] = only[0].pk
        self.fields["account_manager"].queryset = (
            # Only staff who may edit manage a work order: never the read-only auditor.
            get_user_model()
            .objects.filter(is_staff=True, role__in=[Role.ADMINISTRATOR, Role.ACCOUNT_MANAGER])
            .order_by("username")
        )

    def clean(self):
        data = super().clean()
        customer = data.get("customer")
        location = data.get("support_location")
        if customer and location and location.customer_id != customer.pk:
            self.add_error("support_location", _("This location belongs to another customer."))
        return data

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("version", None)
        data.pop("customer", None)
        if (
            self.creating
            and data.get("named_contact_limit") is None
            and data.get("package") != Package.PERFORMANCE
        ):
            data["named_contact_limit"] = DEFAULT_CONTACT_LIMITS[data["package"]]
        return data


class LineForm(PortalForm):
    """A bought add-on: the select offers only what the package lets one buy (R12)."""

    service = forms.ModelChoiceField(label=_("Service"), queryset=Service.objects.none())
    quantity = forms.DecimalField(
        label=_("Quantity"), min_value=Decimal("0.01"), max_digits=10, decimal_places=2
    )
    bounds_override = forms.BooleanField(
        label=_("Custom agreement outside the bounds (R12 override)"), required=False
    )
    override_reason = forms.CharField(
        label=_("Reason for the override"), max_length=300, required=False
    )

    def __init__(self, *args, package=None, **kwargs):
        super().__init__(*args, **kwargs)
        services = Service.objects.order_by("category", "name")
        if package:
            services = services.filter(**{f"availability_{package}__in": PURCHASABLE})
        self.fields["service"].queryset = services
        self.fields["service"].label_from_instance = _service_label


def _service_label(service: Service) -> str:
    bounds = ""
    if service.min_quantity is not None or service.max_quantity is not None:
        low = formatting.number(service.min_quantity) if service.min_quantity is not None else "…"
        high = formatting.number(service.max_quantity) if service.max_quantity is not None else "…"
        bounds = f" [{low}–{high} {formatting.unit_name(service.unit)}]"
    return f"{service.name} ({formatting.unit_name(service.unit)}){bounds}"


class LineQuantityForm(PortalForm):
    quantity = forms.DecimalField(
        label=_("Quantity"), min_value=Decimal("0.01"), max_digits=10, decimal_places=2
    )


class ContactForm(PortalForm):
    name = forms.CharField(label=_("Name"), max_length=200)
    email = forms.EmailField(label=_("E-mail"))
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    active = forms.BooleanField(
        label=_("Active (may file incidents, R2)"), required=False, initial=True
    )
    is_lead = forms.BooleanField(label=_("Support services manager (lead contact)"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class SupportLocationForm(PortalForm):
    """A support location and its business hours per weekday (R5): each weekday its own
    opening and closing time (e.g. Friday until 16:00); both empty is closed."""

    name = forms.CharField(label=_("Name"), max_length=120)
    country = forms.CharField(
        label=_("Country"), max_length=2, help_text=_("Public holidays come from it.")
    )
    subdivision = forms.CharField(label=_("Subdivision"), max_length=16, required=False)
    timezone = forms.CharField(label=_("Time zone"), max_length=64)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for value, day in WEEKDAY_CHOICES:
            self.fields[f"opens_{value}"] = forms.TimeField(
                label=_("%(day)s opens") % {"day": day}, widget=TimeInput(), required=False
            )
            self.fields[f"closes_{value}"] = forms.TimeField(
                label=_("%(day)s closes") % {"day": day},
                widget=TimeInput(),
                required=False,
                help_text=_("Leave both empty when closed.") if value == "6" else "",
            )

    @staticmethod
    def hours_initial(location) -> dict:
        """Initial values of the per-weekday fields from a location's hours."""
        out = {}
        for day, (opens, closes) in location.hours_by_weekday().items():
            out[f"opens_{day}"], out[f"closes_{day}"] = opens, closes
        return out

    def clean_timezone(self):
        return _check_zone(self.cleaned_data["timezone"])

    def clean(self):
        data = super().clean()
        hours = {}
        for value, day in WEEKDAY_CHOICES:
            opens, closes = data.get(f"opens_{value}"), data.get(f"closes_{value}")
            if (opens is None) != (closes is None):
                self.add_error(
                    f"closes_{value}" if closes is None else f"opens_{value}",
                    _("Give both times for %(day)s, or neither when it is closed.") % {"day": day},
                )
            elif opens is not None and closes <= opens:
                self.add_error(
                    f"closes_{value}",
                    _("On %(day)s the location must close after it opens.") % {"day": day},
                )
            elif opens is not None:
                hours[int(value)] = (opens, closes)
        if not hours and not self.errors:
            raise forms.ValidationError(_("Give the hours of at least one open weekday."))
        data["weekday_hours"] = hours
        return data

    def service_kwargs(self) -> dict:
        return {
            "name": self.cleaned_data["name"],
            "country": self.cleaned_data["country"],
            "subdivision": self.cleaned_data.get("subdivision", ""),
            "timezone": self.cleaned_data["timezone"],
            "weekday_hours": self.cleaned_data["weekday_hours"],
        }


class ClosureDayForm(PortalForm):
    date = forms.DateField(label=_("Date"), widget=DateInput())
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    is_closed = forms.BooleanField(
        label=_("Closed (untick to open on a public holiday)"), required=False, initial=True
    )


class CustomerEditForm(forms.Form):
    """A customer's name, country (ISO 3166 list) and time zone (IANA list)."""

    name = forms.CharField(label=_("Name"), max_length=200)
    country = CountryField(label=_("Country"))
    timezone = forms.ChoiceField(label=_("Time zone"), choices=timezone_choices)
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    version = forms.IntegerField(widget=forms.HiddenInput)


class ContactImportForm(forms.Form):
    """A CSV of contacts (columns name, email, phone): previewed, then imported."""

    file = forms.FileField(label=_("CSV file"), required=False)
    text = forms.CharField(widget=forms.HiddenInput, required=False)

    def clean(self):
        data = super().clean()
        upload = data.get("file")
        if upload:
            if upload.size > 1_000_000:
                raise forms.ValidationError(_("The file is larger than 1 MB."))
            try:
                data["text"] = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                raise forms.ValidationError(_("The file is not UTF-8 text.")) from exc
        if not data.get("text"):
            raise forms.ValidationError(_("Choose a CSV file."))
        return data


class ContactProposalForm(forms.Form):
    """R25: what the customer's lead contact proposes (a new contact, or a change)."""

    contact = forms.ModelChoiceField(
        label=_("Contact to change"), queryset=None, required=False, empty_label=_("A new contact")
    )
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    deactivate = forms.BooleanField(label=_("No longer a contact"), required=False)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args, work_order, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = work_order.contacts.filter(active=True)


class RenewForm(forms.Form):
    """The next term: number and dates; each line's quantity is a field `q_<service code>`."""

    number = forms.CharField(label=_("New number"), max_length=32)
    start_date = forms.DateField(label=_("Term starts"), widget=DateInput())
    end_date = forms.DateField(label=_("Term ends"), widget=DateInput())

    def __init__(self, *args, work_order, **kwargs):
        super().__init__(*args, **kwargs)
        self.line_fields = []
        for line in work_order.lines.select_related("service").order_by("service__name"):
            name = f"q_{line.service.code}"
            self.fields[name] = forms.DecimalField(
                label=f"{line.service.name} ({line.service.get_unit_display()})",
                min_value=0,
                max_digits=10,
                decimal_places=2,
                # Plain digits: normalize() alone gives "2E+2" for 200 (issue #19).
                initial=formatting.plain_decimal(line.quantity),
                help_text=_("0 leaves it out of the new term."),
            )
            self.line_fields.append(name)

    def quantities(self) -> dict:
        return {n[2:]: self.cleaned_data[n] for n in self.line_fields}


class ExtendForm(forms.Form):
    """R14: a later end date and what happens to unused credits and hours."""

    end_date = forms.DateField(label=_("New end date"), widget=DateInput())
    unused = forms.ChoiceField(
        label=_("Unused credits and hours"),
        widget=forms.RadioSelect,
        choices=[
            ("expire", _("expire now (the extension starts without them)")),
            ("keep", _("are kept for the longer term (give a reason)")),
        ],
    )
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)


class InvitationAcceptForm(forms.Form):
    password1 = forms.CharField(label=_("Password"), widget=forms.PasswordInput)
    password2 = forms.CharField(label=_("Password again"), widget=forms.PasswordInput)

    def clean(self):
        data = super().clean()
        if data.get("password1") != data.get("password2"):
            raise forms.ValidationError(_("The two passwords differ."))
        return data
