"""Ledger entries in the reader's language.

`CreditEntry.reason` is stored once, in English, when the entry is written (the ledger is
append-only). What the system wrote is recognised here and said again in the active language,
with numbers and dates through core.formatting; what a person wrote is shown as written.
"""

from __future__ import annotations

import datetime as dt
import re

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core import formatting
from credits.choices import EntryKind

_CHANGED = re.compile(r"^Line quantity changed from (\d+) to (\d+)$")
_REMOVED = re.compile(r"^Line removed: (\d+) credits taken back$")
_FEE = re.compile(
    r"^R16: (cancelled|moved) (\d+) day\(s\) before delivery: ([\d.E+]+)% kept\.?\s*(.*)$"
)
_EXPIRY = re.compile(r"^R14: unused credits lapse at the end of the term \((\d{4}-\d\d-\d\d)\)$")
_ENROLMENT = re.compile(r"^R20: minimum enrolment not reached\.\s*(.*)$")


def entry_text(entry) -> str:
    """What a ledger entry was for, in the active language."""
    reason = entry.reason or ""
    redemption = getattr(entry, "redemption", None)
    if entry.kind == EntryKind.REDEMPTION and redemption is not None:
        return _("%(quantity)s %(service)s on %(date)s") % {
            "quantity": formatting.quantity(redemption.quantity, redemption.service.unit),
            "service": redemption.service.name,
            "date": formatting.fmt_date(redemption.scheduled_for, "day"),
        }
    if reason == "Proactive credits bought":
        return _("Proactive credits bought")
    if reason == "Software Assurance benefits converted":
        return _("Software Assurance benefits converted")
    if reason == "Cancelled":
        return _("Cancelled")
    if m := _CHANGED.match(reason):
        return _("Line quantity changed from %(old)s to %(new)s") % {
            "old": formatting.number(m[1]),
            "new": formatting.number(m[2]),
        }
    if m := _REMOVED.match(reason):
        return _("Line removed: %(credits)s taken back") % {"credits": formatting.credits(m[1])}
    if m := _FEE.match(reason):
        days = int(m[2])
        values = {
            "days": ngettext("%(n)s day", "%(n)s days", days) % {"n": formatting.number(days)},
            "percent": formatting.percent(formatting.plain_decimal(m[3])),
        }
        text = (
            _("R16: cancelled %(days)s before delivery: %(percent)s kept")
            if m[1] == "cancelled"
            else _("R16: moved %(days)s before delivery: %(percent)s kept")
        ) % values
        return f"{text}. {m[4]}".strip() if m[4] else text
    if m := _EXPIRY.match(reason):
        return _("R14: unused credits lapse at the end of the term (%(date)s)") % {
            "date": formatting.fmt_date(dt.date.fromisoformat(m[1]), "day")
        }
    if m := _ENROLMENT.match(reason):
        text = _("R20: minimum enrolment not reached.")
        return f"{text} {m[1]}".strip()
    return reason
