"""Hour blocks (R11, R13), expiry at the end of the term (R14) and the dashboard forecast."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from core.errors import Conflict, NotAllowed, RuleViolation
from credits.models import CreditEntry, TimeEntry
from credits.selectors import balance, credits_forecast
from credits.services import credits_expire, time_entry_record
from tests import factories as f
from tests.credits.conftest import days, fund, snapshot, spend_on_chalk_talks, today


def hour_line(work_order, code="dse", quantity="40"):
    return f.WorkOrderLineFactory(
        work_order=work_order, service=f.service(code), quantity=Decimal(quantity)
    )


# --- hour blocks ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        "dse",
        "development-focused",  # Development Support Assistance
        "developer-advanced",  # ADM hours
        "developer-performance",  # ADM hours
        "rsm-add-on",
        "digital-advisory",
    ],
)
def test_time_entries_deduct_hours_as_they_are_used(work_order_a, staff, code):  # R11, R26
    line = hour_line(work_order_a, code)
    entry = time_entry_record(
        line=line, hours=Decimal("2.5"), worked_on=today(), description="Review", by=staff
    )
    line.refresh_from_db()
    assert (line.used, line.remaining, entry.created_by) == (Decimal("2.5"), Decimal("37.5"), staff)


def test_hours_never_go_beyond_what_remains(work_order_a, staff):  # R11
    line = hour_line(work_order_a, quantity="4")
    time_entry_record(line=line, hours=3, worked_on=today(), by=staff)
    before = snapshot(work_order_a)
    with pytest.raises(Conflict) as exc:
        time_entry_record(line=line, hours=Decimal("1.25"), worked_on=today(), by=staff)
    assert exc.value.rule == "R11" and "1 of 4 hours remain" in exc.value.message
    assert snapshot(work_order_a) == before
    time_entry_record(line=line, hours=1, worked_on=today(), by=staff)  # exactly what remains
    line.refresh_from_db()
    assert line.remaining == 0


def test_lines_that_are_not_hour_blocks_take_no_time(work_order_a, staff):  # R11
    line = f.WorkOrderLineFactory(
        work_order=work_order_a, service=f.service("onsite-sdm"), quantity=Decimal("3")
    )
    with pytest.raises(RuleViolation) as exc:
        time_entry_record(line=line, hours=1, worked_on=today(), by=staff)
    assert exc.value.rule == "R11"
    assert not TimeEntry.objects.exists()


@pytest.mark.midnight
def test_dse_hours_count_only_within_the_term(work_order_a, staff):  # R13
    line = hour_line(work_order_a, "dse")
    before = snapshot(work_order_a)
    with pytest.raises(RuleViolation) as exc:
        time_entry_record(
            line=line, hours=1, worked_on=work_order_a.start_date - dt.timedelta(days=1), by=staff
        )
    assert exc.value.rule == "R13"
    assert snapshot(work_order_a) == before
    time_entry_record(line=line, hours=1, worked_on=work_order_a.start_date, by=staff)


@pytest.mark.midnight
def test_terminating_the_work_order_ends_its_dse_on_that_day(work_order_a, staff):  # R13
    from contracts.services import work_order_terminate

    line = hour_line(work_order_a, "dse")
    other = hour_line(work_order_a, "rsm-add-on")
    work_order_terminate(work_order=work_order_a, by=staff)
    line.refresh_from_db()
    other.refresh_from_db()
    assert (line.ends_on, other.ends_on) == (today(), None)
    assert line.history.first().history_user == staff


@pytest.mark.midnight
def test_dse_hours_count_up_to_the_termination_and_not_after(work_order_a, staff):  # R13
    line = hour_line(work_order_a, "dse")
    work_order_a.terminated_at = timezone.now() - dt.timedelta(days=5)
    work_order_a.save()
    # Worked before the termination, recorded afterwards: it counts.
    time_entry_record(line=line, hours=2, worked_on=days(-6), by=staff)
    with pytest.raises(RuleViolation) as exc:
        time_entry_record(line=line, hours=1, worked_on=days(-4), by=staff)
    assert exc.value.rule == "R13"
    line.refresh_from_db()
    assert line.used == 2


@pytest.mark.midnight
def test_future_hours_and_customer_corrections_are_refused(work_order_a, staff, user_a):  # R11
    line = hour_line(work_order_a, "rsm-add-on")
    time_entry_record(line=line, hours=2, worked_on=today(), by=staff)
    before = snapshot(work_order_a)
    with pytest.raises(RuleViolation):
        time_entry_record(line=line, hours=1, worked_on=days(1), by=staff)
    with pytest.raises(NotAllowed):
        time_entry_record(line=line, hours=-1, worked_on=today(), description="Typo", by=user_a)
    with pytest.raises(Conflict) as exc:  # below zero used
        time_entry_record(line=line, hours=-3, worked_on=today(), description="Typo", by=staff)
    assert exc.value.rule == "R11" and "2 hours are used" in exc.value.message
    with pytest.raises(RuleViolation) as exc:  # a correction says why
        time_entry_record(line=line, hours=-1, worked_on=today(), by=staff)
    assert exc.value.field == "description"
    assert snapshot(work_order_a) == before
    time_entry_record(line=line, hours=-1, worked_on=today(), description="Typo", by=staff)
    line.refresh_from_db()
    assert line.used == 1


def test_the_database_refuses_to_update_or_delete_a_time_entry(work_order_a, staff):  # R11
    line = hour_line(work_order_a, "dse")
    entry = time_entry_record(line=line, hours=2, worked_on=today(), by=staff)
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        TimeEntry.objects.filter(pk=entry.pk).update(hours=Decimal("0.5"))
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        with connection.cursor() as cur:
            cur.execute("DELETE FROM credits_timeentry WHERE id = %s", [entry.pk])
    entry.refresh_from_db()
    assert entry.hours == 2
    # The correction is a new, negative entry within what was used, with a reason.
    time_entry_record(
        line=line, hours=-2, worked_on=today(), description="Booked on the wrong line", by=staff
    )
    line.refresh_from_db()
    assert line.used == 0
    assert list(
        TimeEntry.objects.filter(line=line).order_by("id").values_list("hours", flat=True)
    ) == [2, -2]


def test_deleting_an_author_only_clears_created_by_on_their_time_entries(work_order_a):
    leaver = f.StaffFactory(username="hours-leaver")
    entry = time_entry_record(
        line=hour_line(work_order_a, "dse"), hours=1, worked_on=today(), by=leaver
    )
    leaver.delete()
    entry.refresh_from_db()
    assert (entry.created_by, entry.hours) == (None, 1)


# --- expiry -----------------------------------------------------------------------------------


def _ended(work_order):
    work_order.start_date = days(-400)
    work_order.end_date = days(-1)
    work_order.save()
    return work_order


@pytest.mark.midnight
def test_nothing_expires_before_the_term_ends(funded):  # R14
    before = snapshot(funded)
    with pytest.raises(RuleViolation) as exc:
        credits_expire(work_order=funded)
    assert exc.value.rule == "R14"
    assert snapshot(funded) == before


def test_expiry_takes_the_balance_to_zero_once_and_lapses_unused_hours(funded, staff):  # R14
    spend_on_chalk_talks(funded, 3, by=staff)
    line = hour_line(funded, "dse", "40")
    time_entry_record(line=line, hours=10, worked_on=today(), by=staff)
    _ended(funded)

    summary = credits_expire(work_order=funded)
    assert summary["credits_expired"] == 850 and summary["already_expired"] is False
    assert summary["hours_expired"] == Decimal("30")
    entry = CreditEntry.objects.get(work_order=funded, kind="expiry")
    assert (entry.amount, entry.balance_after) == (-850, 0)
    line.refresh_from_db()
    assert line.expired_at is not None
    assert funded.lines.get(service__code="proactive-credits").expired_at is not None

    before = snapshot(funded)
    again = credits_expire(work_order=funded)  # safe to run twice
    assert (again["credits_expired"], again["already_expired"], again["hour_lines_expired"]) == (
        0,
        True,
        [],
    )
    assert snapshot(funded) == before
    assert balance(work_order=funded) == 0

    with pytest.raises(Conflict) as exc:  # no hours on an expired line
        time_entry_record(line=line, hours=1, worked_on=funded.end_date, by=staff)
    assert exc.value.rule == "R14"


@pytest.mark.midnight
def test_a_terminated_work_order_expires_early(funded):  # R14
    funded.terminated_at = timezone.now()
    funded.save()
    assert credits_expire(work_order=funded)["credits_expired"] == 1000


def test_the_database_allows_one_expiry_entry_per_work_order(funded):  # R14
    from django.db import IntegrityError, transaction

    _ended(funded)
    credits_expire(work_order=funded)
    # Once per occasion: the term's end is named by its reference (anniversaries and
    # extensions of multi-year terms have their own).
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditEntry.objects.create(
            work_order=funded,
            kind="expiry",
            amount=0,
            balance_after=0,
            reference=f"work_order:{funded.number}",
        )


# --- forecast ---------------------------------------------------------------------------------


def test_the_forecast_projects_the_burn_rate_to_the_end_of_the_term(funded, staff):  # R14
    # Term: 100 days elapsed, 265 to go. 100 credits spent in 100 days -> 265 more by the end.
    spend_on_chalk_talks(funded, 2, by=staff)
    line = hour_line(funded, "dse", "100")
    time_entry_record(line=line, hours=20, worked_on=today(), by=staff)
    fc = credits_forecast(work_order=funded)
    assert (fc["balance"], fc["spent"], fc["days_elapsed"], fc["days_remaining"]) == (
        900,
        100,
        100,
        265,
    )
    assert fc["burn_rate_per_month"] == Decimal("30.44")
    assert (fc["projected_balance_at_end"], fc["at_risk"]) == (635, 635)
    (dse,) = fc["hours"]
    assert (dse["used"], dse["remaining"], dse["projected_unused_at_end"]) == (
        20,
        80,
        Decimal("27.00"),
    )


def test_a_work_order_spending_fast_has_nothing_at_risk(work_order_a, rates, staff):
    fund(work_order_a, 200)
    spend_on_chalk_talks(work_order_a, 2, by=staff)
    fc = credits_forecast(work_order=work_order_a)
    assert (fc["balance"], fc["projected_balance_at_end"], fc["at_risk"]) == (100, 0, 0)
