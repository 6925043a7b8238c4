"""Helpers of the R18 shortfall tests (test_shortfall.py, test_shortfall_void.py)."""

import datetime as dt
from decimal import Decimal

from credits.services import shortfall_invoice_record
from credits.shortfall import anniversary
from tests import factories as f
from tests.credits.conftest import today

D = dt.date


def dmy(day: dt.date) -> str:
    from core import formatting  # one format per kind of date (issue #19)

    return formatting.fmt_date(day, "day")


def term(customer, *, started_days_ago: int, years: int = 3, **extra):
    """A work order of `customer` that started `started_days_ago` days ago and runs `years` years."""
    start = today() - dt.timedelta(days=started_days_ago)
    return f.WorkOrderFactory(
        customer=customer, start_date=start, end_date=anniversary(start, years), **extra
    )


def record(work_order, by, *, on, reference="INV-1", amount="1250.00"):
    return shortfall_invoice_record(
        work_order=work_order, amount=Decimal(amount), reference=reference, on=on, by=by
    )
