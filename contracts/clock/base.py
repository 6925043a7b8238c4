"""What every part of the clock shares: the errors, ``Interval``, the ``Clock``
protocol, and the integer time scale.

The conversions here turn aware datetimes into the integer microsecond scale and
back, and are where a naive datetime or a negative duration is refused.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple, Protocol

# Internally instants are integer microseconds since the Unix epoch (UTC), and local
# calendar days are "epoch days": ``date.toordinal() - _EPOCH_ORDINAL``. The naive
# local midnight of epoch day n is ``n * _DAY`` on the same scale, so an instant u
# has wall time ``u + utcoffset``. Integers keep the arithmetic exact and fast.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_MICROSECOND = timedelta(microseconds=1)
_SECOND = 1_000_000
_DAY = 86_400 * _SECOND
_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday


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


def _to_us(value: datetime) -> int:
    try:
        # Aware minus aware is absolute time, whatever zones the operands are in.
        # Naive minus aware raises TypeError: that is how naive values are caught,
        # without a second utcoffset() call on the hot path.
        return (value - _EPOCH) // _MICROSECOND
    except TypeError:
        raise _not_an_instant(value) from None


def _not_an_instant(value: object) -> Exception:
    if isinstance(value, datetime):
        return CalendarError(f"naive datetime {value.isoformat()}: give it a time zone")
    return TypeError(f"expected an aware datetime, got {type(value).__name__}")


def _duration_us(duration: timedelta) -> int:
    try:
        us = duration // _MICROSECOND
    except TypeError:
        raise TypeError(f"expected a timedelta, got {type(duration).__name__}") from None
    if us < 0:
        raise CalendarError(f"negative duration {duration}")
    return us


def _from_us(us: int) -> datetime:
    return _EPOCH + _MICROSECOND * us


def _time_us(value: time) -> int:
    return (value.hour * 3600 + value.minute * 60 + value.second) * _SECOND + value.microsecond


def _year_of(epoch_day: int) -> int:
    return date.fromordinal(epoch_day + _EPOCH_ORDINAL).year
