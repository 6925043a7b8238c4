"""``AroundTheClock``: the 24x7 clock (R6), real elapsed time.

It answers the same questions as ``BusinessCalendar`` (the ``Clock`` protocol), so a
response target does not care which clock it runs on.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from contracts.clock.base import Interval, _duration_us, _from_us, _to_us


class AroundTheClock:
    """The 24x7 clock (R6): real elapsed time, DST changes included."""

    def __repr__(self) -> str:
        return "<AroundTheClock>"

    def add(self, start: datetime, duration: timedelta) -> datetime:
        return _from_us(_to_us(start) + _duration_us(duration))

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        # Through integers: two datetimes sharing one tzinfo subtract as wall times,
        # which would be an hour off across a DST change.
        return timedelta(microseconds=max(0, _to_us(end) - _to_us(start)))

    def is_open(self, at: datetime) -> bool:
        _to_us(at)  # validates: aware datetimes only
        return True

    def next_opening(self, at: datetime) -> datetime:
        return _from_us(_to_us(at))

    def closed_dates_between(self, start: datetime, end: datetime) -> list[date]:
        _to_us(start)  # validates: aware datetimes only
        _to_us(end)
        return []

    def openings(self, start: datetime, end: datetime) -> list[Interval]:
        low, high = _to_us(start), _to_us(end)
        return [Interval(_from_us(low), _from_us(high))] if low < high else []
