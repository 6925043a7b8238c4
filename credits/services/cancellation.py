"""Cancelling a scheduled redemption (R16, R20): a full refund, or the work order's
cancellation fee kept when it is late."""

from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from contracts.times import work_order_today
from core import formatting
from core.actors import author
from core.errors import Conflict, RuleViolation
from credits import ledger
from credits.choices import FREE_CANCELLATION_DAYS, EntryKind, RedemptionStatus
from credits.models import Redemption
from credits.services.common import lock_scheduled, require_editor, round_credits
from services.choices import WORKSHOPS


def redemption_cancel(
    *, redemption, by, reason: str = "", minimum_enrolment_not_reached: bool = False
) -> Redemption:
    """Cancel a scheduled redemption (R16, R20).

    At least 14 days before delivery everything is refunded. Later, the work order's
    cancellation-fee percentage of the credits (rounded half up) is kept: the ledger
    shows a `refund` of the full credits and then a `cancellation_fee` entry. Staff may
    cancel a workshop that missed its minimum enrolment with a full refund whenever (R20).
    """
    today = work_order_today(redemption.work_order)
    if minimum_enrolment_not_reached:
        require_editor(
            by, rule="R20", what=_("cancel a workshop for missing its minimum enrolment")
        )
        if redemption.service.code != WORKSHOPS:
            raise RuleViolation(
                _("R20: only workshops are cancelled for missing a minimum enrolment."),
                rule="R20",
            )
    with transaction.atomic():
        account, current = lock_scheduled(redemption)
        if current.scheduled_for < today and not minimum_enrolment_not_reached:
            raise Conflict(
                _("R16: the delivery date has passed; it can no longer be cancelled."),
                rule="R16",
            )
        days_before = (current.scheduled_for - today).days
        if minimum_enrolment_not_reached or days_before >= FREE_CANCELLATION_DAYS:
            fee = 0
        else:
            fee = round_credits(
                Decimal(current.credits) * redemption.work_order.cancellation_fee_percent / 100
            )
        why = reason.strip() or "Cancelled"
        if minimum_enrolment_not_reached:
            why = f"R20: minimum enrolment not reached. {reason}".strip()
        ref = f"redemption:{current.pk}"
        ledger.post(
            account,
            kind=EntryKind.REFUND,
            amount=current.credits,
            by=by,
            reason=why,
            reference=ref,
            redemption=current,
        )
        if fee:
            ledger.post(
                account,
                kind=EntryKind.CANCELLATION_FEE,
                amount=-fee,
                by=by,
                reason=f"R16: cancelled {days_before} day(s) before delivery: "
                f"{formatting.plain_decimal(redemption.work_order.cancellation_fee_percent)}% kept",
                reference=ref,
                redemption=current,
            )
        current.status = RedemptionStatus.CANCELLED
        current.cancelled_at = timezone.now()
        current.cancelled_by = author(by)
        current.cancellation_reason = why[:300]
        current.version = F("version") + 1
        current.save(
            update_fields=[
                "status",
                "cancelled_at",
                "cancelled_by",
                "cancellation_reason",
                "version",
            ]
        )
        current.refresh_from_db()
    return current
