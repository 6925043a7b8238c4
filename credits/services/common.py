"""Helpers shared by the credits service modules."""

from django.utils.translation import gettext as _

from accounts.permissions import can_edit
from core.errors import Conflict, NotAllowed
from credits import ledger
from credits.choices import RedemptionStatus
from credits.models import Redemption

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


def require_editor(by, *, rule: str, what: str) -> None:
    """Staff who may change balances: administrators and account managers, not read-only staff."""
    _require_staff(by, rule=rule, what=what)
    if not can_edit(by):
        raise NotAllowed(
            _("%(rule)s: read-only staff may not %(action)s.") % {"rule": rule, "action": what},
            rule=rule,
            code="staff_only",
        )


def lock_scheduled(redemption) -> tuple:
    """Lock the account, then re-read the redemption: only a scheduled one may change."""
    account = ledger.lock_account(redemption.work_order)
    current = Redemption.objects.select_for_update().select_related("service").get(pk=redemption.pk)
    if current.status != RedemptionStatus.SCHEDULED:
        raise Conflict(
            _("This redemption is already %(status)s.")
            % {"status": current.get_status_display().lower()},
            code="redemption_not_scheduled",
        )
    return account, current
