"""Receivers of contracts' signals (docs/ARCHITECTURE.md, "Cross-app events").

contracts cannot import credits (dependencies point one way), so it announces line
changes and credits keeps its ledger in step, inside the sender's transaction: if
the grant fails, the line change rolls back with it.
"""

from django.dispatch import receiver

from contracts.signals import line_changed, term_extended
from services.choices import PROACTIVE_CREDITS


@receiver(line_changed, dispatch_uid="credits.grant_proactive_credits")
def grant_proactive_credits(sender, line, created=False, by=None, removed=False, **kwargs):
    """A proactive-credits line added, resized or removed: grant (or take back) the difference (R10).

    On removal the whole grant is taken back (an adjustment), or the removal is refused
    (Conflict R10) when those credits were spent; the line's entries then net zero, so
    deleting the line only unlinks them (CreditEntry.line, set_null_once_settled).
    """
    if line.service.code != PROACTIVE_CREDITS:
        return
    from credits.services import credits_grant

    credits_grant(line=line, by=by, removed=removed)


@receiver(term_extended, dispatch_uid="credits.expire_on_extension")
def expire_on_extension(sender, work_order, by=None, **kwargs):
    """R14: a term extended with "expire": the old term's unused credits and hours lapse now."""
    from credits.services import credits_expire_on_extension

    credits_expire_on_extension(work_order=work_order, by=by)
