"""R18 shortfall windows: when a Software Assurance shortfall may be invoiced. No Django here.

"Within 30 days of the start or anniversary, a shortfall may be invoiced" (DOMAIN.md R18;
the source: "binnen 30 dagen na de aanvangsdatum van ondersteuning en/of de jaarlijkse
verjaardag van meerjarige ondersteuning"). Decisions:

- A window opens on the term's start date (year 0) and on each anniversary of it that
  falls strictly before the end date (year n: the n-th anniversary). An anniversary on
  the end date or later starts no year of support inside this term, so it opens nothing.
- The window is inclusive: the opening day is day 0 and day 30 (SHORTFALL_WINDOW_DAYS)
  is its last day; day 31 is outside.
- A window never runs past the end of the term (an invoice needs a current work order).
- An anniversary of 29 February falls on 28 February in a year without one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from credits.choices import SHORTFALL_WINDOW_DAYS


@dataclass(frozen=True)
class ShortfallWindow:
    """The days on which one year's shortfall may be invoiced (R18)."""

    #: 0: the start of the term; n: its n-th anniversary.
    year: int
    #: The start date or the anniversary: day 0 of the window.
    opens_on: dt.date
    #: The last day an invoice is allowed: day 30, or the term's end date if sooner.
    closes_on: dt.date

    def contains(self, day: dt.date) -> bool:
        return self.opens_on <= day <= self.closes_on


def anniversary(start: dt.date, years: int) -> dt.date:
    """`start` moved `years` years on; 29 February becomes 28 February in common years."""
    try:
        return start.replace(year=start.year + years)
    except ValueError:  # 29 February into a year without one
        return start.replace(year=start.year + years, day=28)


def shortfall_windows(*, start_date: dt.date, end_date: dt.date) -> list[ShortfallWindow]:
    """Every shortfall window of a term, oldest first (the start, then each anniversary)."""
    windows = []
    year = 0
    while (opens_on := anniversary(start_date, year)) < end_date:
        closes_on = min(opens_on + dt.timedelta(days=SHORTFALL_WINDOW_DAYS), end_date)
        windows.append(ShortfallWindow(year=year, opens_on=opens_on, closes_on=closes_on))
        year += 1
    return windows


def shortfall_window(
    *, start_date: dt.date, end_date: dt.date, on: dt.date
) -> ShortfallWindow | None:
    """The window open on `on`, else the next one to open; None when none is left in the term."""
    for window in shortfall_windows(start_date=start_date, end_date=end_date):
        if on <= window.closes_on:
            return window
    return None


def work_order_shortfall_window(work_order, on: dt.date) -> ShortfallWindow | None:
    """`shortfall_window` for anything with `start_date` and `end_date` (a WorkOrder)."""
    return shortfall_window(start_date=work_order.start_date, end_date=work_order.end_date, on=on)
