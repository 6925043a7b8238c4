import datetime as dt
from decimal import Decimal
from functools import cached_property

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from contracts.choices import ClosureSource, WorkOrderStatus
from contracts.times import local_today_expression, work_order_today
from core.scoping import scoped_queryset
from services.choices import Package

WEEKDAY_NAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def weekday_hours_text(per_day: dict) -> str:
    """R5: "Mon–Thu 08:30–17:30, Fri 08:30–16:00": consecutive weekdays sharing hours
    together, day names in the active language."""
    from django.utils.dates import WEEKDAYS_ABBR

    def days_text(days: list[int]) -> str:
        if len(days) > 2 and days == list(range(days[0], days[-1] + 1)):
            return f"{WEEKDAYS_ABBR[days[0]]}–{WEEKDAYS_ABBR[days[-1]]}"
        return ", ".join(str(WEEKDAYS_ABBR[d]) for d in days)

    groups: list[tuple[tuple, list[int]]] = []
    for day in sorted(per_day):
        if groups and groups[-1][0] == per_day[day] and groups[-1][1][-1] == day - 1:
            groups[-1][1].append(day)
        else:
            groups.append((per_day[day], [day]))
    return ", ".join(
        f"{days_text(days)} {opens:%H:%M}–{closes:%H:%M}" for (opens, closes), days in groups
    )


class Customer(models.Model):
    """An enterprise customer holding one or more work orders."""

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    country = models.CharField(max_length=2, help_text=_("ISO 3166 alpha-2"))
    timezone = models.CharField(
        max_length=64, default="Europe/Amsterdam", help_text=_("IANA time zone")
    )
    language = models.CharField(max_length=8, default="en")
    # Optimistic locking for the API's If-Match (API.md Revision 2).
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = scoped_queryset("id").as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SupportLocation(models.Model):
    """Where a customer is supported: its civil time zone, business hours and closed days (R5)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="locations")
    name = models.CharField(max_length=120)
    country = models.CharField(
        max_length=2, help_text=_("ISO 3166 alpha-2; public holidays come from it.")
    )
    subdivision = models.CharField(
        max_length=16, blank=True, help_text=_("State or province code, if holidays differ.")
    )
    timezone = models.CharField(
        max_length=64, help_text=_("IANA time zone: business hours are its civil time.")
    )
    opens_at = models.TimeField(default=dt.time(9, 0))
    closes_at = models.TimeField(default=dt.time(17, 30))
    # Weekdays open, Monday=0 ... Sunday=6, as a comma-separated list ("0,1,2,3,4").
    weekdays = models.CharField(max_length=13, default="0,1,2,3,4")
    # The hours of each open weekday, {"0": ["08:30", "17:30"], ..., "4": ["08:30", "16:00"]};
    # a weekday not in it is closed. The truth wherever it is set (every write through
    # contracts.services sets it); opens_at/closes_at/weekdays then summarise it (earliest
    # opening, latest closing, open days) for readers of the simple shape. Null: a row
    # from before per-weekday hours, open opens_at–closes_at on each of `weekdays`.
    weekday_hours = models.JSONField(null=True, blank=True, default=None)
    # Bumped whenever hours or closed days change, so open incidents can be recomputed.
    calendar_version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    objects = scoped_queryset("customer").as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["customer__name", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.timezone})"

    @property
    def weekday_numbers(self) -> list[int]:
        return sorted(self.hours_by_weekday())

    def hours_by_weekday(self) -> dict[int, tuple[dt.time, dt.time]]:
        """Opening and closing time of each open weekday (Monday=0), local time (R5)."""
        if self.weekday_hours:
            return {
                int(day): (dt.time.fromisoformat(span[0]), dt.time.fromisoformat(span[1]))
                for day, span in self.weekday_hours.items()
            }
        days = [int(d) for d in self.weekdays.split(",") if d.strip() != ""]
        return {day: (self.opens_at, self.closes_at) for day in days}

    @property
    def hours_text(self) -> str:
        """The business hours as people read them: "Mon–Thu 08:30–17:30, Fri 08:30–16:00"."""
        return weekday_hours_text(self.hours_by_weekday())

    def calendar(self):
        """The business-hours calendar of this location (contracts.clock.BusinessCalendar)."""
        from contracts.clock import BusinessCalendar

        closed = [d.date for d in self.closure_days.all() if d.is_closed]
        hours = {wd: [span] for wd, span in self.hours_by_weekday().items()}
        return BusinessCalendar(self.timezone, hours, closed)


class ClosureDay(models.Model):
    """A date the location is closed: a copied public holiday or the location's own closure.

    Public holidays are copied from the `holidays` package as rows so staff can add an
    announced extra holiday or reopen on one (is_closed=False keeps a removed holiday
    from being copied back).
    """

    location = models.ForeignKey(
        SupportLocation, on_delete=models.CASCADE, related_name="closure_days"
    )
    date = models.DateField()
    name = models.CharField(max_length=200)
    source = models.CharField(
        max_length=20, choices=ClosureSource.choices, default=ClosureSource.LOCATION
    )
    is_closed = models.BooleanField(default=True)

    objects = scoped_queryset("location__customer").as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(
                fields=["location", "date"], name="closure_day_unique_per_location"
            )
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class WorkOrderQuerySet(scoped_queryset("customer")):
    def with_status(self, today: dt.date | None = None):
        """Annotate `status_code` so lists can filter and sort by the derived status.

        Each row's "today" is its own support location's (contracts.times), unless a
        date is given."""
        if today is None:
            today = models.F("local_today")
            return self.annotate(local_today=local_today_expression()).with_status(today)
        return self.annotate(
            status_code=models.Case(
                models.When(
                    terminated_at__isnull=False, then=models.Value(WorkOrderStatus.TERMINATED)
                ),
                models.When(start_date__gt=today, then=models.Value(WorkOrderStatus.DRAFT)),
                models.When(end_date__lt=today, then=models.Value(WorkOrderStatus.EXPIRED)),
                default=models.Value(WorkOrderStatus.ACTIVE),
                output_field=models.CharField(),
            )
        )

    def current(self):
        """Work orders not terminated whose term covers their own today (contracts.times)."""
        return self.annotate(local_today=local_today_expression()).filter(
            start_date__lte=models.F("local_today"),
            end_date__gte=models.F("local_today"),
            terminated_at__isnull=True,
        )

    def covering(self, when: dt.date):
        """Work orders whose term covers a date and that are not terminated (R2)."""
        return self.filter(start_date__lte=when, end_date__gte=when, terminated_at__isnull=True)


class WorkOrder(models.Model):
    """The contract (werkopdracht): customer, term, base package, lines and named contacts."""

    number = models.CharField(max_length=32, unique=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="work_orders")
    package = models.CharField(max_length=16, choices=Package.choices)
    start_date = models.DateField()
    end_date = models.DateField()
    terminated_at = models.DateTimeField(null=True, blank=True)
    # None: as many as needed (Performance, R1).
    named_contact_limit = models.PositiveIntegerField(null=True, blank=True)
    account_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_work_orders",
    )
    support_location = models.ForeignKey(
        SupportLocation, null=True, blank=True, on_delete=models.PROTECT, related_name="work_orders"
    )
    # R16: what a cancellation less than 14 days before delivery costs.
    cancellation_fee_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("100"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    # Warn (credits.low) when the proactive-credit balance drops under this.
    low_credit_threshold = models.PositiveIntegerField(null=True, blank=True)
    # R9: deployment documentation on file is a precondition of Rapid Response.
    deployment_docs_on_file = models.BooleanField(default=False)
    # R21: On-demand Assessment needs an active cloud subscription (the source: an active
    # Azure service with adequate data limits); its paid engineer is not redeemed without it.
    cloud_subscription_active = models.BooleanField(
        default=False, help_text=_("R21: the customer holds an active cloud subscription.")
    )
    products = models.TextField(blank=True, help_text=_("Products covered (R13), one per line."))
    notes = models.TextField(blank=True)
    # Renewal: the previous term this work order continues (its entitlements lapse at
    # that term's end, R14, and are never carried over).
    renewed_from = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="renewal"
    )
    # Multi-year terms: credits and hour blocks are yearly and lapse at each anniversary
    # of the start date (seed §4.4 "jaarlijkse verjaardag"), not only at the end.
    yearly_entitlements = models.BooleanField(
        default=False,
        help_text=_("Multi-year term: unused credits and hours lapse at each anniversary."),
    )
    # Optimistic locking: every save through services bumps it; a stale save is refused.
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = WorkOrderQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-start_date", "number"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gt=models.F("start_date")),
                name="work_order_term_end_after_start",
            ),
        ]
        indexes = [
            # Entitlement sweep: work orders ending soon.
            models.Index(fields=["end_date"], name="work_order_end_date_idx"),
            # The staff work-order list's order (ending soonest last, then number): with
            # 5,000 work orders ending on one day, the end-date index alone left a sort of
            # all of them (issue #20).
            models.Index(fields=["-end_date", "number"], name="work_order_list_idx"),
            # The API's list order (Meta.ordering).
            models.Index(fields=["-start_date", "number"], name="work_order_api_list_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    def status_on(self, when: dt.date | None = None) -> str:
        """Draft, active, expired or terminated on `when` (default: the work order's own
        today, contracts.times.work_order_today)."""
        when = when or work_order_today(self)
        if self.terminated_at is not None:
            return WorkOrderStatus.TERMINATED
        if when < self.start_date:
            return WorkOrderStatus.DRAFT
        if when > self.end_date:
            return WorkOrderStatus.EXPIRED
        return WorkOrderStatus.ACTIVE

    @property
    def status(self) -> str:
        return self.status_on()

    def covers(self, when: dt.date) -> bool:
        return self.terminated_at is None and self.start_date <= when <= self.end_date

    @cached_property
    def service_codes(self) -> set[str]:
        return {line.service.code for line in self.lines.all()}

    def holds(self, code: str) -> bool:
        return code in self.service_codes


class WorkOrderLine(models.Model):
    """A bought add-on on a work order: service, quantity and what is used of it."""

    work_order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="lines")
    service = models.ForeignKey("services.Service", on_delete=models.PROTECT, related_name="lines")
    quantity = models.DecimalField(
        max_digits=10, decimal_places=2, validators=[MinValueValidator(0)]
    )
    unit = models.CharField(max_length=16)
    # Hours or units used so far (R11); only services.credits changes it.
    used = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    # R12: a smaller custom agreement on special request, recorded explicitly.
    bounds_override = models.BooleanField(default=False)
    override_reason = models.CharField(max_length=300, blank=True)
    override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # R13: DSE ends on the same date as the work order; R14: everything lapses at term end.
    ends_on = models.DateField(null=True, blank=True)
    expired_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = scoped_queryset("work_order__customer").as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["work_order", "service__name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(used__gte=0) & Q(used__lte=models.F("quantity")),
                name="line_used_within_quantity",
            ),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="line_quantity_not_negative"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.work_order.number}: {self.quantity.normalize()} {self.unit} {self.service.code}"
        )

    @property
    def remaining(self) -> Decimal:
        return self.quantity - self.used


class NamedContact(models.Model):
    """A customer person allowed to file incidents on a work order (R1, R2, R25)."""

    work_order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="contacts")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contacts",
    )
    name = models.CharField(max_length=200)
    email = models.EmailField()
    phone = models.CharField(max_length=40, blank=True)
    active = models.BooleanField(default=True)
    # The support services manager (ondersteuningsdienstenbeheerder): receives R15 reminders.
    is_lead = models.BooleanField(default=False)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = scoped_queryset("work_order__customer").as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["work_order", "email"], name="contact_email_unique_per_work_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class ContactInvitation(models.Model):
    """A one-time sign-in link e-mailed to a named contact: set a password, linked login."""

    contact = models.ForeignKey(NamedContact, on_delete=models.CASCADE, related_name="invitations")
    # SHA-256 of the token in the link; the token itself is only ever in the e-mail.
    token_hash = models.CharField(max_length=64, unique=True)
    email = models.EmailField()
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    # A resend revokes the earlier link: only the newest one works.
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = scoped_queryset("contact__work_order__customer").as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"invitation for {self.email}"


class ContactChangeRequest(models.Model):
    """R25: the customer's lead contact proposes a change to the named contacts; staff decide."""

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")

    work_order = models.ForeignKey(
        WorkOrder, on_delete=models.CASCADE, related_name="contact_change_requests"
    )
    # None: a new contact is proposed.
    contact = models.ForeignKey(
        NamedContact, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # The fields to set: name, email, phone, active.
    proposed = models.JSONField()
    note = models.CharField(max_length=300, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = scoped_queryset("work_order__customer").as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"contact change on {self.work_order_id}: {self.state}"
