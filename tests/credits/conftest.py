"""Fixtures of the credits tests: a funded work order and a default rate card."""

import datetime as dt
from decimal import Decimal

import pytest

from core.times import business_today
from credits.models import CreditAccount, CreditEntry, Redemption, TimeEntry
from credits.services import credits_grant, credits_redeem
from tests import factories as f

#: Default rates (credits per unit) the tests redeem at.
RATES = {
    "workshops": "10",
    "chalk-talks": "50",
    "proof-of-concept": "30",
    "onsite-support": "80",
    "onsite-sdm": "40",
    "on-demand-assessment": "40",
    "developer-advanced": "1",
    "webcasts": "5",
    "rapid-response": "20",
    "assessment-program": "45",
}


def fund(work_order, credits: int, by=None):
    """Buy `credits` proactive credits on the work order (a line plus its grant)."""
    line = f.WorkOrderLineFactory(work_order=work_order, quantity=Decimal(credits))
    credits_grant(line=line, by=by)
    return line


def spend_on_chalk_talks(work_order, quantity: int, by):
    """Redeem `quantity` chalk talks (50 credits each at RATES) a month ahead."""
    return credits_redeem(
        work_order=work_order,
        service=f.service("chalk-talks"),
        quantity=quantity,
        scheduled_for=days(30),
        by=by,
    )


def snapshot(work_order) -> tuple:
    """Everything a refused write must leave untouched."""
    balance = (
        CreditAccount.objects.filter(work_order=work_order)
        .values_list("balance", flat=True)
        .first()
    )
    return (
        balance,
        CreditEntry.objects.filter(work_order=work_order).count(),
        list(
            Redemption.objects.filter(work_order=work_order)
            .values_list("id", "status", "version")
            .order_by("id")
        ),
        TimeEntry.objects.filter(line__work_order=work_order).count(),
        list(work_order.lines.values_list("id", "used", "expired_at").order_by("id")),
    )


def today() -> dt.date:
    """The business date credits.services uses for a factory work order (its location's
    zone, which the factories set to BUSINESS_TIME_ZONE), not the active zone."""
    return business_today()


def days(n: int) -> dt.date:
    return today() + dt.timedelta(days=n)


@pytest.fixture
def rates(db):
    return {
        code: f.RateFactory(service=f.service(code), credits_per_unit=Decimal(v))
        for code, v in RATES.items()
    }


@pytest.fixture
def funded(work_order_a, staff, rates):
    """Customer A's Advanced work order (term: 100 days ago to 265 days ahead) with 1000 credits."""
    fund(work_order_a, 1000, by=staff)
    return work_order_a
