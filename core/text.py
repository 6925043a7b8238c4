"""What typed text and dates may contain (kernel: no domain imports).

- A single-line field (a title, a name, a reference) holds no control characters:
  a line break in an incident title once made its e-mail subject an invalid header.
  Multi-line fields may hold tab, line feed and carriage return, nothing else below
  U+0020. No field holds NUL (PostgreSQL refuses it) or a lone surrogate (not
  encodable), so both are refused at the door.
- `single_line()` folds what is already stored into something safe for an e-mail
  header (the send side never trusts the input side).
- Dates typed by people or tools lie in DATE_MIN..DATE_MAX: a year-1 or year-9999 date
  is a typo, and date arithmetic near the ends of the calendar overflows.
"""

from __future__ import annotations

import datetime as dt
import re

DATE_MIN = dt.date(2000, 1, 1)
DATE_MAX = dt.date(2100, 12, 31)

# Line and paragraph separators that are not Cc but break a header or a line.
_LINE_BREAKS = "\u0085\u2028\u2029"
_FOLD = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")


def has_nul_or_surrogate(value: str) -> bool:
    return "\x00" in value or any("\ud800" <= c <= "\udfff" for c in value)


def single_line_error(value: str) -> bool:
    """True when `value` cannot be a single-line field's value."""
    return any(
        (c < " " or c == "\x7f" or c in _LINE_BREAKS) for c in value
    ) or has_nul_or_surrogate(value)


def multi_line_error(value: str) -> bool:
    """True when `value` cannot be a multi-line field's value."""
    return any((c < " " and c not in "\t\n\r") or c == "\x7f" for c in value) or (
        has_nul_or_surrogate(value)
    )


def single_line(value: str) -> str:
    """`value` on one line: every run of control characters becomes one space."""
    return _FOLD.sub(" ", value or "").strip()


def date_in_range(value: dt.date) -> bool:
    if isinstance(value, dt.datetime):
        value = value.date()
    return DATE_MIN <= value <= DATE_MAX
