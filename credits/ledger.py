"""The one place that writes ledger entries (internal to credits.services).

Every write goes through `lock_account` then `post`: the work order's CreditAccount
row is locked with SELECT ... FOR UPDATE, so concurrent writers on one balance queue
up behind each other and each reads the balance the previous one committed. The
entry and the new balance are saved in the same transaction; CHECK constraints
(balance >= 0, balance_after >= 0) refuse a negative balance even if this code
were wrong, and a trigger (migration 0002) refuses UPDATE/DELETE of entries.
"""

import logging
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.actors import author
from core.errors import Conflict
from credits.models import CreditAccount, CreditEntry

logger = logging.getLogger(__name__)


def round_credits(value: Decimal) -> int:
    """Round to the nearest whole credit, halves away from zero (ROUND_HALF_UP): 2.5 -> 3, 2.49 -> 2 (R10)."""
    return int(Decimal(value).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def lock_account(work_order) -> CreditAccount:
    """The work order's account, created if missing, locked until the transaction ends.

    The SELECT FOR UPDATE blocks until any other writer commits. A missing account is
    created with INSERT ... ON CONFLICT DO NOTHING, so two first writers cannot both
    create it, and then locked the same way.
    """
    assert transaction.get_connection().in_atomic_block, "lock_account needs a transaction"
    locked = CreditAccount.objects.select_for_update()
    account = locked.filter(work_order=work_order).first()
    if account is None:
        CreditAccount.objects.bulk_create(
            [CreditAccount(work_order=work_order)], ignore_conflicts=True
        )
        account = locked.get(work_order=work_order)
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
            _(
                "R10: the balance is %(balance)s credits; this needs %(needed)s. "
                "The balance never goes below zero."
            )
            % {"balance": account.balance, "needed": -amount},
            rule="R10",
            code="insufficient_credits",
        )
    account.balance = new_balance
    account.save(update_fields=["balance", "updated_at"])
    entry = CreditEntry.objects.create(
        work_order_id=account.work_order_id,
        kind=kind,
        amount=amount,
        balance_after=new_balance,
        created_at=timezone.now(),
        created_by=author(by),
        reason=reason[:300],
        reference=reference[:200],
        redemption=redemption,
        line=line,
    )
    threshold = account.work_order.low_credit_threshold
    if threshold is not None and new_balance < threshold <= new_balance - amount:
        # Crossed the low-credit threshold: ask the worker to warn once this commits.
        # The warning itself (credits.low, once per crossing) and the daily sweep that
        # catches a lost task live in credits.entitlements.
        work_order_id = account.work_order_id
        transaction.on_commit(lambda: _enqueue_low_credit_check(work_order_id))
    return entry


def _enqueue_low_credit_check(work_order_id: int) -> None:
    # Imported here, within credits: the task module imports the sweep, which imports
    # the services that import this ledger.
    from credits.tasks import check_low_credit

    try:
        # retry=False: a broker that is down must not stall the committing request.
        check_low_credit.apply_async(args=[work_order_id], retry=False)
    except Exception as exc:  # the broker is an accelerator here; the sweep catches up
        logger.warning(
            "could not enqueue the low-credit check of work order %s: %s", work_order_id, exc
        )
