"""``AroundTheClock``: the 24x7 clock (R6), real elapsed time.

It answers the same questions as ``BusinessCalendar`` (the ``Clock`` protocol), so a
response target does not care which clock it runs on.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from contracts.clock.base import Interval, duration_us, from_us, to_us


class AroundTheClock:
    """The 24x7 clock (R6): real elapsed time, DST changes included."""

    def __repr__(self) -> str:
        return "<AroundTheClock>"

    def add(self, start: datetime, duration: timedelta) -> datetime:
        return from_us(to_us(start) + duration_us(duration))

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        # Through integers: two datetimes sharing one tzinfo subtract as wall times,
        # which would be an hour off across a DST change.
        return timedelta(microseconds=max(0, to_us(end) - to_us(start)))

    def is_open(self, at: datetime) -> bool:
        to_us(at)  # validates: aware datetimes only
        return True

    def next_opening(self, at: datetime) -> datetime:
        return from_us(to_us(at))

    def closed_dates_between(self, start: datetime, end: datetime) -> list[date]:
        to_us(start)  # validates: aware datetimes only
        to_us(end)
        return []

    def openings(self, start: datetime, end: datetime) -> list[Interval]:
        low, high = to_us(start), to_us(end)
        return [Interval(from_us(low), from_us(high))] if low < high else []
