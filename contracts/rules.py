"""The rules of DOMAIN.md as checks without writes (R1, R5, R12, R13, R16).

Service functions call them before they write; admin forms call the same functions in
`clean()`, so a rule shows as a form error and the admin cannot bypass it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pycountry
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from contracts.choices import DEFAULT_CONTACT_LIMITS, MAX_CORE_CONTACTS, WorkOrderStatus
from contracts.models import NamedContact, WorkOrder
from core.actors import author
from core.errors import Conflict, RuleViolation
from core.history import actor_reason
from core.scoping import actor_is_staff
from services.choices import DSE, Availability, Package
from services.models import Service


def check_fields(obj, *, exclude=()) -> None:
    """Field-level validation (lengths, digits, ranges) as a RuleViolation, never a database error."""
    skip = {f.name for f in obj._meta.concrete_fields if f.is_relation} | set(exclude)
    try:
        obj.clean_fields(exclude=list(skip))
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise RuleViolation(" ".join(messages), field=field) from exc


def stamp(obj, by, reason: str = ""):
    """Tell django-simple-history who makes the next save of `obj`, and why."""
    obj._history_user = author(by)
    reason = actor_reason(by, reason)
    if reason:
        obj._change_reason = reason
    return obj


def check_timezone(value: str, field: str = "timezone") -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise RuleViolation(
            _("%(value)r is not an IANA time zone (e.g. Europe/Amsterdam).") % {"value": value},
            field=field,
        ) from exc


def check_country(value: str) -> None:
    """An assigned ISO 3166-1 alpha-2 code, upper case (pycountry's list): not just any
    two letters, so `XX` or a typo never reaches a customer or a holiday calendar."""
    if not (
        isinstance(value, str)
        and len(value) == 2
        and value.isupper()
        and pycountry.countries.get(alpha_2=value) is not None
    ):
        raise RuleViolation(
            _("Country must be an ISO 3166 alpha-2 code such as NL."), field="country"
        )


def check_term(start_date: dt.date, end_date: dt.date) -> None:
    if start_date is None or end_date is None:
        raise RuleViolation(_("A work order needs a start date and an end date."), field="end_date")
    if end_date <= start_date:
        raise RuleViolation(
            _("The term's end date must be after its start date."), field="end_date"
        )


def check_cancellation_fee(value) -> None:
    """R16: a late cancellation costs up to 100% of the price: a percentage from 0 to 100."""
    try:
        percent = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        percent = None
    if percent is None or not percent.is_finite() or not 0 <= percent <= 100:
        raise RuleViolation(
            _("R16: the late-cancellation fee is a percentage from 0 to 100."),
            rule="R16",
            field="cancellation_fee_percent",
        )


def check_location(customer_id, location) -> None:
    """A work order's support location is one of its own customer's."""
    if location is not None and location.customer_id != customer_id:
        raise RuleViolation(
            _("The support location belongs to another customer."), field="support_location"
        )


def check_contact_limit_value(*, package: str, limit: int | None, active_count: int = 0) -> None:
    """R1: Core at most 10, Advanced at least its default of 50, Performance unlimited."""
    if package == Package.CORE:
        if limit is None or limit > MAX_CORE_CONTACTS:
            raise RuleViolation(
                _("R1: Core allows at most %(limit)s named contacts; the limit cannot be raised.")
                % {"limit": MAX_CORE_CONTACTS},
                rule="R1",
                field="named_contact_limit",
            )
    elif package == Package.ADVANCED:
        floor = DEFAULT_CONTACT_LIMITS[Package.ADVANCED]
        if limit is not None and limit < floor:
            raise RuleViolation(
                _(
                    "R1: Advanced allows at least %(floor)s named contacts; the limit can only be raised."
                )
                % {"floor": floor},
                rule="R1",
                field="named_contact_limit",
            )
    elif package == Package.PERFORMANCE and limit is not None:
        raise RuleViolation(
            _("R1: Performance allows as many named contacts as needed; leave the limit empty."),
            rule="R1",
            field="named_contact_limit",
        )
    if limit is not None and active_count > limit:
        raise Conflict(
            _(
                "R1: the work order has %(active)s active named contacts; deactivate some before "
                "lowering the limit to %(limit)s."
            )
            % {"active": active_count, "limit": limit},
            rule="R1",
            field="named_contact_limit",
        )


def check_room_for_contact(*, work_order: WorkOrder, exclude_pk=None, adding: int = 1) -> None:
    """R1: refuse one more active contact when the work order's limit is reached."""
    limit = work_order.named_contact_limit
    if limit is None or work_order.pk is None:
        if limit is not None and adding > limit:
            raise Conflict(
                _("R1: this work order allows at most %(limit)s active named contacts.")
                % {"limit": limit},
                rule="R1",
            )
        return
    active = NamedContact.objects.filter(work_order=work_order, active=True)
    if exclude_pk is not None:
        active = active.exclude(pk=exclude_pk)
    if active.count() + adding > limit:
        raise Conflict(
            _(
                "R1: work order %(number)s (%(package)s) allows at most "
                "%(limit)s active named contacts."
            )
            % {
                "number": work_order.number,
                "package": work_order.get_package_display(),
                "limit": limit,
            },
            rule="R1",
        )


def normalise_email(email: str) -> str:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise RuleViolation(_("Enter a valid e-mail address."), field="email") from exc
    return email


def check_contact_email(*, work_order: WorkOrder, email: str, exclude_pk=None) -> str:
    email = normalise_email(email)
    if work_order.pk is not None:
        dupes = NamedContact.objects.filter(work_order=work_order, email__iexact=email)
        if exclude_pk is not None:
            dupes = dupes.exclude(pk=exclude_pk)
        if dupes.exists():
            raise RuleViolation(
                _("%(email)s is already a named contact of this work order.") % {"email": email},
                field="email",
            )
    return email


def _quantity(value) -> Decimal:
    try:
        quantity = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise RuleViolation(_("Quantity must be a number."), field="quantity") from exc
    if not quantity.is_finite() or quantity <= 0:
        raise RuleViolation(_("Quantity must be more than zero."), field="quantity")
    return quantity


def check_line(
    *,
    work_order: WorkOrder,
    service: Service,
    quantity,
    bounds_override: bool = False,
    override_reason: str = "",
    by=None,
) -> Decimal:
    """R12/R13: may this service be a line of this work order in this quantity?"""
    quantity = _quantity(quantity)
    availability = service.availability_for(work_order.package)
    package = Package(work_order.package).label
    if availability == Availability.INCLUDED:
        raise RuleViolation(
            _("R12: %(service)s is included in the %(package)s package; it needs no line.")
            % {"service": service.name, "package": package},
            rule="R12",
            field="service",
        )
    if not service.is_purchasable_in(work_order.package):
        raise RuleViolation(
            _("R12: %(service)s is not available with the %(package)s package.")
            % {"service": service.name, "package": package},
            rule="R12",
            field="service",
        )
    bounds_error = service.quantity_bounds_error(quantity)
    if bounds_error and service.max_quantity is not None and quantity > service.max_quantity:
        # R12: only a *smaller* custom agreement may be made on special request; the
        # maximum (Developer Advanced: 800 ADM hours) is not overridden. More hours are
        # another service (Developer Performance), not an override.
        raise RuleViolation(
            _("%(problem)s No override goes beyond the maximum.") % {"problem": bounds_error},
            rule="R12",
            field="quantity",
        )
    if bounds_error and str(bounds_error).startswith("R26"):
        # R26: Digital Advisory packs are the sizes sold; no override makes 137 hours a pack.
        raise RuleViolation(bounds_error, rule="R26", field="quantity")
    if bounds_error and not bounds_override:
        raise RuleViolation(
            _("%(problem)s A smaller custom agreement needs an explicit, recorded override.")
            % {"problem": bounds_error},
            rule="R12",
            field="quantity",
        )
    if bounds_override:
        if not (override_reason or "").strip():
            raise RuleViolation(
                _("R12: an override of the quantity bounds needs a reason."),
                rule="R12",
                field="override_reason",
            )
        if not actor_is_staff(by):
            raise RuleViolation(
                _("R12: only staff may record an override of the quantity bounds."),
                rule="R12",
                field="bounds_override",
            )
    if service.code == DSE and work_order.support_location_id is None:
        raise RuleViolation(
            _(
                "R13: DSE is delivered for one support location; set the work order's support "
                "location first."
            ),
            rule="R13",
            field="service",
        )
    country = (
        work_order.support_location.country
        if work_order.support_location_id
        else work_order.customer.country
    )
    if not service.offered_in(country):
        raise RuleViolation(
            _("%(service)s is not offered in %(country)s.")
            % {"service": service.name, "country": country},
            field="service",
            code="not_offered_in_country",
        )
    if service.code == DSE and work_order.status in (
        WorkOrderStatus.EXPIRED,
        WorkOrderStatus.TERMINATED,
    ):
        raise Conflict(
            _("R13: DSE needs a current work order; %(number)s is %(status)s.")
            % {
                "number": work_order.number,
                "status": str(WorkOrderStatus(work_order.status).label).lower(),
            },
            rule="R13",
            field="service",
        )
    return quantity
