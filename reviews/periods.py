"""Review periods (no Django): a month `2026-09`, a quarter `2026-Q3`, or `term` to date.

Periods are spans of business dates (settings.TIME_ZONE, as credits and contracts
count "today"); an incident belongs to the period its opening falls in, in that zone.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import re
from dataclasses import dataclass

MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
QUARTER_RE = re.compile(r"^(\d{4})-Q([1-4])$")
TERM = "term"


class PeriodError(ValueError):
    """A period key that is not `YYYY-MM`, `YYYY-Qn` or `term`."""


@dataclass(frozen=True)
class Period:
    """A span of business dates, both ends included."""

    key: str
    kind: str  # "month", "quarter" or "term"
    start: dt.date
    end: dt.date

    def months(self) -> list[dt.date]:
        """The first day of every month the period touches, in order."""
        out, day = [], self.start.replace(day=1)
        while day <= self.end:
            out.append(day)
            day = next_month(day)
        return out

    def is_finished(self, today: dt.date) -> bool:
        """Finished: its last day is before today, so nothing of it can still happen."""
        return self.end < today

    def as_dict(self) -> dict:
        return {
            "key": self.key,
            "kind": self.kind,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
        }


def next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def month_period(year: int, month: int) -> Period:
    last = calendar.monthrange(year, month)[1]
    return Period(
        f"{year:04d}-{month:02d}", "month", dt.date(year, month, 1), dt.date(year, month, last)
    )


def quarter_period(year: int, quarter: int) -> Period:
    first = 3 * (quarter - 1) + 1
    last_month = first + 2
    return Period(
        f"{year:04d}-Q{quarter}",
        "quarter",
        dt.date(year, first, 1),
        dt.date(year, last_month, calendar.monthrange(year, last_month)[1]),
    )


def parse_period(key: str, *, term_start: dt.date, term_end: dt.date, today: dt.date) -> Period:
    """The period a key names. `term` runs from the term's start to today (or its end)."""
    key = (key or "").strip()
    if key == TERM:
        return Period(TERM, TERM, term_start, min(max(today, term_start), term_end))
    if m := MONTH_RE.match(key):
        year, month = int(m.group(1)), int(m.group(2))
        if not 2000 <= year <= 2100:
            raise PeriodError(key)
        return month_period(year, month)
    if m := QUARTER_RE.match(key.upper()):
        year = int(m.group(1))
        if not 2000 <= year <= 2100:
            raise PeriodError(key)
        return quarter_period(year, int(m.group(2)))
    raise PeriodError(key)


def following(period: Period) -> Period | None:
    """The period after this one (same kind); None for term to date."""
    if period.kind == "month":
        nxt = next_month(period.start)
        return month_period(nxt.year, nxt.month)
    if period.kind == "quarter":
        nxt = next_month(period.end)
        return quarter_period(nxt.year, (nxt.month - 1) // 3 + 1)
    return None


def previous_month(today: dt.date) -> Period:
    """The month that ended before today's month began (the worker's monthly review)."""
    last = today.replace(day=1) - dt.timedelta(days=1)
    return month_period(last.year, last.month)


def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile (the smallest value with at least `fraction` of values at
    or below it): p90 of 10 values is the 9th. None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(round(len(ordered) * fraction, 9)))
    return ordered[rank - 1]


def median(values: list[float]) -> float | None:
    """The middle value (the mean of the two middle ones for an even count)."""
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[mid]
    return (ordered[mid - 1] + ordered[mid]) / 2
