"""Concurrent writers on one balance, on real PostgreSQL with real threads (R10, R11).

A test wrapped in one transaction would hide these races, so these tests use
`transaction=True`: every thread has its own database connection and commits for
real (tests/conftest.py re-seeds the catalogue that the flush after a
transactional test empties). The threads are released together by a Barrier so their transactions overlap.
The harness is proven able to fail: the same race against a deliberately naive
read-modify-write redemption (no lock) must be caught overspending.
"""

import os
import threading
import time
from decimal import Decimal

import pytest
from django.db import close_old_connections, connection, transaction
from django.db.models import Sum

from core.errors import Conflict
from credits.choices import EntryKind
from credits.models import CreditAccount, CreditEntry, Redemption, TimeEntry
from credits.services import credits_grant, credits_redeem, time_entry_record
from tests import factories as f
from tests.credits.conftest import days

THREADS = 20
TRIALS = int(os.environ.get("CREDITS_RACE_TRIALS", "5"))  # raise it for a longer soak
CHALK_TALK = 50  # credits per day (default rate below)
AFFORDABLE = 5  # the balance covers five redemptions


def race(target, n=THREADS):
    """Run target(i) in n threads released together; returns what each returned or raised."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i):
        try:
            barrier.wait(timeout=30)
            results[i] = target(i)
        except Exception as exc:  # noqa: BLE001 - collected and asserted on by the caller
            results[i] = exc
        finally:
            connection.close()  # each thread opened its own connection: give it back

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    close_old_connections()
    return results


def new_funded_work_order(customer, credits):
    wo = f.WorkOrderFactory(customer=customer, package="advanced")
    line = f.WorkOrderLineFactory(work_order=wo, quantity=Decimal(credits))
    credits_grant(line=line)
    return wo


def invariant_violations(work_order, *, expected_redemptions) -> list[str]:
    """Everything that would show an overspend or a lost update."""
    problems = []
    account = CreditAccount.objects.get(work_order=work_order)
    entries = CreditEntry.objects.filter(work_order=work_order)
    total = entries.aggregate(s=Sum("amount"))["s"] or 0
    redemptions = Redemption.objects.filter(work_order=work_order).count()
    spent = -(entries.filter(kind=EntryKind.REDEMPTION).aggregate(s=Sum("amount"))["s"] or 0)
    if redemptions != expected_redemptions:
        problems.append(f"{redemptions} redemptions instead of {expected_redemptions}")
    if account.balance != total:
        problems.append(f"balance {account.balance} != sum of entries {total} (lost update)")
    if account.balance < 0 or entries.filter(balance_after__lt=0).exists():
        problems.append("negative balance")
    if spent > CHALK_TALK * AFFORDABLE:
        problems.append(f"spent {spent} of {CHALK_TALK * AFFORDABLE} credits (overspent)")
    running = 0
    for amount, after in entries.order_by("created_at", "id").values_list(
        "amount", "balance_after"
    ):
        running += amount
        if running != after:
            problems.append(f"balance_after {after} where the running balance is {running}")
            break
    return problems


def naive_redeem(*, work_order, service, quantity, scheduled_for, **kwargs):
    """The CONTROL: read the balance, think, write it back. No lock, so it races."""
    cost = int(quantity * CHALK_TALK)
    account = CreditAccount.objects.get(work_order=work_order)  # plain read, no FOR UPDATE
    seen = account.balance
    time.sleep(0.005)  # widen the window other threads read the same balance in
    if seen < cost:
        raise Conflict("insufficient credits", rule="R10", code="insufficient_credits")
    with transaction.atomic():
        r = Redemption.objects.create(
            work_order=work_order,
            service=service,
            quantity=quantity,
            scheduled_for=scheduled_for,
            credits_per_unit=CHALK_TALK,
            credits=cost,
        )
        CreditAccount.objects.filter(pk=account.pk).update(balance=seen - cost)  # lost update
        CreditEntry.objects.create(
            work_order=work_order,
            kind=EntryKind.REDEMPTION,
            amount=-cost,
            balance_after=seen - cost,
            redemption=r,
        )
    return r


def run_trials(redeem, customer, chalk) -> list[list[str]]:
    """TRIALS races of twenty redemptions against a balance covering five; violations per trial."""
    outcomes = []
    for _ in range(TRIALS):
        wo = new_funded_work_order(customer, CHALK_TALK * AFFORDABLE)
        results = race(
            lambda i, wo=wo: redeem(
                work_order=wo, service=chalk, quantity=Decimal(1), scheduled_for=days(30)
            )
        )
        unexpected = [
            r for r in results if isinstance(r, Exception) and not isinstance(r, Conflict)
        ]
        assert not unexpected, unexpected
        outcomes.append(invariant_violations(wo, expected_redemptions=AFFORDABLE))
    return outcomes


@pytest.fixture
def chalk():
    f.RateFactory(service=f.service("chalk-talks"), credits_per_unit=Decimal(CHALK_TALK))
    return f.service("chalk-talks")


@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_redemptions_on_a_balance_for_five_leave_exactly_five(chalk):  # R10
    customer = f.CustomerFactory(code="race")
    outcomes = run_trials(credits_redeem, customer, chalk)
    assert outcomes == [[] for _ in range(TRIALS)]
    assert Redemption.objects.count() == TRIALS * AFFORDABLE
    assert set(CreditAccount.objects.values_list("balance", flat=True)) == {0}


@pytest.mark.django_db(transaction=True)
def test_the_harness_catches_a_naive_read_modify_write_redemption(chalk):
    # The control: without the lock the same race must overspend or lose updates in at
    # least one trial, or the test above would prove nothing.
    customer = f.CustomerFactory(code="naive")
    outcomes = run_trials(naive_redeem, customer, chalk)
    print("naive control, violations per trial:", outcomes)
    assert any(outcomes), "the harness did not catch a race it was built to catch"


@pytest.mark.django_db(transaction=True)
def test_simultaneous_retries_with_one_idempotency_key_create_one_redemption(chalk):
    wo = new_funded_work_order(f.CustomerFactory(code="retry"), 1000)

    def retry(i):
        return credits_redeem(
            work_order=wo, service=chalk, quantity=1, scheduled_for=days(30), idempotency_key="same"
        )

    results = race(retry, n=10)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert {r.pk for r in results} == {Redemption.objects.get(work_order=wo).pk}
    assert CreditAccount.objects.get(work_order=wo).balance == 950


@pytest.mark.django_db(transaction=True)
def test_simultaneous_time_entries_never_take_more_hours_than_remain():  # R11
    staff = f.StaffFactory(username="engineer")
    wo = f.WorkOrderFactory(customer=f.CustomerFactory(code="hours"))
    line = f.WorkOrderLineFactory(work_order=wo, service=f.service("dse"), quantity=Decimal("10"))

    results = race(lambda i: time_entry_record(line=line, hours=1, worked_on=days(0), by=staff))
    won = [r for r in results if isinstance(r, TimeEntry)]
    lost = [r for r in results if isinstance(r, Conflict)]
    assert (len(won), len(lost)) == (10, 10), results
    line.refresh_from_db()
    assert (
        line.used
        == TimeEntry.objects.filter(line=line).aggregate(s=Sum("hours"))["s"]
        == Decimal("10")
    )
