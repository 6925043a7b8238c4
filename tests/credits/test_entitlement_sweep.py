"""The entitlement sweep (credits/entitlements.py): R15 reminders at 90/75/60 days,
expiry notices at 30/7 days, expiry at the end (R13, R14), low credit once per
crossing; reruns send nothing twice."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from core.times import business_zone_name
from credits.entitlements import run_entitlement_sweep
from credits.models import CreditAccount, CreditEntry
from credits.services import credits_adjust, credits_grant
from notifications.models import OutboxMessage, SweepRun, WorkOrderNotice
from tests import factories as f

END = dt.date(2026, 12, 31)


@pytest.fixture
def advanced(customer_a, staff):
    wo = f.WorkOrderFactory(
        customer=customer_a,
        package="advanced",
        account_manager=staff,
        start_date=dt.date(2026, 1, 1),
        end_date=END,
    )
    f.NamedContactFactory(work_order=wo, email="lead@acme.example", is_lead=True)
    f.NamedContactFactory(work_order=wo, email="other@acme.example", is_lead=False)
    return wo


@pytest.fixture
def core(customer_a, staff):
    wo = f.WorkOrderFactory(
        customer=customer_a,
        package="core",
        account_manager=staff,
        start_date=dt.date(2026, 1, 1),
        end_date=END,
    )
    f.NamedContactFactory(work_order=wo, email="core-lead@acme.example", is_lead=True)
    return wo


def sweep(day: dt.date):
    # 04:05 on `day` where the work orders are (the factories' locations are in
    # BUSINESS_TIME_ZONE), so `day` is each one's own today (contracts.times).
    at = dt.datetime.combine(day, dt.time(4, 5), tzinfo=ZoneInfo(business_zone_name()))
    with time_machine.travel(at, tick=False):
        return run_entitlement_sweep(today=day)


def kinds(wo):
    return sorted(WorkOrderNotice.objects.filter(work_order=wo).values_list("kind", flat=True))


def rows(wo, event):
    return OutboxMessage.objects.filter(event=event, payload__data__id=wo.pk)


@pytest.mark.midnight
def test_r15_reminders_90_75_and_60_days_before_the_end_to_the_manager_and_lead(
    advanced, staff
):  # R15
    for days_left in (91, 90, 89, 76, 75, 61, 60, 59):
        sweep(END - dt.timedelta(days=days_left))
    assert kinds(advanced) == ["cutoff_60", "cutoff_75", "cutoff_90"]
    emails = rows(advanced, "work_order.cutoff").filter(channel="email")
    assert emails.count() == 6
    assert set(emails.values_list("recipient", flat=True)) == {staff.email, "lead@acme.example"}
    assert rows(advanced, "work_order.cutoff").filter(channel="webhook").count() == 3
    cutoff = rows(advanced, "work_order.cutoff").get(
        channel="webhook", payload__data__detail__notice="cutoff_60"
    )
    assert cutoff.payload["data"]["detail"]["cutoff_date"] == "2026-11-01"


def test_core_work_orders_get_no_r15_reminders_but_do_get_expiry_notices(core):  # R15 is A/P only
    for days_left in (90, 75, 60, 30, 7):
        sweep(END - dt.timedelta(days=days_left))
    assert kinds(core) == ["expiring_30", "expiring_7"]
    emails = rows(core, "work_order.expiring").filter(channel="email")
    assert sorted(emails.values_list("recipient", flat=True)) == sorted(
        ["alice@example.com", "core-lead@acme.example"] * 2
    )


@pytest.mark.midnight
def test_expiry_notices_30_and_7_days_before_the_end(advanced):
    sweep(END - dt.timedelta(days=30))
    sweep(END - dt.timedelta(days=7))
    assert {"expiring_30", "expiring_7"} <= set(kinds(advanced))
    assert rows(advanced, "work_order.expiring").filter(channel="webhook").count() == 2


def test_rerunning_the_sweep_sends_nothing_twice(advanced):
    day = END - dt.timedelta(days=30)
    sweep(day)
    count = OutboxMessage.objects.count()
    second = sweep(day)
    third = sweep(day + dt.timedelta(days=1))  # still inside the 30-day window
    assert second.handled == 0 and third.handled == 0
    assert OutboxMessage.objects.count() == count


def test_a_missed_notice_is_sent_late_within_the_grace_but_not_a_stale_one(advanced):
    # The sweep did not run for days: on day 27 before the end the 30-day notice still
    # goes; the 90-day reminder (long past) does not.
    sweep(END - dt.timedelta(days=27))
    assert kinds(advanced) == ["expiring_30"]


def test_reminders_wait_for_the_recipients_business_hours(advanced, staff):
    # The sweep runs at 04:05 UTC on Friday 2026-10-02; the reminder to the lead waits
    # for 09:00 in Amsterdam (07:00 UTC in summer time).
    day = END - dt.timedelta(days=90)  # 2026-10-02, a Friday
    sweep(day)
    lead = rows(advanced, "work_order.cutoff").get(recipient="lead@acme.example")
    assert lead.urgency == "business_hours"
    assert lead.deliver_after == dt.datetime(2026, 10, 2, 7, 0, tzinfo=dt.UTC)


@pytest.mark.midnight
def test_at_the_end_credits_and_hours_expire_through_the_ledger_and_dse_ends(
    advanced, staff
):  # R13, R14
    line = f.WorkOrderLineFactory(work_order=advanced, quantity=Decimal("100"))
    credits_grant(line=line)
    dse = f.WorkOrderLineFactory(
        work_order=advanced, service=f.service("dse"), quantity=Decimal("40")
    )
    sweep(END)  # the last day of the term: nothing expires yet
    assert "expired" not in kinds(advanced)
    sweep(END + dt.timedelta(days=1))
    assert "expired" in kinds(advanced)
    assert CreditAccount.objects.get(work_order=advanced).balance == 0
    assert CreditEntry.objects.filter(work_order=advanced, kind="expiry").get().amount == -100
    dse.refresh_from_db()
    assert dse.ends_on == END and dse.expired_at is not None
    webhook = rows(advanced, "entitlement.expired").get(channel="webhook")
    assert webhook.payload["data"]["detail"]["credits_expired"] == 100
    # Rerun: nothing expires or is sent twice.
    count = OutboxMessage.objects.count()
    sweep(END + dt.timedelta(days=2))
    assert CreditEntry.objects.filter(work_order=advanced, kind="expiry").count() == 1
    assert OutboxMessage.objects.count() == count


@pytest.mark.midnight
def test_low_credit_warning_once_per_crossing(advanced, staff):
    advanced.low_credit_threshold = 50
    advanced.save()
    line = f.WorkOrderLineFactory(work_order=advanced, quantity=Decimal("100"))
    credits_grant(line=line)
    day = dt.date(2026, 6, 1)
    sweep(day)
    assert "credits_low" not in kinds(advanced)
    credits_adjust(work_order=advanced, amount=-60, reason="used", by=staff)  # 40 < 50
    sweep(day)
    sweep(day + dt.timedelta(days=1))
    assert rows(advanced, "credits.low").filter(channel="webhook").count() == 1
    credits_adjust(
        work_order=advanced, amount=-10, reason="used more", by=staff
    )  # still under: same crossing
    sweep(day + dt.timedelta(days=2))
    assert rows(advanced, "credits.low").filter(channel="webhook").count() == 1
    credits_adjust(work_order=advanced, amount=50, reason="top-up", by=staff)  # 80: back above
    credits_adjust(work_order=advanced, amount=-40, reason="used", by=staff)  # 40: a new crossing
    sweep(day + dt.timedelta(days=3))
    assert rows(advanced, "credits.low").filter(channel="webhook").count() == 2


def test_a_poison_work_order_is_skipped_and_the_others_get_their_notices(
    advanced, core, monkeypatch
):
    import credits.entitlements as ent

    real = ent._term_notices

    def explode(wo, today, result):
        if wo.pk == advanced.pk:
            raise RuntimeError("broken")
        return real(wo, today, result)

    monkeypatch.setattr(ent, "_term_notices", explode)
    result = sweep(END - dt.timedelta(days=30))
    assert kinds(core) == ["expiring_30"] and kinds(advanced) == []
    assert result.failed[0]["work_order"] == advanced.number
    assert SweepRun.objects.get(job="entitlement_sweep").failed == 1


def test_the_management_command_runs_the_sweep(advanced, capsys):
    call_command("run_entitlement_sweep", "--today", (END - dt.timedelta(days=7)).isoformat())
    assert "expiring_7" in kinds(advanced)
    assert "expiring_7" in capsys.readouterr().out


def test_an_expiry_moves_updated_at_so_a_sync_sees_it(advanced, staff, api_staff):
    """API.md Revision 2: `updated_at` moves on every change, whoever makes it; here the
    worker's R14 expiry of a DSE line at the end of the term, seen by a ticketing tool's
    `?updated_after=` on the work order's lines."""  # R14
    dse = f.WorkOrderLineFactory(
        work_order=advanced, service=f.service("dse"), quantity=Decimal("40")
    )
    dse.refresh_from_db()
    before = dse.updated_at
    url = f"/api/v1/work-orders/{advanced.pk}/lines/"
    since = {"updated_after": before.isoformat()}
    assert dse.pk not in [row["id"] for row in api_staff.get(url, since).json()["results"]]
    sweep(END + dt.timedelta(days=1))
    dse.refresh_from_db()
    assert dse.expired_at is not None and dse.updated_at > before
    synced = api_staff.get(url, since).json()["results"]
    assert dse.pk in [row["id"] for row in synced]
