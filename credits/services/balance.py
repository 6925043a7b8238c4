"""Credits in and out by staff and contracts: grants, adjustments, SA conversion (R10, R18)."""

from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from core.errors import Conflict, RuleViolation
from credits import ledger
from credits.choices import EntryKind
from credits.models import CreditEntry
from credits.services.common import require_editor
from services.choices import PROACTIVE_CREDITS

# --- grants, adjustments, SA conversion ------------------------------------------------------


def credits_grant(*, line, by=None, removed: bool = False) -> CreditEntry | None:
    """Grant the credits of a `proactive-credits` line (sent by contracts.signals.line_changed).

    Idempotent: under the account lock it compares the line's quantity with what was
    already granted for it, and grants only the difference as a new `grant` entry
    (a quantity increase). A decrease takes the difference back as an `adjustment`
    referencing the line, refused (Conflict R10) if those credits were already spent.
    `removed`: the line is being removed; everything granted for it is taken back.
    Returns the new entry, or None when nothing changed.
    """
    if line.service.code != PROACTIVE_CREDITS:
        raise RuleViolation(_("R10: only a proactive-credits line grants credits."), rule="R10")
    if not removed and line.quantity != line.quantity.to_integral_value():
        raise RuleViolation(
            _("R10: proactive credits come in whole credits."), rule="R10", field="quantity"
        )
    with transaction.atomic():
        account = ledger.lock_account(line.work_order)
        granted = (
            CreditEntry.objects.filter(
                line=line, kind__in=(EntryKind.GRANT, EntryKind.ADJUSTMENT)
            ).aggregate(s=Sum("amount"))["s"]
            or 0
        )
        target = 0 if removed else int(line.quantity)
        delta = target - granted
        if delta == 0:
            return None
        if removed and account.balance < -delta:
            raise Conflict(
                _(
                    "R10: this line granted %(granted)s credits and only %(balance)s are left "
                    "unspent; a line whose credits were spent cannot be removed."
                )
                % {"granted": granted, "balance": account.balance},
                rule="R10",
                code="credits_spent",
            )
        kind = EntryKind.GRANT if delta > 0 else EntryKind.ADJUSTMENT
        if removed:
            reason = f"Line removed: {granted} credits taken back"
        elif granted == 0:
            reason = "Proactive credits bought"
        else:
            reason = f"Line quantity changed from {granted} to {target}"
        return ledger.post(
            account,
            kind=kind,
            amount=delta,
            by=by,
            reason=reason,
            reference=f"line:{line.pk}",
            line=line,
        )


def credits_adjust(*, work_order, amount: int, reason: str, by) -> CreditEntry:
    """A staff correction of the balance, with a reason; never below zero."""
    require_editor(by, rule="R10", what=_("adjust a credit balance"))
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation(
            _("An adjustment needs a reason."), field="reason", code="reason_required"
        )
    if int(amount) != amount or amount == 0:
        raise RuleViolation(
            _("An adjustment is a non-zero whole number of credits."), field="amount"
        )
    with transaction.atomic():
        account = ledger.lock_account(work_order)
        return ledger.post(
            account, kind=EntryKind.ADJUSTMENT, amount=int(amount), by=by, reason=reason
        )


def credits_sa_conversion(*, work_order, amount: int, reference: str, by) -> CreditEntry:
    """R18: Software Assurance incidents converted into credits at the value the vendor sets (staff)."""
    require_editor(by, rule="R18", what=_("record a Software Assurance conversion"))
    if int(amount) != amount or amount <= 0:
        raise RuleViolation(
            _("R18: a conversion adds a positive whole number of credits."),
            rule="R18",
            field="amount",
        )
    reference = (reference or "").strip()
    if not reference:
        raise RuleViolation(
            _("R18: name the SA benefit converted (reference)."), rule="R18", field="reference"
        )
    with transaction.atomic():
        account = ledger.lock_account(work_order)
        return ledger.post(
            account,
            kind=EntryKind.SA_CONVERSION,
            amount=int(amount),
            by=by,
            reason="Software Assurance benefits converted",
            reference=reference,
        )
