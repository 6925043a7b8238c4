from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core import formatting
from services.choices import (
    CUTOFF_CATEGORIES,
    DIGITAL_ADVISORY,
    DIGITAL_ADVISORY_PACKS,
    PURCHASABLE,
    Availability,
    Category,
    Package,
    Unit,
)


class Service(models.Model):
    """A row of the service catalogue, with its availability in each base package."""

    code = models.SlugField(
        max_length=64, unique=True, help_text=_("Part of the API contract; never changes.")
    )
    name = models.CharField(max_length=200)
    category = models.CharField(max_length=32, choices=Category.choices)
    unit = models.CharField(max_length=16, choices=Unit.choices, default=Unit.UNITS)
    availability_core = models.CharField(max_length=16, choices=Availability.choices)
    availability_advanced = models.CharField(max_length=16, choices=Availability.choices)
    availability_performance = models.CharField(max_length=16, choices=Availability.choices)
    min_quantity = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    max_quantity = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    is_hour_block = models.BooleanField(
        default=False, help_text=_("Hours deducted as they are used (R11).")
    )
    notes = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Seed §1/§4.4: not every service is offered in every country. ISO 3166 alpha-2
    # codes, comma-separated; empty means everywhere.
    countries = models.CharField(
        max_length=300,
        blank=True,
        help_text=_("Countries where it is offered (ISO codes, comma-separated); empty: all."),
    )
    # Scheduled only with the vendor's written consent, recorded on the redemption.
    needs_vendor_consent = models.BooleanField(
        default=False, help_text=_("Booked only with the vendor's written consent.")
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["category", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def availability_for(self, package: str) -> str:
        return getattr(self, f"availability_{Package(package).value}")

    @property
    def availability(self) -> dict[str, str]:
        return {p.value: self.availability_for(p) for p in Package}

    def is_purchasable_in(self, package: str) -> bool:
        """Add-on or limited: may be a work-order line or redeemed with credits (R10, R12)."""
        return self.availability_for(package) in PURCHASABLE

    @property
    def country_codes(self) -> set[str]:
        return {c.strip().upper() for c in self.countries.split(",") if c.strip()}

    def offered_in(self, country: str) -> bool:
        """Seed §1: available in the customer's country (an empty list: everywhere)."""
        codes = self.country_codes
        return not codes or (country or "").upper() in codes

    @property
    def subject_to_cutoff(self) -> bool:
        """Proactive services and enhanced solutions fall under the 60-day cut-off (R15)."""
        return self.category in CUTOFF_CATEGORIES

    def quantity_bounds_error(self, quantity) -> str | None:
        """The rule broken by this quantity, or None when it is within bounds (R12, R26)."""
        if self.code == DIGITAL_ADVISORY and quantity not in DIGITAL_ADVISORY_PACKS:
            return _(
                "R26: Digital Advisory is sold in packs of 200, 400, 800 or 1600 hours, "
                "not %(quantity)s."
            ) % {
                "quantity": f"{quantity.normalize():f}"
                if hasattr(quantity, "normalize")
                else quantity
            }
        if self.min_quantity is not None and quantity < self.min_quantity:
            return _("R12: %(service)s needs at least %(min)s.") % {
                "service": self.name,
                "min": formatting.quantity(self.min_quantity, self.unit),
            }
        if self.max_quantity is not None and quantity > self.max_quantity:
            return _("R12: %(service)s allows at most %(max)s.") % {
                "service": self.name,
                "max": formatting.quantity(self.max_quantity, self.unit),
            }
        return None
