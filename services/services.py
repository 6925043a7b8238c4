"""Writes for the service catalogue: staff edits of a row (codes never change)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext as _

from core.actors import author
from core.errors import RuleViolation
from core.scoping import actor_is_staff
from services.choices import Availability, Category, Unit
from services.models import Service

#: What service_update may change, in the order the admin form shows them (after `code`).
EDITABLE_FIELD_ORDER = (
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
)
EDITABLE_FIELDS = set(EDITABLE_FIELD_ORDER)
CHOICES = {
    "category": Category.values,
    "unit": Unit.values,
    "availability_core": Availability.values,
    "availability_advanced": Availability.values,
    "availability_performance": Availability.values,
}


def _decimal(value, field):
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise RuleViolation(_("Enter a number."), field=field) from exc
    if not number.is_finite() or number < 0:
        raise RuleViolation(_("Enter a number of zero or more."), field=field)
    return number


def check_quantity_bounds(low, high) -> None:
    """R12: a service's minimum quantity is not above its maximum (either may be open)."""
    if low is not None and high is not None and low > high:
        raise RuleViolation(
            _("The minimum quantity cannot exceed the maximum (R12)."),
            rule="R12",
            field="max_quantity",
        )


@transaction.atomic
def service_update(*, service: Service, by, **fields) -> Service:
    """Change a catalogue row; the code is part of the API contract and is refused."""
    if "code" in fields and fields.pop("code") != service.code:
        raise RuleViolation(
            _("A service's code never changes (it is part of the API)."), field="code"
        )
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise RuleViolation(
            _("Unknown fields: %(fields)s.") % {"fields": ", ".join(sorted(unknown))},
            field=min(unknown),
        )
    if by is not None and not actor_is_staff(by):
        raise RuleViolation(_("Only staff may edit the catalogue."), field="code")
    for field, allowed in CHOICES.items():
        if field in fields and fields[field] not in allowed:
            raise RuleViolation(
                _("Choose one of %(choices)s.") % {"choices": ", ".join(allowed)}, field=field
            )
    if "name" in fields and not (fields["name"] or "").strip():
        raise RuleViolation(_("A service needs a name."), field="name")
    for field in ("min_quantity", "max_quantity"):
        if field in fields:
            fields[field] = _decimal(fields[field], field)
    service = Service.objects.select_for_update().get(pk=service.pk)
    changed = {k: v for k, v in fields.items() if getattr(service, k) != v}
    if not changed:
        return service
    for key, value in changed.items():
        setattr(service, key, value)
    check_quantity_bounds(service.min_quantity, service.max_quantity)
    service._history_user = author(by)
    service.save(update_fields=list(changed))
    return service
