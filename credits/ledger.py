"""The one place that writes ledger entries (internal to credits.services).

Every write goes through `lock_account` then `post`: the work order's CreditAccount
row is locked with SELECT ... FOR UPDATE, so concurrent writers on one balance queue
up behind each other and each reads the balance the previous one committed. The
entry and the new balance are saved in the same transaction; CHECK constraints
(balance >= 0, balance_after >= 0) refuse a negative balance even if this code
were wrong, and a trigger (migration 0002) refuses UPDATE/DELETE of entries.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils import timezone

from credits.choices import EntryKind
from credits.models import CreditAccount, CreditEntry
from portal.errors import Conflict


def audit_user(by):
    """The User to record as author: the person, or the staff member who made an API key."""
    if by is None or not getattr(by, "is_authenticated", False):
        return None
    if getattr(by, "pk", None) is not None:
        return by
    return getattr(by, "audit_user", None)


def round_credits(value: Decimal) -> int:
    """Round to the nearest whole credit, halves away from zero (ROUND_HALF_UP): 2.5 -> 3, 2.49 -> 2 (R10)."""
    return int(Decimal(value).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def lock_account(work_order) -> CreditAccount:
    """The work order's account, created if missing, locked until the transaction ends.

    Creation is INSERT ... ON CONFLICT DO NOTHING so two first writers cannot both
    create it; the SELECT FOR UPDATE then blocks until any other writer commits.
    """
    assert transaction.get_connection().in_atomic_block, "lock_account needs a transaction"
    CreditAccount.objects.bulk_create([CreditAccount(work_order=work_order)], ignore_conflicts=True)
    account = CreditAccount.objects.select_for_update().get(work_order=work_order)
    account.work_order = work_order  # the caller's instance: no extra query
    return account


def post(
    account: CreditAccount,
    *,
    kind: str,
    amount: int,
    by=None,
    reason: str = "",
    reference: str = "",
    redemption=None,
    line=None,
) -> CreditEntry:
    """Append one entry and move the (locked) account's balance by `amount`.

    Raises Conflict(R10, insufficient_credits) rather than go below zero.
    """
    new_balance = account.balance + amount
    if new_balance < 0:
        raise Conflict(
            f"R10: the balance is {account.balance} credits; this needs {-amount}. The balance never goes below zero.",
            rule="R10",
            code="insufficient_credits",
        )
    before = account.balance
    account.balance = new_balance
    account.save(update_fields=["balance", "updated_at"])
    entry = CreditEntry.objects.create(
        work_order_id=account.work_order_id,
        kind=kind,
        amount=amount,
        balance_after=new_balance,
        created_at=timezone.now(),
        created_by=audit_user(by),
        reason=reason[:300],
        reference=reference[:200],
        redemption=redemption,
        line=line,
    )
    if amount < 0 and kind != EntryKind.EXPIRY:
        _warn_if_low(account, before=before, entry=entry)
    return entry


def _warn_if_low(account: CreditAccount, *, before: int, entry: CreditEntry) -> None:
    """credits.low once each time the balance crosses the work order's threshold downwards."""
    work_order = account.work_order
    threshold = work_order.low_credit_threshold
    if threshold is None or not (before >= threshold > entry.balance_after):
        return
    from notifications.services import notify  # notifications is a sibling app: import late

    emails = [c.email for c in work_order.contacts.filter(is_lead=True, active=True)]
    if work_order.account_manager_id and work_order.account_manager.email:
        emails.append(work_order.account_manager.email)
    notify(
        event="credits.low",
        key=f"credits.low:{work_order.pk}:{entry.pk}",
        customer=work_order.customer,
        payload={"work_order": work_order.number, "balance": entry.balance_after, "threshold": threshold},
        emails=emails,
        subject=f"{work_order.number}: proactive credits low ({entry.balance_after} left)",
        body=f"The proactive-credit balance of {work_order.number} dropped to {entry.balance_after}, "
        f"under the threshold of {threshold}.",
    )
