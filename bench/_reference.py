"""A minute-stepping reference for business-hours deadlines, for bench/clock.py.

Obviously correct and slow: it walks forward one minute at a time in UTC and asks
the local wall clock whether the office is open. Valid for minute-aligned starts,
opening hours and UTC offsets (true of the zones and hours benchmarked).
"""

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MINUTE = timedelta(minutes=1)


class MinuteReference:
    """Open when the local date is a working weekday, not closed, and the wall
    clock shows a time in ``[opens, closes)``."""

    max_steps = 60 * 24 * 7 * 8  # eight weeks: far beyond any target benchmarked

    def __init__(
        self,
        tz: str,
        closed: Iterable[date],
        opens: time = time(9),
        closes: time = time(17, 30),
        weekdays: Iterable[int] = range(5),
    ) -> None:
        self.tz = ZoneInfo(tz)
        self.closed = frozenset(closed)
        self.opens, self.closes = opens, closes
        self.weekdays = frozenset(weekdays)

    def is_open(self, instant: datetime) -> bool:
        local = instant.astimezone(self.tz)
        return (
            local.weekday() in self.weekdays
            and local.date() not in self.closed
            and self.opens <= local.time() < self.closes
        )

    def add(self, start: datetime, minutes: int) -> datetime:
        instant, remaining = start, minutes
        for _ in range(self.max_steps):
            if self.is_open(instant):
                if remaining == 0:
                    return instant
                remaining -= 1
                if remaining == 0:
                    return instant + MINUTE
            instant += MINUTE
        raise RuntimeError(f"no deadline within {self.max_steps} minutes of {start}")
