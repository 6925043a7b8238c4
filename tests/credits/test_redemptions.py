"""Redeeming credits (R10, R12, R15, R19-R21), idempotency, cancelling (R16, R20), exchanging (R17)."""

import datetime as dt
from decimal import Decimal

import pytest

from accounts.choices import Role
from core.errors import Conflict, NotAllowed, RuleViolation
from credits.choices import RedemptionStatus
from credits.models import CreditEntry, Redemption
from credits.selectors import balance, rate_for, redemption_list
from credits.services import credits_redeem, rate_create, redemption_cancel, redemption_exchange
from tests import factories as f
from tests.credits.conftest import days, fund, snapshot, today


def redeem(work_order, code="chalk-talks", quantity=1, when=None, **kw):
    kw.setdefault("by", None)
    return credits_redeem(
        work_order=work_order,
        service=f.service(code),
        quantity=quantity,
        scheduled_for=when or days(30),
        **kw,
    )


def refused(work_order, exc_type, rule, **kw):
    """Attempt a redemption that must be refused, naming `rule`, with nothing written."""
    before = snapshot(work_order)
    with pytest.raises(exc_type) as exc:
        redeem(work_order, **kw)
    assert exc.value.rule == rule, exc.value.message
    assert rule in exc.value.message
    assert snapshot(work_order) == before
    return exc.value


# --- redeeming -------------------------------------------------------------------------------


def test_a_redemption_deducts_rate_times_quantity_and_records_the_entry(funded, user_a):  # R10
    r = redeem(funded, "chalk-talks", 2, by=user_a)
    assert (r.credits, r.credits_per_unit, r.status, r.created_by) == (
        100,
        Decimal("50"),
        "scheduled",
        user_a,
    )
    entry = r.entries.get()
    assert (entry.kind, entry.amount, entry.balance_after, entry.created_by) == (
        "redemption",
        -100,
        900,
        user_a,
    )
    assert entry.reference == f"redemption:{r.pk}"
    assert balance(work_order=funded) == 900


def test_the_customers_own_rate_wins_over_the_default_once_valid(funded, customer_a, staff):  # R10
    chalk = f.service("chalk-talks")
    rate_create(
        service=chalk,
        customer=customer_a,
        credits_per_unit=Decimal("40"),
        valid_from=today(),
        by=staff,
    )
    rate_create(
        service=chalk,
        customer=customer_a,
        credits_per_unit=Decimal("35"),
        valid_from=days(10),
        by=staff,
    )
    assert rate_for(service=chalk, customer=customer_a, on=today()).credits_per_unit == Decimal(
        "40"
    )
    assert rate_for(service=chalk, customer=customer_a, on=days(10)).credits_per_unit == Decimal(
        "35"
    )
    assert (
        rate_for(service=chalk, customer=customer_a, on=days(-1)).customer is None
    )  # default before then
    assert rate_for(
        service=chalk, customer=f.CustomerFactory(code="other"), on=today()
    ).credits_per_unit == Decimal("50")
    assert redeem(funded, "chalk-talks", 1).credits == 40


def test_a_duplicate_rate_for_the_same_day_is_a_conflict(rates, staff):
    with pytest.raises(Conflict):
        rate_create(
            service=f.service("workshops"),
            credits_per_unit=Decimal("9"),
            valid_from=rates["workshops"].valid_from,
        )


def test_a_customer_cannot_set_its_own_rate(customer_a, user_a, rates):  # R10
    # R10: credits are redeemed at the rate the vendor sets for the customer.
    reader = f.StaffFactory(role=Role.READ_ONLY)
    for actor in (user_a, reader):
        with pytest.raises(NotAllowed) as exc:
            rate_create(
                service=f.service("chalk-talks"),
                customer=customer_a,
                credits_per_unit=Decimal("1"),
                valid_from=today(),
                by=actor,
            )
        assert exc.value.rule == "R10" and exc.value.code == "staff_only"
    assert rate_for(
        service=f.service("chalk-talks"), customer=customer_a, on=today()
    ).credits_per_unit == Decimal("50")


@pytest.mark.parametrize(
    ("per_unit", "quantity", "credits"),
    [("2.5", 1, 3), ("0.83", 3, 2), ("12.25", 2, 25), ("3.5", 3, 11)],
)
def test_costs_round_to_the_nearest_whole_credit_with_halves_up(
    funded, customer_a, per_unit, quantity, credits
):  # R10
    # 2.5 -> 3 (half up); 0.83 x 3 = 2.49 -> 2; 24.5 -> 25; 10.5 -> 11
    rate_create(
        service=f.service("proof-of-concept"),
        customer=customer_a,
        credits_per_unit=Decimal(per_unit),
        valid_from=today(),
    )
    assert redeem(funded, "proof-of-concept", quantity).credits == credits
    assert balance(work_order=funded) == 1000 - credits


def test_without_a_rate_the_redemption_is_refused_naming_r10(funded):  # R10
    refused(funded, RuleViolation, "R10", code="security-services")


def test_a_short_balance_is_a_conflict_and_writes_nothing(work_order_a, rates):  # R10
    fund(work_order_a, 99)
    err = refused(work_order_a, Conflict, "R10", code="chalk-talks", quantity=2)
    assert err.code == "insufficient_credits"


def test_only_add_on_or_limited_services_can_be_redeemed(funded):  # R10
    refused(funded, RuleViolation, "R10", code="webcasts")  # included in every package
    refused(funded, RuleViolation, "R10", code="proactive-credits")


def test_developer_advanced_is_limited_on_advanced_and_bounded(funded):  # R12
    refused(funded, RuleViolation, "R12", code="developer-advanced", quantity=100)
    assert redeem(funded, "developer-advanced", 320).credits == 320


def test_a_service_unavailable_in_the_package_is_refused(work_order_a, staff):  # R10, R12
    core = f.WorkOrderFactory(customer=work_order_a.customer, package="core")
    fund(core, 1000)
    f.RateFactory(service=f.service("developer-advanced"), credits_per_unit=Decimal("1"))
    refused(core, RuleViolation, "R10", code="developer-advanced", quantity=400)


@pytest.mark.midnight
def test_the_delivery_date_must_be_in_the_term_and_not_past(funded):  # R14
    refused(funded, RuleViolation, "R10", when=days(-1))
    refused(funded, RuleViolation, "R14", when=funded.end_date + dt.timedelta(days=1))
    assert redeem(funded, when=today()).scheduled_for == today()


@pytest.mark.midnight
def test_an_inactive_work_order_cannot_redeem(funded):  # R14
    from django.utils import timezone

    funded.terminated_at = timezone.now()
    funded.save()
    refused(funded, RuleViolation, "R14")


def _ending_in(work_order, n_days):
    work_order.end_date = days(n_days)
    work_order.save()
    return work_order


@pytest.mark.midnight
def test_advanced_refuses_proactive_requests_59_days_before_the_end(funded):  # R15
    _ending_in(funded, 59)
    refused(funded, RuleViolation, "R15", when=days(10))


@pytest.mark.midnight
def test_advanced_accepts_proactive_requests_60_days_before_the_end(funded):  # R15
    _ending_in(funded, 60)
    assert redeem(funded, when=days(10)).credits == 50


@pytest.mark.midnight
def test_performance_has_the_cutoff_too_for_enhanced_solutions(work_order_a, rates):  # R15
    wo = f.WorkOrderFactory(
        customer=work_order_a.customer, package="performance", end_date=days(30)
    )
    fund(wo, 1000)
    refused(wo, RuleViolation, "R15", code="rapid-response", when=days(10))


@pytest.mark.midnight
def test_core_is_exempt_from_the_cutoff(work_order_a, rates):  # R15
    core = f.WorkOrderFactory(customer=work_order_a.customer, package="core", end_date=days(20))
    fund(core, 1000)
    assert redeem(core, "chalk-talks", when=days(10)).credits == 50


def test_reactive_services_are_outside_the_cutoff(funded):  # R15 covers proactive and enhanced only
    _ending_in(funded, 20)
    assert redeem(funded, "onsite-support", 1, when=days(10)).credits == 80


def test_workshops_are_per_participant_or_dedicated(funded):  # R20
    refused(funded, RuleViolation, "R20", code="workshops", quantity=5, delivery_mode="standard")
    # No mode named: per participant (API.md Revision 2).
    assert redeem(funded, "workshops", 2).delivery_mode == "per_participant"
    r = redeem(funded, "workshops", 5, delivery_mode="per_participant")
    assert (r.credits, r.delivery_mode) == (50, "per_participant")
    assert redeem(funded, "workshops", 1, delivery_mode="dedicated").delivery_mode == "dedicated"
    refused(funded, RuleViolation, "R20", code="chalk-talks", delivery_mode="dedicated")


def test_the_assessment_engineer_is_at_most_2_days_onsite_or_1_remote(funded):  # R21
    funded.cloud_subscription_active = True  # R21's other precondition, tested below
    funded.save()
    refused(
        funded,
        RuleViolation,
        "R21",
        code="on-demand-assessment",
        quantity=3,
        delivery_mode="onsite",
    )
    refused(
        funded,
        RuleViolation,
        "R21",
        code="on-demand-assessment",
        quantity=Decimal("1.5"),
        delivery_mode="remote",
    )
    refused(
        funded,
        RuleViolation,
        "R21",
        code="on-demand-assessment",
        quantity=1,
        delivery_mode="standard",
    )  # standard: say which
    # No mode named: remote (API.md Revision 2), so two days are past remote's one.
    refused(funded, RuleViolation, "R21", code="on-demand-assessment", quantity=2)
    assert redeem(funded, "on-demand-assessment", 2, delivery_mode="onsite").credits == 80
    assert (
        redeem(funded, "on-demand-assessment", 1, delivery_mode="remote").travel_expenses_billable
        is False
    )


def test_the_assessment_engineer_needs_an_active_cloud_subscription(funded):  # R21
    assert funded.cloud_subscription_active is False
    err = refused(
        funded,
        RuleViolation,
        "R21",
        code="on-demand-assessment",
        quantity=1,
        delivery_mode="remote",
    )
    assert err.field == "service" and "cloud subscription" in err.message
    funded.cloud_subscription_active = True
    funded.save()
    assert redeem(funded, "on-demand-assessment", 1, delivery_mode="remote").credits == 40


def test_an_exchange_for_the_assessment_engineer_needs_the_subscription_too(
    funded, staff
):  # R21, R17
    chalk = redeem(funded, "chalk-talks", 1, when=days(40))  # 50 credits
    before = snapshot(funded)
    with pytest.raises(RuleViolation) as exc:
        redemption_exchange(
            redemption=chalk,
            service=f.service("on-demand-assessment"),
            quantity=1,
            delivery_mode="onsite",
            approved_by=staff,
            by=staff,
        )
    assert exc.value.rule == "R21"
    assert snapshot(funded) == before


def test_onsite_delivery_records_travel_and_expenses_to_bill(funded):  # R19
    assert redeem(funded, "onsite-support", 1).travel_expenses_billable is True
    assert redeem(funded, "onsite-sdm", 1).travel_expenses_billable is True
    assert redeem(funded, "chalk-talks", 1, delivery_mode="onsite").travel_expenses_billable is True
    assert redeem(funded, "chalk-talks", 1).travel_expenses_billable is False


def test_onsite_service_delivery_management_costs_per_visit(funded):  # R19
    assert f.service("onsite-sdm").unit == "visits"
    r = redeem(funded, "onsite-sdm", 3)  # 40 credits a visit (conftest RATES)
    assert (r.credits, r.travel_expenses_billable) == (120, True)
    assert balance(work_order=funded) == 1000 - 120


# --- idempotency ------------------------------------------------------------------------------


def test_a_retry_with_the_same_key_returns_the_first_redemption_and_writes_nothing(funded, user_a):
    first = redeem(funded, "chalk-talks", 2, idempotency_key="abc-1", by=user_a)
    before = snapshot(funded)
    again = redeem(funded, "chalk-talks", 2, idempotency_key="abc-1", by=user_a)
    assert again.pk == first.pk
    assert snapshot(funded) == before
    assert balance(work_order=funded) == 900


def test_the_same_key_with_a_different_request_is_refused(funded):
    redeem(funded, "chalk-talks", 2, idempotency_key="abc-1")
    before = snapshot(funded)
    for change in (
        {"quantity": 3},
        {"when": days(31)},
        {"code": "proof-of-concept", "quantity": 2},
        {"delivery_mode": "onsite"},
    ):
        kw = {"code": "chalk-talks", "quantity": 2, "when": days(30), **change}
        with pytest.raises(Conflict) as exc:
            redeem(funded, idempotency_key="abc-1", **kw)
        assert exc.value.code == "idempotency_key_reused"
    assert snapshot(funded) == before


def test_a_retry_is_answered_even_after_the_rules_would_refuse_it(funded):
    first = redeem(funded, "chalk-talks", 1, idempotency_key="k", when=days(10))
    _ending_in(funded, 30)  # the cut-off has passed meanwhile (R15)
    assert redeem(funded, "chalk-talks", 1, idempotency_key="k", when=days(10)).pk == first.pk


# --- cancelling -------------------------------------------------------------------------------


@pytest.mark.midnight
def test_cancelling_14_days_before_delivery_refunds_everything(funded, user_a):  # R16
    r = redeem(funded, "chalk-talks", 2, when=days(14))
    cancelled = redemption_cancel(redemption=r, by=user_a, reason="Moved internally")
    assert (cancelled.status, cancelled.cancelled_by, cancelled.cancellation_reason) == (
        "cancelled",
        user_a,
        "Moved internally",
    )
    assert list(r.entries.order_by("id").values_list("kind", "amount")) == [
        ("redemption", -100),
        ("refund", 100),
    ]
    assert balance(work_order=funded) == 1000


@pytest.mark.midnight
def test_cancelling_13_days_before_delivery_costs_the_full_fee_by_default(funded, user_a):  # R16
    r = redeem(funded, "chalk-talks", 2, when=days(13))
    redemption_cancel(redemption=r, by=user_a)
    assert list(r.entries.order_by("id").values_list("kind", "amount", "balance_after")) == [
        ("redemption", -100, 900),
        ("refund", 100, 1000),
        ("cancellation_fee", -100, 900),
    ]
    assert balance(work_order=funded) == 900


def test_a_late_cancellation_costs_the_work_orders_percentage_rounded_half_up(
    funded, user_a
):  # R16, R10
    funded.cancellation_fee_percent = Decimal("50")
    funded.save()
    r = redeem(funded, "workshops", 3, delivery_mode="per_participant", when=days(5))  # 30 credits
    r15 = redeem(
        funded, "proof-of-concept", Decimal("0.5"), when=days(5)
    )  # 15 credits: fee 7.5 -> 8
    redemption_cancel(redemption=r, by=user_a)
    redemption_cancel(redemption=r15, by=user_a)
    assert r.entries.get(kind="cancellation_fee").amount == -15
    assert r15.entries.get(kind="cancellation_fee").amount == -8
    assert balance(work_order=funded) == 1000 - 15 - 8


def test_cancelling_twice_is_a_conflict_and_writes_nothing(funded, user_a):
    r = redeem(funded, when=days(20))
    redemption_cancel(redemption=r, by=user_a)
    before = snapshot(funded)
    with pytest.raises(Conflict):
        redemption_cancel(redemption=r, by=user_a)
    assert snapshot(funded) == before


def test_staff_cancel_a_workshop_missing_its_minimum_enrolment_with_a_full_refund(
    funded, staff, user_a
):  # R20
    r = redeem(funded, "workshops", 4, delivery_mode="per_participant", when=days(3))
    before = snapshot(funded)
    with pytest.raises(NotAllowed) as exc:
        redemption_cancel(redemption=r, by=user_a, minimum_enrolment_not_reached=True)
    assert exc.value.rule == "R20"
    assert snapshot(funded) == before
    redemption_cancel(redemption=r, by=staff, minimum_enrolment_not_reached=True)
    assert not r.entries.filter(kind="cancellation_fee").exists()
    assert balance(work_order=funded) == 1000


def test_minimum_enrolment_applies_to_workshops_only(funded, staff):  # R20
    r = redeem(funded, "chalk-talks", 1, when=days(3))
    with pytest.raises(RuleViolation):
        redemption_cancel(redemption=r, by=staff, minimum_enrolment_not_reached=True)
    assert Redemption.objects.get(pk=r.pk).status == RedemptionStatus.SCHEDULED


# --- exchanging -------------------------------------------------------------------------------


def test_an_exchange_of_equal_value_records_the_approving_manager(funded, staff, user_a):  # R17
    r = redeem(funded, "chalk-talks", 2, when=days(40))  # 100 credits
    new = redemption_exchange(
        redemption=r, service=f.service("workshops"), quantity=10, approved_by=staff, by=user_a
    )
    r.refresh_from_db()
    assert (r.status, r.exchanged_for, new.approved_by, new.credits) == (
        "exchanged",
        new,
        staff,
        100,
    )
    assert new.entries.get().kind == "exchange" and new.entries.get().amount == 0
    assert balance(work_order=funded) == 900


def test_an_exchange_within_tolerance_settles_the_difference(funded, staff):  # R17
    r = redeem(funded, "chalk-talks", 2, when=days(40))  # 100
    new = redemption_exchange(
        redemption=r,
        service=f.service("assessment-program"),
        quantity=2,
        approved_by=staff,
        by=staff,
    )
    assert new.credits == 90
    assert new.entries.get().amount == 10  # 10 credits back
    assert balance(work_order=funded) == 910


def test_an_exchange_of_unequal_value_or_without_a_manager_is_refused(funded, staff, user_a):  # R17
    r = redeem(funded, "chalk-talks", 2, when=days(40))
    before = snapshot(funded)
    with pytest.raises(RuleViolation) as exc:
        redemption_exchange(
            redemption=r, service=f.service("workshops"), quantity=5, approved_by=staff, by=staff
        )
    assert exc.value.rule == "R17"
    with pytest.raises(RuleViolation) as exc:
        redemption_exchange(
            redemption=r, service=f.service("workshops"), quantity=10, approved_by=user_a, by=user_a
        )
    assert exc.value.rule == "R17"
    with pytest.raises(RuleViolation) as exc:
        redemption_exchange(
            redemption=r, service=f.service("webcasts"), quantity=20, approved_by=staff, by=staff
        )
    assert exc.value.rule == "R10"
    assert snapshot(funded) == before


def test_read_only_staff_cannot_approve_an_exchange(funded, user_a):  # R17
    r = redeem(funded, "chalk-talks", 2, when=days(40))
    reader = f.StaffFactory(role=Role.READ_ONLY)
    before = snapshot(funded)
    with pytest.raises(RuleViolation) as exc:
        redemption_exchange(
            redemption=r, service=f.service("workshops"), quantity=10, approved_by=reader, by=user_a
        )
    assert exc.value.rule == "R17" and exc.value.field == "approved_by"
    assert snapshot(funded) == before


@pytest.mark.midnight
def test_an_exchange_after_the_cutoff_is_refused(funded, staff):  # R15, R17
    r = redeem(funded, "chalk-talks", 2, when=days(10))
    _ending_in(funded, 59)
    before = snapshot(funded)
    with pytest.raises(RuleViolation) as exc:
        redemption_exchange(
            redemption=r, service=f.service("workshops"), quantity=10, approved_by=staff, by=staff
        )
    assert exc.value.rule == "R15"
    assert snapshot(funded) == before


def test_an_exchange_costing_more_than_the_balance_is_a_conflict(
    work_order_a, rates, staff
):  # R17, R10
    fund(work_order_a, 100)
    r = redeem(work_order_a, "chalk-talks", 2, when=days(40))  # balance 0
    before = snapshot(work_order_a)
    with pytest.raises(Conflict) as exc:
        redemption_exchange(
            redemption=r, service=f.service("workshops"), quantity=11, approved_by=staff, by=staff
        )
    assert exc.value.code == "insufficient_credits"
    assert snapshot(work_order_a) == before


# --- lists ------------------------------------------------------------------------------------


def test_redemption_list_is_scoped_and_joined(
    funded, work_order_b, user_a, user_b, staff, django_assert_max_num_queries
):
    fund(work_order_b, 100)
    redeem(funded)
    redeem(work_order_b)
    assert {r.work_order_id for r in redemption_list(actor=user_a)} == {funded.pk}
    assert {r.work_order_id for r in redemption_list(actor=user_b)} == {work_order_b.pk}
    with django_assert_max_num_queries(1):
        rows = [
            (r.service.code, r.work_order.customer.code, r.created_by)
            for r in redemption_list(actor=staff)
        ]
    assert len(rows) == 2
    assert CreditEntry.objects.visible_to(user_b).filter(work_order=funded).count() == 0


def test_the_14_day_line_is_drawn_in_the_portals_zone_not_the_active_one(
    work_order_a, rates, user_a
):  # R16
    import time_machine
    from django.utils import timezone

    # 23:30 UTC on 26 Nov is 00:30 on 27 Nov in Amsterdam; the API activates UTC.
    with time_machine.travel(dt.datetime(2026, 11, 26, 23, 30, tzinfo=dt.UTC), tick=False):
        timezone.activate(dt.UTC)
        try:
            fund(work_order_a, 1000)
            r = redeem(
                work_order_a, "chalk-talks", 1, when=dt.date(2026, 12, 10)
            )  # 13 days in Amsterdam
            redemption_cancel(redemption=r, by=user_a)
        finally:
            timezone.deactivate()
    assert r.entries.filter(kind="cancellation_fee", amount=-50).exists()


# --- #22: whole participants and units, no zero-credit bookings ------------------------------


@pytest.mark.parametrize(
    ("code", "quantity", "mode"),
    [("workshops", "0.01", "per_participant"), ("chalk-talks", "0.001", "")],
)
def test_participants_and_units_are_whole_and_a_free_booking_is_refused(
    funded, code, quantity, mode
):  # R10, R20
    before = snapshot(funded)
    with pytest.raises(RuleViolation) as exc:
        redeem(funded, code, Decimal(quantity), **({"delivery_mode": mode} if mode else {}))
    assert exc.value.field == "quantity"
    assert snapshot(funded) == before


def test_a_fraction_of_an_hour_based_service_that_rounds_to_zero_credits_is_refused(
    funded, staff
):  # R10
    before = snapshot(funded)
    with pytest.raises(RuleViolation) as exc:
        redeem(funded, "proof-of-concept", Decimal("0.001"))
    assert exc.value.rule == "R10"
    assert snapshot(funded) == before
