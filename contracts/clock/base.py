"""What every part of the clock shares: the errors, ``Interval``, the ``Clock``
protocol, and the integer time scale.

The conversions here turn aware datetimes into the integer microsecond scale and
back, and are where a naive datetime or a negative duration is refused.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple, Protocol

# Internally instants are integer microseconds since the Unix epoch (UTC), and local
# calendar days are "epoch days": ``date.toordinal() - EPOCH_ORDINAL``. The naive
# local midnight of epoch day n is ``n * DAY`` on the same scale, so an instant u
# has wall time ``u + utcoffset``. Integers keep the arithmetic exact and fast.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
MICROSECOND = timedelta(microseconds=1)
SECOND = 1_000_000
DAY = 86_400 * SECOND
EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday


class CalendarError(ValueError):
    """A calendar or a clock question that has no sensible answer."""


class Interval(NamedTuple):
    """A span of open time, ``[start, end)``, as UTC datetimes."""

    start: datetime
    end: datetime

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


class Clock(Protocol):
    """What a response target needs from a clock: a business calendar or 24x7."""

    def add(self, start: datetime, duration: timedelta) -> datetime: ...

    def elapsed(self, start: datetime, end: datetime) -> timedelta: ...

    def is_open(self, at: datetime) -> bool: ...

    def next_opening(self, at: datetime) -> datetime: ...

    def closed_dates_between(self, start: datetime, end: datetime) -> list[date]: ...

    def openings(self, start: datetime, end: datetime) -> list[Interval]: ...


# --- conversions ----------------------------------------------------------------


def to_us(value: datetime) -> int:
    try:
        # Aware minus aware is absolute time, whatever zones the operands are in.
        # Naive minus aware raises TypeError: that is how naive values are caught,
        # without a second utcoffset() call on the hot path.
        return (value - EPOCH) // MICROSECOND
    except TypeError:
        raise not_an_instant(value) from None


def not_an_instant(value: object) -> Exception:
    if isinstance(value, datetime):
        return CalendarError(f"naive datetime {value.isoformat()}: give it a time zone")
    return TypeError(f"expected an aware datetime, got {type(value).__name__}")


def duration_us(duration: timedelta) -> int:
    try:
        us = duration // MICROSECOND
    except TypeError:
        raise TypeError(f"expected a timedelta, got {type(duration).__name__}") from None
    if us < 0:
        raise CalendarError(f"negative duration {duration}")
    return us


def from_us(us: int) -> datetime:
    return EPOCH + MICROSECOND * us


def time_us(value: time) -> int:
    return (value.hour * 3600 + value.minute * 60 + value.second) * SECOND + value.microsecond


def year_of(epoch_day: int) -> int:
    return date.fromordinal(epoch_day + EPOCH_ORDINAL).year
