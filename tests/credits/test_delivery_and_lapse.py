"""Delivering a redemption (staff) and lapsing the ones never delivered at the end of the
term, without a refund (R14): credits.services.delivery, credits_expire, the entitlement
sweep's expiry notice, and the web page behind the overview's "Mark delivered" button."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from accounts.choices import Role
from core.errors import Conflict, NotAllowed, RuleViolation
from credits.choices import RedemptionStatus
from credits.entitlements import run_entitlement_sweep
from credits.models import CreditEntry, Redemption
from credits.services import (
    credits_expire,
    credits_grant,
    credits_redeem,
    redemption_cancel,
    redemption_mark_delivered,
)
from notifications.models import OutboxMessage, WorkOrderNotice
from tests import factories as f
from tests.credits.conftest import days, snapshot, spend_on_chalk_talks, today


@pytest.fixture
def reader(db):
    return f.StaffFactory(role=Role.READ_ONLY)


@pytest.fixture
def talk(funded, staff):
    """One chalk talk (50 credits) scheduled a month ahead on the funded work order."""
    return spend_on_chalk_talks(funded, 1, by=staff)


def _ended(work_order):
    work_order.start_date = days(-400)
    work_order.end_date = days(-1)
    work_order.save()
    return work_order


# --- redemption_mark_delivered -----------------------------------------------------------------


@pytest.mark.midnight
def test_staff_mark_a_scheduled_redemption_delivered_today_by_default(talk, staff):  # R14
    done = redemption_mark_delivered(redemption=talk, by=staff)
    assert (done.status, done.delivered_on, done.delivered_by, done.version) == (
        RedemptionStatus.DELIVERED,
        today(),
        staff,
        2,
    )


@pytest.mark.midnight
def test_a_past_day_within_the_term_is_accepted(talk, staff):  # R14
    done = redemption_mark_delivered(redemption=talk, delivered_on=days(-3), by=staff)
    assert done.delivered_on == days(-3)


def test_delivering_twice_is_a_conflict_the_second_time_and_writes_nothing(talk, staff):  # R14
    redemption_mark_delivered(redemption=talk, by=staff)
    before = snapshot(talk.work_order)
    with pytest.raises(Conflict) as exc:
        redemption_mark_delivered(redemption=talk, delivered_on=days(-1), by=staff)
    assert (exc.value.rule, exc.value.code) == ("R14", "redemption_not_scheduled")
    assert snapshot(talk.work_order) == before
    assert Redemption.objects.get(pk=talk.pk).delivered_on == today()


@pytest.mark.midnight
def test_a_future_delivery_day_is_refused(talk, staff):  # R14
    before = snapshot(talk.work_order)
    with pytest.raises(RuleViolation) as exc:
        redemption_mark_delivered(redemption=talk, delivered_on=days(1), by=staff)
    assert (exc.value.rule, exc.value.field) == ("R14", "delivered_on")
    assert "R14" in exc.value.message
    assert snapshot(talk.work_order) == before


@pytest.mark.midnight
def test_a_delivery_day_outside_the_term_is_refused(talk, staff):  # R14
    before = snapshot(talk.work_order)
    start = talk.work_order.start_date
    with pytest.raises(RuleViolation) as exc:
        redemption_mark_delivered(
            redemption=talk, delivered_on=start - dt.timedelta(days=1), by=staff
        )
    assert (exc.value.rule, exc.value.field) == ("R14", "delivered_on")
    assert "within the term" in exc.value.message
    assert snapshot(talk.work_order) == before


def test_read_only_staff_may_not_mark_a_redemption_delivered(talk, reader):  # R14
    before = snapshot(talk.work_order)
    with pytest.raises(NotAllowed) as exc:
        redemption_mark_delivered(redemption=talk, by=reader)
    assert (exc.value.rule, exc.value.code) == ("R14", "staff_only")
    assert snapshot(talk.work_order) == before


def test_customers_may_not_mark_a_redemption_delivered(talk, user_a):  # R14
    before = snapshot(talk.work_order)
    with pytest.raises(NotAllowed) as exc:
        redemption_mark_delivered(redemption=talk, by=user_a)
    assert (exc.value.rule, exc.value.code) == ("R14", "staff_only")
    assert snapshot(talk.work_order) == before


def test_a_cancelled_redemption_is_not_delivered(talk, staff):  # R14, R16
    redemption_cancel(redemption=talk, by=staff)
    before = snapshot(talk.work_order)
    with pytest.raises(Conflict) as exc:
        redemption_mark_delivered(redemption=talk, by=staff)
    assert exc.value.rule == "R14" and "cancelled" in exc.value.message
    assert snapshot(talk.work_order) == before


# --- lapse at the end of the term ----------------------------------------------------------


def test_at_the_end_only_scheduled_redemptions_lapse_without_a_refund(funded, staff):  # R14
    delivered, cancelled, scheduled, also_scheduled = (
        spend_on_chalk_talks(funded, 1, by=staff) for _ in range(4)
    )
    redemption_mark_delivered(redemption=delivered, by=staff)
    redemption_cancel(redemption=cancelled, by=staff)
    _ended(funded)
    refunds = CreditEntry.objects.filter(work_order=funded, kind="refund").count()

    summary = credits_expire(work_order=funded)
    assert summary["redemptions_lapsed"] == 2
    statuses = dict(Redemption.objects.filter(work_order=funded).values_list("id", "status"))
    assert statuses == {
        delivered.pk: "delivered",
        cancelled.pk: "cancelled",
        scheduled.pk: "lapsed",
        also_scheduled.pk: "lapsed",
    }
    lapsed = Redemption.objects.get(pk=scheduled.pk)
    assert lapsed.lapsed_at is not None and lapsed.version == 2
    # No refund: the credits were spent; the rest of the balance expired.
    assert CreditEntry.objects.filter(work_order=funded, kind="refund").count() == refunds
    assert summary["credits_expired"] == 1000 - 4 * 50 + 50  # the cancelled one was refunded


def test_a_rerun_of_the_expiry_lapses_nothing_more(funded, staff):  # R14
    spend_on_chalk_talks(funded, 1, by=staff)
    _ended(funded)
    assert credits_expire(work_order=funded)["redemptions_lapsed"] == 1
    before = snapshot(funded)
    assert credits_expire(work_order=funded)["redemptions_lapsed"] == 0
    assert snapshot(funded) == before


def test_a_lapsed_redemption_is_not_delivered_afterwards(funded, staff):  # R14
    talk = spend_on_chalk_talks(funded, 1, by=staff)
    _ended(funded)
    credits_expire(work_order=funded)
    with pytest.raises(Conflict) as exc:
        redemption_mark_delivered(redemption=talk, delivered_on=days(-2), by=staff)
    assert exc.value.rule == "R14" and "lapsed" in exc.value.message


@pytest.mark.midnight
def test_nothing_lapses_while_the_term_runs(funded, staff):  # R14
    talk = spend_on_chalk_talks(funded, 1, by=staff)
    with pytest.raises(RuleViolation):
        credits_expire(work_order=funded)
    assert Redemption.objects.get(pk=talk.pk).status == "scheduled"


# --- the sweep tells the account manager -----------------------------------------------------

END = dt.date(2026, 12, 31)


@pytest.fixture
def ending(customer_a, staff, rates):
    """An Advanced work order ending on END, with 500 credits and three chalk talks booked."""
    wo = f.WorkOrderFactory(
        customer=customer_a,
        package="advanced",
        account_manager=staff,
        start_date=dt.date(2026, 1, 1),
        end_date=END,
    )
    credits_grant(line=f.WorkOrderLineFactory(work_order=wo, quantity=Decimal("500")))
    with time_machine.travel(dt.datetime(2026, 6, 1, 9, tzinfo=dt.UTC), tick=False):
        talks = [
            credits_redeem(
                work_order=wo,
                service=f.service("chalk-talks"),
                quantity=1,
                scheduled_for=dt.date(2026, 7, n),
                by=staff,
            )
            for n in (1, 2, 3)
        ]
    with time_machine.travel(dt.datetime(2026, 7, 10, 9, tzinfo=dt.UTC), tick=False):
        redemption_mark_delivered(redemption=talks[0], delivered_on=dt.date(2026, 7, 1), by=staff)
    return wo, talks


def sweep(day: dt.date):
    with time_machine.travel(dt.datetime.combine(day, dt.time(4, 5), tzinfo=dt.UTC), tick=False):
        return run_entitlement_sweep(today=day)


def test_the_sweep_lapses_scheduled_redemptions_once_and_the_notice_counts_them(
    ending, staff
):  # R14
    wo, (delivered, first, second) = ending
    sweep(END)  # the last day of the term: nothing lapses yet
    assert set(Redemption.objects.filter(work_order=wo).values_list("status", flat=True)) == {
        "delivered",
        "scheduled",
    }
    sweep(END + dt.timedelta(days=1))
    assert dict(Redemption.objects.filter(work_order=wo).values_list("id", "status")) == {
        delivered.pk: "delivered",
        first.pk: "lapsed",
        second.pk: "lapsed",
    }
    notice = WorkOrderNotice.objects.get(work_order=wo, kind="expired")
    assert notice.detail["redemptions_lapsed"] == 2
    email = OutboxMessage.objects.get(
        event="entitlement.expired", channel="email", recipient=staff.email
    )
    assert "2 scheduled redemptions were never marked delivered" in email.body
    webhook = OutboxMessage.objects.get(event="entitlement.expired", channel="webhook")
    assert webhook.payload["data"]["detail"]["redemptions_lapsed"] == 2

    count, versions = (
        OutboxMessage.objects.count(),
        list(Redemption.objects.filter(work_order=wo).values_list("version", flat=True)),
    )
    sweep(END + dt.timedelta(days=2))  # a rerun changes nothing and tells nobody again
    assert OutboxMessage.objects.count() == count
    assert list(Redemption.objects.filter(work_order=wo).values_list("version", flat=True)) == (
        versions
    )


# --- the web page --------------------------------------------------------------------------


def test_staff_see_mark_delivered_and_the_button_delivers(talk, client_staff):  # R14
    overview = client_staff.get(reverse("work_order_overview", args=[talk.work_order_id]))
    url = reverse("credits:deliver", args=[talk.pk])
    assert url in overview.content.decode() and "Mark delivered" in overview.content.decode()
    response = client_staff.post(url, {})
    assert response.status_code == 302
    assert Redemption.objects.get(pk=talk.pk).status == "delivered"
    again = client_staff.post(url, {})  # a second click: the rule on the page, nothing written
    assert again.status_code == 200 and "R14" in again.content.decode()


def test_a_future_day_on_the_form_shows_r14_and_writes_nothing(talk, client_staff):  # R14
    before = snapshot(talk.work_order)
    response = client_staff.post(
        reverse("credits:deliver", args=[talk.pk]), {"delivered_on": days(2).isoformat()}
    )
    assert response.status_code == 200 and "R14" in response.content.decode()
    assert snapshot(talk.work_order) == before


def test_customers_see_the_status_but_no_button_and_may_not_post(talk, client_a, staff):  # R14
    redemption_mark_delivered(redemption=talk, by=staff)
    overview = client_a.get(reverse("work_order_overview", args=[talk.work_order_id]))
    body = overview.content.decode()
    assert "Delivered" in body and "Mark delivered" not in body
    other = spend_on_chalk_talks(talk.work_order, 1, by=staff)
    before = snapshot(talk.work_order)
    assert client_a.post(reverse("credits:deliver", args=[other.pk]), {}).status_code == 403
    assert snapshot(talk.work_order) == before


def test_customers_see_lapsed_redemptions(funded, staff, client_a):  # R14
    spend_on_chalk_talks(funded, 1, by=staff)
    _ended(funded)
    credits_expire(work_order=funded)
    body = client_a.get(reverse("work_order_overview", args=[funded.pk])).content.decode()
    assert "Lapsed" in body and "not delivered within the term" in body and "(R14)" not in body
