"""Helpers shared by the credits service modules."""

import datetime as dt

from django.utils.translation import gettext as _

from accounts.permissions import can_edit
from contracts.times import work_order_today
from core.errors import NotAllowed
from credits import ledger

#: Re-exported: the R10 rounding (halves up) is part of the services' contract.
round_credits = ledger.round_credits


def _require_staff(by, *, rule: str, what: str) -> None:
    if not (
        by is not None and getattr(by, "is_authenticated", False) and getattr(by, "is_staff", False)
    ):
        # `what` comes translated from the caller ("adjust a credit balance").
        raise NotAllowed(
            _("%(rule)s: only staff may %(action)s.") % {"rule": rule, "action": what},
            rule=rule,
            code="staff_only",
        )


def _require_editor(by, *, rule: str, what: str) -> None:
    """Staff who may change balances: administrators and account managers, not read-only staff."""
    _require_staff(by, rule=rule, what=what)
    if not can_edit(by):
        raise NotAllowed(
            _("%(rule)s: read-only staff may not %(action)s.") % {"rule": rule, "action": what},
            rule=rule,
            code="staff_only",
        )


def _today(work_order) -> dt.date:
    """Today for `work_order`: contracts.times.work_order_today (its support location's
    zone, BUSINESS_TIME_ZONE without one).

    Not the active time zone: the API activates UTC for its timestamps, and a term, a
    cut-off (R15) or the 14-day line (R16) must not move with the caller's zone.
    """
    return work_order_today(work_order)
