"""Delivering a redemption, and lapsing the ones never delivered at the end of the term (R14)."""

import datetime as dt

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from contracts.times import work_order_today
from core.actors import author
from core.errors import Conflict, RuleViolation
from credits import ledger
from credits.choices import RedemptionStatus
from credits.models import Redemption
from credits.services.common import require_editor


def redemption_mark_delivered(*, redemption, delivered_on: dt.date | None = None, by) -> Redemption:
    """Record that a scheduled redemption's service was delivered (R14; staff editors).

    `delivered_on` defaults to today, is never in the future and falls within the
    work order's term. Under the account lock (the same order as credits_expire,
    which lapses what is still scheduled) the redemption is re-read: only a
    scheduled one is delivered, so of two clicks the second gets a Conflict.
    """
    require_editor(by, rule="R14", what=_("mark a redemption delivered"))
    today = work_order_today(redemption.work_order)
    delivered_on = delivered_on or today
    work_order = redemption.work_order
    if delivered_on > today:
        raise RuleViolation(
            _("R14: a service is marked delivered once delivered, not in advance."),
            rule="R14",
            field="delivered_on",
        )
    if not (work_order.start_date <= delivered_on <= work_order.end_date):
        raise RuleViolation(
            _("R14: the delivery date must fall within the term (%(start)s to %(end)s).")
            % {"start": work_order.start_date, "end": work_order.end_date},
            rule="R14",
            field="delivered_on",
        )
    with transaction.atomic():
        # Lock order as in credits_expire and the other redemption writes: account, then row.
        ledger.lock_account(work_order)
        current = (
            Redemption.objects.select_for_update().select_related("service").get(pk=redemption.pk)
        )
        if current.status != RedemptionStatus.SCHEDULED:
            raise Conflict(
                _("R14: only a scheduled redemption is delivered; this one is %(status)s.")
                % {"status": current.get_status_display().lower()},
                rule="R14",
                code="redemption_not_scheduled",
            )
        current.status = RedemptionStatus.DELIVERED
        current.delivered_on = delivered_on
        current.delivered_by = author(by)
        current.version = F("version") + 1
        current.save(update_fields=["status", "delivered_on", "delivered_by", "version"])
        current.refresh_from_db()
    return current


def redemptions_lapse(*, work_order) -> int:
    """R14: every redemption still scheduled at the end of the term lapses; returns how many.

    Called by credits_expire inside its transaction, after it locked the account, so a
    concurrent redemption_mark_delivered either went first (the row is delivered) or
    waits and then finds it lapsed. No refund: the credits were spent on a service
    that was not used within the term. One conditional UPDATE: a rerun finds none.
    """
    return Redemption.objects.filter(
        work_order=work_order, status=RedemptionStatus.SCHEDULED
    ).update(status=RedemptionStatus.LAPSED, lapsed_at=timezone.now(), version=F("version") + 1)
