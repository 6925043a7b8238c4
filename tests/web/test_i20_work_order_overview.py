"""Issue #20: the work-order overview reads bounded data: the newest 50 ledger entries
(one chart point per day, read by the database) and the attainment the worker
precomputes per work order (AttainmentMonth), never the work order's whole ledger or a
live aggregate of its incidents."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from credits import selectors as credit_selectors
from credits.models import CreditEntry
from incidents.models import AttainmentMonth
from incidents.services import attainment_refresh
from tests import factories as f

pytestmark = pytest.mark.django_db


def ledger_of(work_order, n):
    balance = 0
    start = timezone.now() - dt.timedelta(days=n)
    for i in range(n):
        balance += 10
        CreditEntry.objects.create(
            work_order=work_order,
            kind="adjustment",
            amount=10,
            balance_after=balance,
            reason=f"entry {i}",
            created_at=start + dt.timedelta(days=i, hours=1),
        )
        if i % 2:  # a second entry on the same day: one chart point
            balance -= 5
            CreditEntry.objects.create(
                work_order=work_order,
                kind="adjustment",
                amount=-5,
                balance_after=balance,
                reason=f"entry {i}b",
                created_at=start + dt.timedelta(days=i, hours=2),
            )
    return balance


def test_the_overview_shows_the_newest_50_entries_with_their_running_balance(
    client_staff, work_order_a
):
    last = ledger_of(work_order_a, 60)
    response = client_staff.get(reverse("work_order_overview", args=[work_order_a.pk]))
    assert response.status_code == 200
    entries = response.context["entries"]
    assert len(entries) == 50
    assert entries[0].balance_after == last  # newest first
    assert all(e.running_balance == e.balance_after for e in entries)
    assert [e.created_at for e in entries] == sorted((e.created_at for e in entries), reverse=True)


def test_the_daily_balances_equal_the_balance_history_of_the_whole_ledger(work_order_a):
    ledger_of(work_order_a, 12)
    whole = list(credit_selectors.ledger(work_order=work_order_a))
    assert credit_selectors.daily_balances(work_order=work_order_a) == (
        credit_selectors.balance_history(whole)
    )


def test_the_overview_reads_the_precomputed_attainment_of_its_work_order(
    client_staff, work_order_a, work_order_b, contact_a, django_assert_max_num_queries
):
    now = timezone.now()
    for hours in (1, 2, 3):
        f.IncidentFactory(
            work_order=work_order_a,
            contact=contact_a,
            opened_at=now - dt.timedelta(hours=hours + 5),
            response_due_at=now - dt.timedelta(hours=hours),
            responded_at=now - dt.timedelta(hours=hours + 4),
            status="responded",
        )
    f.IncidentFactory(work_order=work_order_b, opened_at=now - dt.timedelta(hours=2))
    attainment_refresh()
    row = AttainmentMonth.objects.get(work_order=work_order_a)
    assert (row.customer_id, row.met, row.missed) == (work_order_a.customer_id, 3, 0)
    assert AttainmentMonth.objects.filter(work_order=work_order_b).exists()
    url = reverse("work_order_overview", args=[work_order_a.pk])
    response = client_staff.get(url)
    chart = str(response.context["sla_chart"])
    assert "3" in chart
    # The page's queries do not grow with the incidents or the ledger.
    for _ in range(30):
        f.IncidentFactory(work_order=work_order_a, contact=contact_a)
    ledger_of(work_order_a, 30)
    with django_assert_max_num_queries(40) as before:
        client_staff.get(url)
    ledger_of(work_order_a, 30)
    with django_assert_max_num_queries(len(before.captured_queries)):
        client_staff.get(url)
