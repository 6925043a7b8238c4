"""The one formatting layer: numbers, quantities with units, credits, hours, money, percentages,
dates, and customer-facing rule wording, in the active language.

Python code (messages, e-mails, charts, CSV) calls these functions; templates use the filters of
the same names in `portal_tags` (`{{ x|num }}`, `{{ q|qty:unit }}`, `{{ n|credits }}`,
`{{ h|hours }}`, `{{ a|money:"EUR" }}`, `{{ p|pct }}`, `{{ d|day }}`, `{{ t|moment }}`,
`{{ t|short_moment }}`). Everything goes through Django's localized number formatting, so
Dutch shows "14,5" and "1.200" and English "14.5" and "1,200"; a Decimal is normalized
without ever falling into E-notation (Decimal("1E+2") -> "100").
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from django.utils import formats, timezone
from django.utils.translation import get_language, ngettext, pgettext

# ---- numbers ----------------------------------------------------------------------------------


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def plain_decimal(value) -> str:
    """A Decimal as plain digits, trailing zeros dropped, never E-notation: 1E+2 -> "100",
    12.50 -> "12.5". Not localized: for keys, CSV machine columns and form initial values."""
    d = _decimal(value)
    if d is None:
        return "" if value in (None, "") else str(value)
    d = d.normalize()
    if d == d.to_integral_value():
        d = d.quantize(Decimal(1))
    return f"{d:f}"


def number(value, decimals: int | None = None) -> str:
    """A localized number: grouping and decimal separator of the active language; trailing zeros
    dropped unless `decimals` is given."""
    d = _decimal(value)
    if d is None:
        return "" if value in (None, "") else str(value)
    if decimals is None:
        d = Decimal(plain_decimal(d))
    return formats.number_format(d, decimal_pos=decimals, use_l10n=True, force_grouping=True)


def approximately(value) -> str:
    """An estimated count, localized, to two significant figures (48,022 -> 48,000):
    the planner's estimate is no more exact than that (core.pagination)."""
    n = int(value or 0)
    if n >= 100:
        magnitude = 10 ** (len(str(n)) - 2)
        n = round(n / magnitude) * magnitude
    return number(n)


def _count_for_plural(d: Decimal) -> int:
    # ngettext needs an int: 1 is singular, anything else (0, 2, 1.5) plural.
    return 1 if d == 1 else 2


def quantity(value, unit: str) -> str:
    """A quantity with its unit, singular or plural in the active language: "1 unit", "2 units",
    "1,5 uur"."""
    d = _decimal(value)
    if d is None:
        return ""
    n, c = number(d), _count_for_plural(d)
    forms = {
        "units": ngettext("%(n)s unit", "%(n)s units", c),
        "hours": ngettext("%(n)s hour", "%(n)s hours", c),
        "days": ngettext("%(n)s day", "%(n)s days", c),
        "credits": ngettext("%(n)s credit", "%(n)s credits", c),
        "participants": ngettext("%(n)s participant", "%(n)s participants", c),
        "visits": ngettext("%(n)s visit", "%(n)s visits", c),
    }
    return forms.get(unit, f"%(n)s {unit}") % {"n": n}


def unit_name(unit: str, value=2) -> str:
    """The unit alone, singular or plural ("per unit" / "eenheden")."""
    d = _decimal(value) or Decimal(2)
    c = _count_for_plural(d)
    forms = {
        "units": ngettext("unit", "units", c),
        "hours": ngettext("hour", "hours", c),
        "days": ngettext("day", "days", c),
        "credits": ngettext("credit", "credits", c),
        "participants": ngettext("participant", "participants", c),
        "visits": ngettext("visit", "visits", c),
    }
    return forms.get(unit, unit)


def credits(value) -> str:
    return quantity(value, "credits")


def hours(value) -> str:
    return quantity(value, "hours")


def money(value, currency: str = "EUR") -> str:
    """An amount with two decimals and its ISO currency code: "EUR 1.250,00" in Dutch."""
    d = _decimal(value)
    if d is None:
        return ""
    return f"{currency} {number(d, 2)}"


def percent(value) -> str:
    """A percentage: 100 -> "100%", 12.5 -> "12,5%" in Dutch."""
    d = _decimal(value)
    if d is None:
        return ""
    return pgettext("percentage", "%(n)s%%") % {"n": number(d)}


# ---- dates: one format per kind --------------------------------------------------------------
# Django's "M" capitalises ("Mei"); Dutch writes months in lower case, so the formats use "F"/"b".
_FORMATS = {
    # kind: (English, Dutch)
    "day": ("j M Y", "j b Y"),  # 6 May 2026 / 6 mei 2026
    "moment": ("j M Y, H:i", "j b Y, H:i"),  # 6 May 2026, 14:05
    "short_moment": ("D j M, H:i", "D j b, H:i"),  # Wed 6 May, 14:05 (queues, timelines)
    "month": ("M Y", "b Y"),  # May 2026 (chart axes)
    "long_day": ("l j F Y", "l j F Y"),  # Wednesday 6 May 2026 / woensdag 6 mei 2026
}


def localize_pattern(pattern: str) -> str:
    """A Django date pattern for the active language: Dutch writes month abbreviations in lower
    case ("b"), where Django's "M" would capitalise them ("Mrt")."""
    if (get_language() or "en").startswith("nl"):
        return pattern.replace("M", "b")
    return pattern


def _date_pattern(kind: str) -> str:
    en, nl = _FORMATS[kind]
    return nl if (get_language() or "en").startswith("nl") else en


def fmt_date(value, kind: str = "day") -> str:
    """A date or datetime in the one format of its kind; datetimes in the active time zone."""
    if value in (None, ""):
        return ""
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        if kind in ("day", "long_day", "month"):
            value = value.date()
    return formats.date_format(value, _date_pattern(kind))


# ---- plain words for customers ----------------------------------------------------------------
_RULE = r"R(?:[1-9]|1\d|2[0-7])"
_RULES = rf"{_RULE}(?:\s*(?:,|and|en|/)\s*{_RULE})*"
_RULE_PATTERNS = [
    (re.compile(rf"\s*\(\s*{_RULES}\s*\)"), ""),  # " (R16)"
    (re.compile(rf",\s*{_RULES}\s*\)"), ")"),  # "(around the clock, R6)"
    (re.compile(rf"\(\s*{_RULES}\s*,\s*"), "("),  # "(R6, around the clock)"
    (re.compile(rf"(?<![\w-]){_RULE}\s+(?=[A-Z])"), ""),  # "R4 Advanced critical: ..."
    (re.compile(rf"\b{_RULE}\s+(?=override)"), ""),
]
# "R16: less than ..." -> "Less than ...": the prefix goes, the sentence keeps its capital.
_RULE_PREFIX = re.compile(rf"(?<![\w-]){_RULES}\s*:\s*(\w?)")


def plain_words(text: str) -> str:
    """Text for a customer: the rule numbers (R1..R27) taken out, the words that say what the
    rule means kept. Staff see the text unchanged."""
    for rx, repl in _RULE_PATTERNS:
        text = rx.sub(repl, text)
    return _RULE_PREFIX.sub(lambda m: m.group(1).upper(), text)
