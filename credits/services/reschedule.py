"""Moving a scheduled redemption to another delivery date (R10, R14, R15, R16)."""

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from contracts.times import work_order_today
from core import formatting
from core.errors import Conflict, RuleViolation
from credits import ledger
from credits.choices import FREE_CANCELLATION_DAYS, EntryKind
from credits.models import Redemption
from credits.services.common import lock_scheduled, round_credits
from credits.services.redemptions import check_redemption_request


def reschedule_fee(*, redemption, today: dt.date | None = None) -> int:
    """What moving `redemption` today costs (R16): nothing 14 days or more before its
    delivery day, else the work order's cancellation-fee percentage of its credits
    (rounded half up). Shared with the confirm page, so what it shows is what is charged."""
    today = today or work_order_today(redemption.work_order)
    if (redemption.scheduled_for - today).days >= FREE_CANCELLATION_DAYS:
        return 0
    return round_credits(
        Decimal(redemption.credits) * redemption.work_order.cancellation_fee_percent / 100
    )


def redemption_reschedule(
    *, redemption, scheduled_for: dt.date, by, reason: str = ""
) -> Redemption:
    """Move a scheduled redemption to `scheduled_for` (R16).

    The new date meets the rules of a new request (R10 not in the past, R14 inside the
    term, R15 the 60-day cut-off, checked today). Moving less than 14 days before the
    current (original) delivery day costs the work order's cancellation-fee percentage
    of the credits, rounded half up, as one `cancellation_fee` entry whose reference
    says it is a move; a balance short of that fee is a Conflict (R16). Nothing is
    written on a refusal. Bumps the redemption's version.
    """
    today = work_order_today(redemption.work_order)
    reason = (reason or "").strip()
    with transaction.atomic():
        account, current = lock_scheduled(redemption)
        work_order = current.work_order
        original = current.scheduled_for
        if scheduled_for == original:
            raise RuleViolation(
                _("The redemption is already scheduled for %(date)s.") % {"date": original},
                field="scheduled_for",
            )
        if original < today:
            raise Conflict(
                _("R16: the delivery date has passed; it can no longer be moved."), rule="R16"
            )
        check_redemption_request(
            work_order=work_order,
            service=current.service,
            quantity=current.quantity,
            scheduled_for=scheduled_for,
            delivery_mode=current.delivery_mode,
            today=today,
        )
        fee = reschedule_fee(redemption=current, today=today)
        if fee:
            if account.balance < fee:
                raise Conflict(
                    _(
                        "R16: moving less than %(days)s days before delivery costs %(fee)s "
                        "credits; the balance is %(balance)s."
                    )
                    % {"days": FREE_CANCELLATION_DAYS, "fee": fee, "balance": account.balance},
                    rule="R16",
                    code="insufficient_credits",
                )
            days_before = (original - today).days
            ledger.post(
                account,
                kind=EntryKind.CANCELLATION_FEE,
                amount=-fee,
                by=by,
                reason=(
                    f"R16: moved {days_before} day(s) before delivery: "
                    f"{formatting.plain_decimal(work_order.cancellation_fee_percent)}% kept. {reason}"
                ).strip(),
                reference=f"redemption:{current.pk} moved {original} -> {scheduled_for}",
                redemption=current,
            )
        current.scheduled_for = scheduled_for
        current.version = F("version") + 1
        current.save(update_fields=["scheduled_for", "version"])
        current.refresh_from_db()
    return current
