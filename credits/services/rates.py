"""The rate card (R10): rate rows and what a quantity costs."""

import datetime as dt
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from core.errors import Conflict, RuleViolation
from credits.models import Rate
from credits.services.common import require_editor, round_credits
from services.choices import PROACTIVE_CREDITS

# --- rate card (R10) -------------------------------------------------------------------


def rate_check(*, service, customer=None, credits_per_unit, valid_from: dt.date) -> None:
    """Raise what rate_create would refuse (shared with forms, so they can show it on a field)."""
    if Decimal(credits_per_unit) <= 0:
        raise RuleViolation(
            _("R10: a rate is a positive number of credits per unit."),
            rule="R10",
            field="credits_per_unit",
        )
    if service.code == PROACTIVE_CREDITS:
        raise RuleViolation(
            _("R10: proactive credits are not redeemed for themselves."),
            rule="R10",
            field="service",
        )
    if Rate.objects.filter(service=service, customer=customer, valid_from=valid_from).exists():
        raise Conflict(
            (
                _("R10: %(service)s already has a customer rate from %(date)s.")
                if customer
                else _("R10: %(service)s already has a default rate from %(date)s.")
            )
            % {"service": service.code, "date": valid_from},
            rule="R10",
            field="valid_from",
        )


def rate_create(*, service, customer=None, credits_per_unit, valid_from: dt.date, by=None) -> Rate:
    """Add a rate-card row (R10): the default (customer=None) or a customer's own rate from a date.

    R10: the rate is *set for* the customer by the vendor: an actor (`by`) must be staff
    who may edit; None is the system (data loads, tests)."""
    if by is not None:
        require_editor(by, rule="R10", what=_("set a rate"))
    credits_per_unit = Decimal(credits_per_unit)
    rate_check(
        service=service, customer=customer, credits_per_unit=credits_per_unit, valid_from=valid_from
    )
    try:
        with transaction.atomic():
            return Rate.objects.create(
                service=service,
                customer=customer,
                credits_per_unit=credits_per_unit,
                valid_from=valid_from,
            )
    except IntegrityError as exc:  # a concurrent twin won the unique constraint
        raise Conflict(
            _("R10: %(service)s already has a rate from %(date)s.")
            % {"service": service.code, "date": valid_from},
            rule="R10",
            field="valid_from",
        ) from exc


def redemption_cost(*, rate: Rate, quantity: Decimal) -> int:
    """Credits for `quantity` units at `rate`: rate × quantity to the nearest whole credit, halves up (R10)."""
    return round_credits(rate.credits_per_unit * Decimal(quantity))
