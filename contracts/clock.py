"""The SLA clock: when a response target falls due, and how much of it has run.

Plain Python over timezone-aware datetimes, with no Django in it, so that it can be
tested on its own and fast (STYLE.md). Two clocks share one interface:

* ``BusinessCalendar`` counts only the opening hours of a support location (R5):
  per-weekday hours in the location's local civil time, minus closed dates
  (public holidays and the location's own closure days).
* ``AroundTheClock`` counts real elapsed time (R6): a 1-hour target opened at 01:30
  on the night the clocks spring forward is due at 03:30 local time.

Every method takes aware datetimes in any zone and returns UTC datetimes.

What "open" means, precisely
----------------------------
A ``BusinessCalendar`` is open at an instant exactly when a wall clock at the
location, set to the IANA zone's civil time, shows a time inside one of that
weekday's opening intervals ``[open, close)`` on a date that is not closed. That one
sentence settles daylight saving time deterministically:

* 09:00 is 09:00 local on both sides of a DST change, so a change never shifts a
  deadline made of ordinary office hours (R5).
* A boundary inside a spring-forward gap (02:30 on a night that jumps from 02:00 to
  03:00) moves to the transition instant: the office opens, or closes, when the wall
  clock jumps past that time.
* Wall times inside a fall-back fold happen twice, and count twice: hours 02:30-04:00
  on a night that falls back from 03:00 to 02:00 are open 02:30-03:00 (summer time)
  and again 02:30-04:00 (winter time), two hours in all.

Zones change their clocks at night, so office hours like 09:00-17:30 never meet a
transition; the rule matters for night shifts, and it is the rule the property tests
check against a minute-stepping reference. Near a transition the walk takes a few
days together in time order, because dates can interleave there (St. John's fell
back from 00:01 to 23:01 until 2011). (The source speaks of "plaatselijke
standaardtijd"; R5 reads it as the local time on the office clock, which is what
this module does.)

Cost
----
Each calendar caches its days as UTC microsecond spans. ``add`` and ``elapsed`` cost
grows with the number of days spanned, not minutes, and whole weeks are skipped
arithmetically when the remaining duration is larger than a week of openings: a week
is worth the precomputed weekly total, minus the closed dates inside it (found with
bisect over a sorted tuple), plus an exact correction for the few days near a DST
transition. A calendar without any opening hours is refused when built, and a search
that finds nothing open for ``MAX_CLOSED_DAYS`` days in a row raises rather than
hangs.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import NamedTuple, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "MAX_CLOSED_DAYS",
    "AroundTheClock",
    "BusinessCalendar",
    "CalendarError",
    "Clock",
    "Interval",
    "public_holidays",
]

# A search that has seen nothing open for this many consecutive days (about ten
# years) gives up: the calendar is effectively closed forever, and a deadline
# computed from it would be meaningless.
MAX_CLOSED_DAYS = 3660

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
# Days within this many days of a UTC offset change are computed exactly rather than
# from the weekday totals. Offsets are below 24 h (a Python rule), so every instant
# of epoch day n lies in ((n - 1) * _DAY, (n + 2) * _DAY); 3 leaves a margin.
_NEAR_TRANSITION = 3
_DAY_CACHE_LIMIT = 100_000
_FILL_DAYS = 14
_UNKNOWN = object()


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


# --- UTC offset changes of a zone ------------------------------------------------

# (tz, year) -> ((instant_us, offset_after_us), ...) for the offset changes whose
# instant falls in that UTC year. Shared by every calendar in the zone; filling it
# twice from two threads is harmless (same value).
_TRANSITIONS: dict[tuple[tzinfo, int], tuple[tuple[int, int], ...]] = {}


def _offset_at(tz: tzinfo, us: int) -> int:
    """The zone's UTC offset, in microseconds, at the instant ``us``."""
    # Whole seconds suffice (zone transitions fall on whole seconds), and
    # fromtimestamp is twice as fast as converting a UTC datetime.
    try:
        moment = datetime.fromtimestamp(us // _SECOND, tz)
    except (OverflowError, OSError, ValueError):  # beyond the platform's time_t
        moment = _from_us(us).astimezone(tz)
    offset = moment.utcoffset()
    assert offset is not None
    return offset // _MICROSECOND


def _year_transitions(tz: tzinfo, year: int) -> tuple[tuple[int, int], ...]:
    key = (tz, year)
    found = _TRANSITIONS.get(key)
    if found is not None:
        return found
    # zoneinfo does not publish its transition table, so find the changes: compare
    # the offset one second before consecutive UTC midnights, then bisect the day to
    # the second (zone transitions fall on whole seconds). Two changes that cancel
    # out within one day would go unseen: the tz database has no two changes less
    # than a day apart since 1970, and for 1990-2035 this finds exactly its
    # transitions in every zone (checked when this was written).
    first = date(year, 1, 1).toordinal() - _EPOCH_ORDINAL
    last = date(year + 1, 1, 1).toordinal() - _EPOCH_ORDINAL
    changes = []
    previous = _offset_at(tz, first * _DAY - _SECOND)
    for day in range(first, last):
        probe = (day + 1) * _DAY - _SECOND
        offset = _offset_at(tz, probe)
        if offset != previous:
            low, high = day * _DAY // _SECOND - 1, probe // _SECOND  # seconds
            while high - low > 1:  # invariant: offset(low) == previous != offset(high)
                middle = (low + high) // 2
                if _offset_at(tz, middle * _SECOND) == previous:
                    low = middle
                else:
                    high = middle
            changes.append((high * _SECOND, _offset_at(tz, high * _SECOND)))
            previous = offset
    found = tuple(changes)
    _TRANSITIONS[key] = found
    return found


def _transitions_between(tz: tzinfo, start_us: int, end_us: int) -> list[tuple[int, int]]:
    """Offset changes with ``start_us <= instant < end_us``, in order."""
    result = []
    for year in range(_year_of(start_us // _DAY), _year_of(end_us // _DAY) + 1):
        for change in _year_transitions(tz, year):
            if start_us <= change[0] < end_us:
                result.append(change)
    return result


# zone -> {epoch day: the UTC offset in force throughout that day's window (from
# _NEAR_TRANSITION days before to _NEAR_TRANSITION + 1 after), or None for a day
# near an offset change}. Filled a year at a time; what makes an ordinary day cheap.
_DAY_OFFSETS: dict[tzinfo, dict[int, int | None]] = {}


def _day_offset(tz: tzinfo, day: int) -> int | None:
    table = _DAY_OFFSETS.get(tz)
    if table is None:
        table = _DAY_OFFSETS.setdefault(tz, {})
    if day in table:
        return table[day]
    year = _year_of(day)
    first = date(year, 1, 1).toordinal() - _EPOCH_ORDINAL
    last = date(year + 1, 1, 1).toordinal() - _EPOCH_ORDINAL
    margin = (_NEAR_TRANSITION + 2) * _DAY
    changes = _transitions_between(tz, first * _DAY - margin, last * _DAY + margin)
    near: set[int] = set()
    for instant, _ in changes:
        change_day = instant // _DAY
        near.update(range(change_day - _NEAR_TRANSITION - 1, change_day + _NEAR_TRANSITION + 2))
    offset, index = _offset_at(tz, first * _DAY), 0
    while index < len(changes) and changes[index][0] <= first * _DAY:
        index += 1  # already in force at the first midnight
    for each in range(first, last):
        while index < len(changes) and changes[index][0] <= each * _DAY:
            offset = changes[index][1]
            index += 1
        table[each] = None if each in near else offset
    return table[day]


# --- calendars ------------------------------------------------------------------


def _normalize_hours(
    hours: Mapping[int, Sequence[tuple[time, time]]],
) -> tuple[tuple[tuple[int, int], ...], ...]:
    """Per weekday, sorted and merged ``(open_us, close_us)`` from local midnight."""
    if not isinstance(hours, Mapping):
        raise CalendarError("hours must map weekday numbers (0=Monday) to intervals")
    week: list[tuple[tuple[int, int], ...]] = [()] * 7
    for weekday, spans in hours.items():
        if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
            raise CalendarError(f"weekday must be 0 (Monday) to 6 (Sunday), got {weekday!r}")
        parsed = []
        for span in spans:
            try:
                opens, closes = span
            except (TypeError, ValueError):
                raise CalendarError(f"an interval is (open, close), got {span!r}") from None
            for value in (opens, closes):
                if not isinstance(value, time) or value.tzinfo is not None:
                    raise CalendarError(f"interval bounds are naive local times, got {value!r}")
            open_us = _time_us(opens)
            # Closing at time(0) means midnight at the end of the day (24:00).
            close_us = _DAY if closes == time(0) else _time_us(closes)
            if close_us <= open_us:
                raise CalendarError(
                    f"interval {opens}-{closes} on weekday {weekday} closes before it opens"
                    " (use time(0) as closing time for midnight)"
                )
            parsed.append((open_us, close_us))
        parsed.sort()
        merged: list[tuple[int, int]] = []
        for open_us, close_us in parsed:
            if merged and open_us < merged[-1][1]:
                raise CalendarError(f"overlapping intervals on weekday {weekday}")
            if merged and open_us == merged[-1][1]:
                merged[-1] = (merged[-1][0], close_us)
            else:
                merged.append((open_us, close_us))
        week[weekday] = tuple(merged)
    return tuple(week)


def _joined(pieces: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted spans with those that touch or overlap joined into one."""
    joined: list[tuple[int, int]] = []
    for piece_start, piece_end in pieces:
        if joined and piece_start <= joined[-1][1]:
            joined[-1] = (joined[-1][0], max(joined[-1][1], piece_end))
        else:
            joined.append((piece_start, piece_end))
    return joined


class BusinessCalendar:
    """Opening hours of a support location, in its IANA zone, minus closed dates (R5).

    ``hours`` maps a weekday (0=Monday..6=Sunday) to its open intervals in local civil
    time, ``[(time(9), time(17, 30))]``; ``time(0)`` as a closing time is midnight at
    the end of the day. ``closed`` are local dates closed all day: public holidays
    and the location's closure days. A closed date that has no hours anyway (a
    holiday on a Sunday) changes nothing. See the module docstring for DST.
    """

    # Week skipping can be switched off per instance; tests use that to check the
    # arithmetic against the plain day-by-day walk.
    _skip_weeks = True

    def __init__(
        self,
        tz: str | tzinfo,
        hours: Mapping[int, Sequence[tuple[time, time]]],
        closed: Iterable[date] = (),
    ) -> None:
        if isinstance(tz, str):
            try:
                tz = ZoneInfo(tz)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise CalendarError(f"unknown time zone {tz!r}") from exc
        if not isinstance(tz, tzinfo):
            raise CalendarError(f"tz must be an IANA zone name or a tzinfo, got {tz!r}")
        self.tz = tz
        self._hours = _normalize_hours(hours)
        self._nominal = tuple(sum(c - o for o, c in spans) for spans in self._hours)
        self._week_us = sum(self._nominal)
        if self._week_us == 0:
            raise CalendarError("a calendar needs at least one opening interval")
        closed_days = set()
        for day in closed:
            if isinstance(day, datetime) or not isinstance(day, date):
                raise CalendarError(f"closed dates are dates, got {day!r}")
            closed_days.add(day.toordinal() - _EPOCH_ORDINAL)
        self._closed = frozenset(closed_days)
        self._closed_sorted = tuple(sorted(closed_days))
        # epoch day -> that day's open spans as UTC microseconds, sorted, disjoint.
        self._days: dict[int, tuple[tuple[int, int], ...]] = {}
        self._zone_days = _DAY_OFFSETS.setdefault(self.tz, {})
        # first day -> (time-ordered spans, next day) of a stretch near an offset change
        self._blocks: dict[int, tuple[tuple[tuple[int, int], ...], int]] = {}

    @classmethod
    def standard(
        cls,
        tz: str | tzinfo,
        closed: Iterable[date] = (),
        open: time = time(9),
        close: time = time(17, 30),
        weekdays: Iterable[int] = range(5),
    ) -> BusinessCalendar:
        """The usual office week: ``open``-``close`` on ``weekdays`` (Mon-Fri)."""
        return cls(tz, {weekday: [(open, close)] for weekday in weekdays}, closed)

    def __repr__(self) -> str:
        return (
            f"<BusinessCalendar {getattr(self.tz, 'key', self.tz)}"
            f" {self._week_us / 3_600_000_000:g} h/week, {len(self._closed)} closed dates>"
        )

    # --- the public questions ---------------------------------------------------

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The instant at which ``duration`` of open time has run from ``start``.

        A start outside opening hours counts from the next opening; a deadline that
        lands exactly on a closing time is that closing instant; a zero duration
        gives ``next_opening(start)``.
        """
        # The conversions of _to_us, _duration_us and _from_us, inlined: this is
        # the hot path (bench/clock.py).
        try:
            at = (start - _EPOCH) // _MICROSECOND
        except TypeError:
            raise _not_an_instant(start) from None
        remaining = _duration_us(duration)
        days, zone_days, week = self._days, self._zone_days, self._week_us
        day = at // _DAY - 1  # the first day that can hold an instant after `at`
        # From this day on every span starts after `at`: whole weeks may be skipped.
        clear_of_start = day + 3
        idle = 0  # consecutive days without any opening
        while True:
            if remaining > week and day >= clear_of_start and self._skip_weeks:
                weeks = (remaining - 1) // week
                # Never stop a skip among the days near an offset change: their
                # spans must be walked in time order (see _near_block).
                while weeks and _day_offset(self.tz, day + 7 * weeks) is None:
                    weeks -= 1
                while weeks:
                    total = self._open_us_in_days(day, day + 7 * weeks)
                    # Strictly less: a deadline at the last closing of the range must
                    # be found by the day walk. Only extra fall-back hours can make
                    # the total exceed the nominal weeks, so this rarely repeats.
                    if total < remaining:
                        break
                    weeks -= 1
                    while weeks and _day_offset(self.tz, day + 7 * weeks) is None:
                        weeks -= 1
                if weeks:
                    remaining -= total
                    day += 7 * weeks
                    idle = idle + 7 * weeks if total == 0 else 0
                    if idle > MAX_CLOSED_DAYS:
                        raise self._closed_too_long(start)
                    continue
            spans = days.get(day)
            if spans is None:
                spans = self._day_spans(day)
            next_day = day + 1
            if zone_days.get(day) is None and _day_offset(self.tz, day) is None:
                spans, next_day = self._near_block(day)
            if spans:
                for span_start, span_end in spans:
                    if span_end <= at:
                        continue
                    if span_start < at:
                        span_start = at
                    if remaining <= span_end - span_start:
                        return _EPOCH + _MICROSECOND * (span_start + remaining)
                    remaining -= span_end - span_start
                idle = 0
            else:
                idle += next_day - day
                if idle > MAX_CLOSED_DAYS:
                    raise self._closed_too_long(start)
            day = next_day

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Open time between two instants; zero if ``end`` is not after ``start``."""
        low, high = _to_us(start), _to_us(end)
        if high <= low:
            return timedelta(0)
        first, last = low // _DAY - 1, high // _DAY + 1  # days that can overlap
        if last - first < 14 or not self._skip_weeks:
            total = sum(self._clipped(day, low, high) for day in range(first, last + 1))
        else:
            # Days strictly inside are wholly inside [low, high): count them
            # arithmetically; clip only the few days at either end.
            total = sum(self._clipped(day, low, high) for day in range(first, first + 3))
            total += self._open_us_in_days(first + 3, last - 2)
            total += sum(self._clipped(day, low, high) for day in range(last - 2, last + 1))
        return timedelta(microseconds=total)

    def is_open(self, at: datetime) -> bool:
        """Whether the location is open at this instant."""
        instant = _to_us(at)
        for day in range(instant // _DAY - 1, instant // _DAY + 2):
            for span_start, span_end in self._spans(day):
                if span_start <= instant < span_end:
                    return True
        return False

    def next_opening(self, at: datetime) -> datetime:
        """The first open instant at or after ``at`` (``at`` itself if open)."""
        return self.add(at, timedelta(0))

    def closed_dates_between(self, start: datetime, end: datetime) -> list[date]:
        """Closed dates that fall on would-be working days, local dates of [start, end].

        For explanations ("paused for Christmas Day"): a holiday on a weekday without
        hours is not listed, since it skipped nothing.
        """
        _to_us(start)  # validates: aware datetimes only
        _to_us(end)
        first = start.astimezone(self.tz).date().toordinal() - _EPOCH_ORDINAL
        last = end.astimezone(self.tz).date().toordinal() - _EPOCH_ORDINAL
        low = bisect.bisect_left(self._closed_sorted, first)
        high = bisect.bisect_right(self._closed_sorted, last)
        return [
            date.fromordinal(day + _EPOCH_ORDINAL)
            for day in self._closed_sorted[low:high]
            if self._nominal[(day + _EPOCH_WEEKDAY) % 7]
        ]

    def openings(self, start: datetime, end: datetime) -> list[Interval]:
        """The open spans within ``[start, end)``, merged across midnight, in UTC.

        Walks day by day: meant for explanations over days or weeks, not years.
        """
        low, high = _to_us(start), _to_us(end)
        pieces = sorted(
            (max(span_start, low), min(span_end, high))
            for day in range(low // _DAY - 1, high // _DAY + 2)
            for span_start, span_end in self._spans(day)
            if max(span_start, low) < min(span_end, high)
        )
        return [Interval(_from_us(a), _from_us(b)) for a, b in _joined(pieces)]

    # --- days ---------------------------------------------------------------------

    def _spans(self, day: int) -> tuple[tuple[int, int], ...]:
        spans = self._days.get(day)
        return self._day_spans(day) if spans is None else spans

    def _near_block(self, day: int) -> tuple[tuple[tuple[int, int], ...], int]:
        """The spans of ``day`` and the following days near an offset change, in time
        order, and the first day after them.

        Near a change the dates' spans can interleave: where a zone fell back from
        00:01 to 23:01 (St. John's until 2011), 00:00-00:01 of the new date comes
        before the repeated 23:01-24:00 of the old one. The walk in ``add`` takes
        such a stretch of days as one.
        """
        block = self._blocks.get(day)
        if block is None:
            end, pieces = day, []
            while _day_offset(self.tz, end) is None:
                pieces.extend(self._spans(end))
                end += 1
            pieces.sort()
            block = (tuple(_joined(pieces)), end)
            if len(self._blocks) >= _DAY_CACHE_LIMIT:
                self._blocks.clear()
            self._blocks[day] = block
        return block

    def _day_spans(self, day: int) -> tuple[tuple[int, int], ...]:
        """Open spans (UTC microseconds) of the local date ``day``; fills the cache.

        Fills the next _FILL_DAYS days in one go: deadlines run forward, and one
        call per fortnight costs less than one per day. Returns its own result
        rather than reading the cache back: another thread may clear the cache
        (harmlessly: every entry is recomputed the same).
        """
        days, zone_days, closed = self._days, self._zone_days, self._closed
        if len(days) >= _DAY_CACHE_LIMIT:
            days.clear()
        result: tuple[tuple[int, int], ...] = ()
        for each in range(day, day + _FILL_DAYS):
            if each != day and each in days:
                continue
            hours = self._hours[(each + _EPOCH_WEEKDAY) % 7]
            if not hours or each in closed:
                spans: tuple[tuple[int, int], ...] = ()
            else:
                offset = zone_days.get(each, _UNKNOWN)
                if offset is _UNKNOWN:
                    offset = _day_offset(self.tz, each)
                if offset is None:
                    spans = self._spans_near_transition(each, hours)
                elif len(hours) == 1:  # the usual day: one interval, one offset all day
                    base = each * _DAY - offset
                    spans = ((base + hours[0][0], base + hours[0][1]),)
                else:
                    base = each * _DAY - offset
                    spans = tuple((base + o, base + c) for o, c in hours)
            days[each] = spans
            if each == day:
                result = spans
        return result

    def _spans_near_transition(
        self, day: int, hours: tuple[tuple[int, int], ...]
    ) -> tuple[tuple[int, int], ...]:
        # The wall clock is u + offset on each stretch of constant offset; an
        # instant is open when its wall time is inside an interval of this date.
        # Intersect each interval with each stretch, then join what touches.
        midnight = day * _DAY  # naive local midnight on the epoch scale
        window_start = midnight - _NEAR_TRANSITION * _DAY
        window_end = midnight + (_NEAR_TRANSITION + 1) * _DAY
        changes = _transitions_between(self.tz, window_start, window_end)
        edges = [window_start, *(at for at, _ in changes), window_end]
        offsets = [_offset_at(self.tz, window_start), *(after for _, after in changes)]
        pieces = []
        for stretch_start, stretch_end, offset in zip(edges, edges[1:], offsets, strict=False):
            for o, c in hours:
                piece_start = max(stretch_start, midnight + o - offset)
                piece_end = min(stretch_end, midnight + c - offset)
                if piece_start < piece_end:
                    pieces.append((piece_start, piece_end))
        pieces.sort()
        return tuple(_joined(pieces))

    def _clipped(self, day: int, low: int, high: int) -> int:
        total = 0
        for span_start, span_end in self._spans(day):
            span_start, span_end = max(span_start, low), min(span_end, high)
            if span_start < span_end:
                total += span_end - span_start
        return total

    def _open_us_in_days(self, first: int, end: int) -> int:
        """Total open time of the local dates ``first <= day < end``, arithmetically.

        Whole weeks at the weekly total, then the leftover weekdays, minus closed
        working days (bisect), plus the exact difference on days near a DST change.
        """
        if end <= first:
            return 0
        weeks, leftover = divmod(end - first, 7)
        nominal = self._nominal
        total = weeks * self._week_us
        for day in range(end - leftover, end):
            total += nominal[(day + _EPOCH_WEEKDAY) % 7]
        low = bisect.bisect_left(self._closed_sorted, first)
        high = bisect.bisect_left(self._closed_sorted, end)
        for day in self._closed_sorted[low:high]:
            total -= nominal[(day + _EPOCH_WEEKDAY) % 7]
        near: set[int] = set()
        window = _NEAR_TRANSITION * _DAY
        for instant, _ in _transitions_between(
            self.tz, (first - 1) * _DAY - window, (end + 1) * _DAY + window
        ):
            change_day = instant // _DAY
            near.update(
                range(
                    max(first, change_day - _NEAR_TRANSITION - 1),
                    min(end, change_day + _NEAR_TRANSITION + 2),
                )
            )
        for day in near:
            if day not in self._closed:
                actual = sum(b - a for a, b in self._spans(day))
                total += actual - nominal[(day + _EPOCH_WEEKDAY) % 7]
        return total

    def _closed_too_long(self, start: datetime) -> CalendarError:
        return CalendarError(
            f"no opening within {MAX_CLOSED_DAYS} consecutive days after {start.isoformat()}:"
            " the calendar is closed for good"
        )


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


def holiday_language(country: str, language: str | None) -> str | None:
    """The ``holidays`` language code for names in `language` ("nl", "en"), or None.

    The package names each country's holidays in its own language by default and
    offers a few translations (``supported_languages``: "nl", "en_US", "fr", ...).
    `language` is used when offered (exactly, or as its regional variant), else
    English; None (the package default) when the country offers neither.
    """
    import holidays

    try:
        supported = holidays.country_holidays(country).supported_languages
    except NotImplementedError:
        return None
    for wanted in (language or "", "en"):
        if not wanted:
            continue
        if wanted in supported:
            return wanted
        variants = sorted(s for s in supported if s.split("_")[0] == wanted)
        if variants:
            # en_GB before en_US: European customers write the day-month way.
            return variants[0]
    return None


def public_holidays(
    country: str,
    subdivision: str | None,
    years: Iterable[int],
    *,
    language: str | None = None,
) -> dict[date, str]:
    """Public holidays of a country (and subdivision) in the given years (R5).

    Straight from the pinned ``holidays`` package, public category only, with its
    default ``observed=True``: substitute days ("Christmas Day (observed)" on a
    Monday in NSW, Mondayised days in NZ, US federal observed days) are included,
    because in those countries they are the statutory days off and the office is
    closed on them. A date can carry several names, joined by "; ".

    Observed days of one year's holiday can fall in the year before (US New Year's
    Day 2028 is observed on Friday 31 December 2027, listed with 2027), so ask for
    one year either side of the span you care about.

    ``language`` ("nl", "en"; see holiday_language) names them in that language where
    the package offers it; None keeps the country's own language.
    """
    import holidays  # imported here: only calendar set-up needs the holiday tables

    try:
        found = holidays.country_holidays(
            country,
            subdiv=subdivision,
            years=list(years),
            language=holiday_language(country, language) if language else None,
        )
    except NotImplementedError as exc:
        raise CalendarError(str(exc)) from exc
    return dict(sorted(found.items()))
