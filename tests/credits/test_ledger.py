"""The append-only ledger: grants, adjustments, SA conversion, and the database guards."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum

from contracts.signals import line_changed
from core.errors import Conflict, NotAllowed, RuleViolation
from credits.models import CreditAccount, CreditEntry
from credits.selectors import balance, ledger
from credits.services import credits_adjust, credits_grant, credits_sa_conversion
from tests import factories as f
from tests.credits.conftest import fund, snapshot, spend_on_chalk_talks


def entries_sum(work_order) -> int:
    return CreditEntry.objects.filter(work_order=work_order).aggregate(s=Sum("amount"))["s"] or 0


def test_a_proactive_credits_line_grants_its_credits_with_who_why_and_balance_after(
    work_order_a, staff
):  # R10
    line = fund(work_order_a, 500, by=staff)
    entry = CreditEntry.objects.get(work_order=work_order_a)
    assert (entry.kind, entry.amount, entry.balance_after, entry.line, entry.created_by) == (
        "grant",
        500,
        500,
        line,
        staff,
    )
    assert entry.reference == f"line:{line.pk}"
    assert balance(work_order=work_order_a) == 500


def test_granting_the_same_line_twice_grants_once(work_order_a, staff):
    line = fund(work_order_a, 500, by=staff)
    assert credits_grant(line=line, by=staff) is None
    assert CreditEntry.objects.filter(work_order=work_order_a).count() == 1
    assert balance(work_order=work_order_a) == 500


def test_a_quantity_increase_grants_the_difference_as_a_new_entry_on_the_line(work_order_a, staff):
    line = fund(work_order_a, 500, by=staff)
    line.quantity = Decimal("800")
    line.save()
    entry = credits_grant(line=line, by=staff)
    assert (entry.kind, entry.amount, entry.balance_after, entry.line_id) == (
        "grant",
        300,
        800,
        line.pk,
    )
    assert balance(work_order=work_order_a) == entries_sum(work_order_a) == 800


def test_a_quantity_decrease_takes_back_unspent_credits_but_never_spent_ones(funded, staff):  # R10
    line = funded.lines.get(service__code="proactive-credits")
    spend_on_chalk_talks(funded, 15, by=staff)
    assert balance(work_order=funded) == 250
    line.quantity = Decimal("900")
    entry = credits_grant(line=line, by=staff)
    assert (entry.kind, entry.amount, entry.balance_after) == ("adjustment", -100, 150)
    before = snapshot(funded)
    line.quantity = Decimal("0")
    with pytest.raises(Conflict) as exc:
        credits_grant(line=line, by=staff)
    assert exc.value.code == "insufficient_credits"
    assert snapshot(funded) == before


def test_a_fractional_credit_line_is_refused_and_writes_nothing(work_order_a, staff):
    line = f.WorkOrderLineFactory(work_order=work_order_a, quantity=Decimal("10.5"))
    with pytest.raises(RuleViolation):
        credits_grant(line=line, by=staff)
    assert not CreditEntry.objects.exists()


def test_line_changed_grants_inside_the_senders_transaction(work_order_a, staff):
    line = f.WorkOrderLineFactory(work_order=work_order_a, quantity=Decimal("250"))
    line_changed.send(sender=type(line), line=line, created=True, by=staff)
    assert balance(work_order=work_order_a) == 250

    # A failing sender rolls the grant back with its own change.
    other = f.WorkOrderLineFactory(work_order=work_order_a, quantity=Decimal("50"))
    with pytest.raises(RuntimeError), transaction.atomic():
        line_changed.send(sender=type(other), line=other, created=True, by=staff)
        raise RuntimeError("the line change failed")
    assert balance(work_order=work_order_a) == 250
    assert not CreditEntry.objects.filter(line=other).exists()


def test_line_changed_ignores_lines_that_are_not_proactive_credits(work_order_a, staff):
    line = f.WorkOrderLineFactory(
        work_order=work_order_a, service=f.service("dse"), quantity=Decimal("40")
    )
    line_changed.send(sender=type(line), line=line, created=True, by=staff)
    assert not CreditEntry.objects.exists()


def test_staff_adjust_with_a_reason_and_never_below_zero(funded, staff, user_a):
    entry = credits_adjust(work_order=funded, amount=-200, reason="Goodwill correction", by=staff)
    assert (entry.kind, entry.amount, entry.balance_after, entry.reason) == (
        "adjustment",
        -200,
        800,
        "Goodwill correction",
    )
    before = snapshot(funded)
    with pytest.raises(RuleViolation):
        credits_adjust(work_order=funded, amount=10, reason="   ", by=staff)
    with pytest.raises(NotAllowed) as exc:
        credits_adjust(work_order=funded, amount=10, reason="I want more", by=user_a)
    assert exc.value.code == "staff_only"
    with pytest.raises(Conflict) as exc:
        credits_adjust(work_order=funded, amount=-801, reason="Too much", by=staff)
    assert exc.value.rule == "R10"
    assert snapshot(funded) == before


def test_sa_conversion_adds_credits_with_its_reference(work_order_a, staff, user_a):  # R18
    entry = credits_sa_conversion(
        work_order=work_order_a, amount=120, reference="SA-2026-007: 3 incidents", by=staff
    )
    assert (entry.kind, entry.amount, entry.balance_after, entry.reference) == (
        "sa_conversion",
        120,
        120,
        "SA-2026-007: 3 incidents",
    )
    with pytest.raises(RuleViolation) as exc:
        credits_sa_conversion(work_order=work_order_a, amount=120, reference="", by=staff)
    assert exc.value.rule == "R18"
    with pytest.raises(NotAllowed):
        credits_sa_conversion(work_order=work_order_a, amount=120, reference="x", by=user_a)
    assert CreditEntry.objects.count() == 1


def test_the_ledger_recomputes_a_running_balance_equal_to_balance_after(funded, staff):
    spend_on_chalk_talks(funded, 2, by=staff)
    credits_adjust(work_order=funded, amount=5, reason="Rounding goodwill", by=staff)
    rows = list(ledger(work_order=funded))
    assert [r.kind for r in rows] == ["grant", "redemption", "adjustment"]
    assert [r.running_balance for r in rows] == [r.balance_after for r in rows] == [1000, 900, 905]
    assert balance(work_order=funded) == entries_sum(funded) == 905


def test_the_database_refuses_to_update_a_ledger_entry(funded):
    entry = CreditEntry.objects.get(work_order=funded)
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        CreditEntry.objects.filter(pk=entry.pk).update(amount=5000)
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        with connection.cursor() as cur:
            cur.execute(
                "UPDATE credits_creditentry SET reason = 'edited' WHERE id = %s", [entry.pk]
            )
    entry.refresh_from_db()
    assert (entry.amount, entry.reason) == (1000, "Proactive credits bought")


def test_the_database_refuses_to_delete_a_ledger_entry(funded):
    entry = CreditEntry.objects.get(work_order=funded)
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        with connection.cursor() as cur:
            cur.execute("DELETE FROM credits_creditentry WHERE id = %s", [entry.pk])
    assert CreditEntry.objects.filter(pk=entry.pk).exists()


def test_deleting_an_author_only_clears_created_by_on_their_entries(work_order_a):
    leaver = f.StaffFactory(username="leaver")
    fund(work_order_a, 10, by=leaver)
    leaver.delete()
    entry = CreditEntry.objects.get(work_order=work_order_a)
    assert (entry.created_by, entry.amount) == (None, 10)


def test_the_database_refuses_a_negative_balance_even_if_code_tried(funded):
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditAccount.objects.filter(work_order=funded).update(balance=-1)
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditEntry.objects.create(
            work_order=funded, kind="adjustment", amount=-2000, balance_after=-1000
        )


def test_crossing_the_low_credit_threshold_asks_for_a_warning_after_commit(
    funded, staff, django_capture_on_commit_callbacks
):
    funded.low_credit_threshold = 500
    funded.save()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        credits_adjust(work_order=funded, amount=-400, reason="still above", by=staff)  # 600
    assert callbacks == []
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        credits_adjust(work_order=funded, amount=-200, reason="crosses", by=staff)  # 400 < 500
    assert len(callbacks) == 1
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        credits_adjust(work_order=funded, amount=-100, reason="already under", by=staff)
    assert callbacks == []


@pytest.mark.parametrize(
    ("value", "credits"),
    [("2.5", 3), ("2.49", 2), ("2.51", 3), ("3.5", 4), ("0.5", 1), ("0.49", 0), ("7", 7)],
)
def test_round_credits_rounds_halves_up(value, credits):  # R10
    from credits.services import round_credits

    assert round_credits(Decimal(value)) == credits


# --- removing a proactive-credits line (contracts.signals.line_changed, removed=True) ------


def test_removing_an_unspent_credits_line_takes_its_grant_back_in_the_ledger(work_order_a, staff):
    # R10
    from contracts import services as contract_services
    from contracts.models import WorkOrderLine

    line = contract_services.work_order_line_add(
        work_order=work_order_a, service="proactive-credits", quantity=300, by=staff
    )
    contract_services.work_order_line_remove(line=line, by=staff)
    assert not WorkOrderLine.objects.filter(pk=line.pk).exists()
    rows = list(
        CreditEntry.objects.filter(work_order=work_order_a)
        .order_by("id")
        .values_list("kind", "amount", "balance_after", "line_id", "reference")
    )
    # The entries stay (append-only), unlinked from the deleted line but naming it.
    assert rows == [
        ("grant", 300, 300, None, f"line:{line.pk}"),
        ("adjustment", -300, 0, None, f"line:{line.pk}"),
    ]
    assert balance(work_order=work_order_a) == entries_sum(work_order_a) == 0


def test_a_credits_line_whose_credits_were_spent_cannot_be_removed(funded, staff):  # R10
    from contracts import services as contract_services

    line = funded.lines.get(service__code="proactive-credits")
    spend_on_chalk_talks(funded, 1, by=staff)
    before = snapshot(funded)
    with pytest.raises(Conflict) as exc:
        contract_services.work_order_line_remove(line=line, by=staff)
    assert exc.value.rule == "R10" and "spent" in exc.value.message
    assert snapshot(funded) == before
    assert CreditEntry.objects.filter(line=line).count() == 1


def test_the_database_allows_unlinking_a_line_from_a_settled_entry_and_nothing_else(funded):
    entry = CreditEntry.objects.get(work_order=funded)
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        CreditEntry.objects.filter(pk=entry.pk).update(line=None, amount=1)
    CreditEntry.objects.filter(pk=entry.pk).update(line=None)  # what on_delete does
    entry.refresh_from_db()
    assert (entry.line_id, entry.amount) == (None, 1000)
