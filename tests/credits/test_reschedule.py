"""Moving a scheduled redemption (R16: moving, like cancelling, late costs a fee; R14, R15)."""

import datetime as dt
from decimal import Decimal

import pytest

from core.errors import Conflict, RuleViolation
from credits.models import CreditEntry
from credits.selectors import balance
from credits.services import credits_redeem, redemption_cancel, redemption_reschedule
from tests import factories as f
from tests.credits.conftest import days, snapshot


def book(work_order, when, code="chalk-talks", quantity=2, **kw):
    return credits_redeem(
        work_order=work_order,
        service=f.service(code),
        quantity=quantity,
        scheduled_for=when,
        by=None,
        **kw,
    )


def refused(redemption, exc_type, rule, when):
    """A move that must be refused naming `rule`, with nothing written."""
    before = snapshot(redemption.work_order)
    with pytest.raises(exc_type) as exc:
        redemption_reschedule(redemption=redemption, scheduled_for=when, by=None)
    assert exc.value.rule == rule, exc.value.message
    assert snapshot(redemption.work_order) == before
    return exc.value


def test_moving_14_days_before_delivery_is_free(funded, user_a):  # R16
    r = book(funded, days(14))
    moved = redemption_reschedule(redemption=r, scheduled_for=days(40), by=user_a)
    assert (moved.scheduled_for, moved.version, moved.status) == (
        days(40),
        r.version + 1,
        "scheduled",
    )
    assert list(r.entries.values_list("kind", flat=True)) == ["redemption"]
    assert balance(work_order=funded) == 900


def test_moving_13_days_before_delivery_costs_the_fee_as_a_move_entry(funded, user_a):  # R16
    r = book(funded, days(13))
    moved = redemption_reschedule(
        redemption=r, scheduled_for=days(40), by=user_a, reason="Trainer ill"
    )
    fee = r.entries.get(kind="cancellation_fee")
    assert (fee.amount, fee.balance_after, fee.created_by) == (-100, 800, user_a)
    assert "moved" in fee.reference and str(days(13)) in fee.reference
    assert "Trainer ill" in fee.reason
    assert moved.scheduled_for == days(40) and moved.credits == 100  # still booked
    assert balance(work_order=funded) == 800


def test_the_fee_for_a_late_move_is_the_percentage_rounded_half_up(funded):  # R16, R10
    funded.cancellation_fee_percent = Decimal("50")
    funded.save()
    r = book(funded, days(5), code="proof-of-concept", quantity=Decimal("0.5"))  # 15 credits
    redemption_reschedule(redemption=r, scheduled_for=days(6), by=None)
    assert r.entries.get(kind="cancellation_fee").amount == -8  # 7.5 -> 8


def test_the_new_date_must_be_in_the_term_and_not_past(funded):  # R10, R14
    r = book(funded, days(30))
    refused(r, RuleViolation, "R10", days(-1))
    refused(r, RuleViolation, "R14", funded.end_date + dt.timedelta(days=1))


def test_the_r15_cutoff_applies_to_the_new_date(funded):  # R15
    r = book(funded, days(30))
    funded.end_date = days(59)  # now within 60 days of the end: no new requests
    funded.save()
    refused(r, RuleViolation, "R15", days(20))
    funded.end_date = days(60)
    funded.save()
    assert redemption_reschedule(
        redemption=r, scheduled_for=days(20), by=None
    ).scheduled_for == days(20)


def test_a_balance_short_of_the_fee_is_refused_naming_r16(work_order_a, rates, staff):  # R16
    from tests.credits.conftest import fund

    fund(work_order_a, 100, by=staff)
    r = book(work_order_a, days(5))  # 100 credits: balance 0
    exc = refused(r, Conflict, "R16", days(20))
    assert "100" in exc.message


def test_only_a_scheduled_redemption_moves_and_nothing_is_written_otherwise(funded, user_a):
    r = book(funded, days(30))
    redemption_cancel(redemption=r, by=user_a)
    before = snapshot(funded)
    with pytest.raises(Conflict):
        redemption_reschedule(redemption=r, scheduled_for=days(40), by=user_a)
    with pytest.raises(RuleViolation):
        redemption_reschedule(redemption=book(funded, days(30)), scheduled_for=days(30), by=None)
    assert snapshot(funded)[1] == before[1] + 1  # only the second booking's entry
    assert CreditEntry.objects.filter(kind="cancellation_fee").count() == 0
