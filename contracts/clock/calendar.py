"""``BusinessCalendar``: the opening hours of a support location (R5).

What "open" means, including daylight saving time gaps and folds, is in the package
docstring (``contracts.clock``); this module is how it is computed.

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
from datetime import date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from contracts.clock.base import (
    DAY,
    EPOCH,
    EPOCH_ORDINAL,
    EPOCH_WEEKDAY,
    MICROSECOND,
    CalendarError,
    Interval,
    duration_us,
    from_us,
    not_an_instant,
    to_us,
)
from contracts.clock.hours import join_spans, normalize_hours
from contracts.clock.zones import (
    DAY_OFFSETS,
    NEAR_TRANSITION,
    day_offset,
    offset_at,
    transitions_between,
)

# A search that has seen nothing open for this many consecutive days (about ten
# years) gives up: the calendar is effectively closed forever, and a deadline
# computed from it would be meaningless.
MAX_CLOSED_DAYS = 3660
_DAY_CACHE_LIMIT = 100_000
_FILL_DAYS = 14
_UNKNOWN = object()


class BusinessCalendar:
    """Opening hours of a support location, in its IANA zone, minus closed dates (R5).

    ``hours`` maps a weekday (0=Monday..6=Sunday) to its open intervals in local civil
    time, ``[(time(9), time(17, 30))]``; ``time(0)`` as a closing time is midnight at
    the end of the day. ``closed`` are local dates closed all day: public holidays
    and the location's closure days. A closed date that has no hours anyway (a
    holiday on a Sunday) changes nothing. See the package docstring for DST.
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
        self._hours = normalize_hours(hours)
        self._nominal = tuple(sum(c - o for o, c in spans) for spans in self._hours)
        self._week_us = sum(self._nominal)
        if self._week_us == 0:
            raise CalendarError("a calendar needs at least one opening interval")
        closed_days = set()
        for day in closed:
            if isinstance(day, datetime) or not isinstance(day, date):
                raise CalendarError(f"closed dates are dates, got {day!r}")
            closed_days.add(day.toordinal() - EPOCH_ORDINAL)
        self._closed = frozenset(closed_days)
        self._closed_sorted = tuple(sorted(closed_days))
        # epoch day -> that day's open spans as UTC microseconds, sorted, disjoint.
        self._days: dict[int, tuple[tuple[int, int], ...]] = {}
        self._zone_days = DAY_OFFSETS.setdefault(self.tz, {})
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
        # The conversions of to_us, duration_us and from_us, inlined: this is
        # the hot path (bench/clock.py).
        try:
            at = (start - EPOCH) // MICROSECOND
        except TypeError:
            raise not_an_instant(start) from None
        remaining = duration_us(duration)
        days, zone_days, week = self._days, self._zone_days, self._week_us
        day = at // DAY - 1  # the first day that can hold an instant after `at`
        # From this day on every span starts after `at`: whole weeks may be skipped.
        clear_of_start = day + 3
        idle = 0  # consecutive days without any opening
        while True:
            if remaining > week and day >= clear_of_start and self._skip_weeks:
                weeks = (remaining - 1) // week
                # Never stop a skip among the days near an offset change: their
                # spans must be walked in time order (see _near_block).
                while weeks and day_offset(self.tz, day + 7 * weeks) is None:
                    weeks -= 1
                while weeks:
                    total = self._open_us_in_days(day, day + 7 * weeks)
                    # Strictly less: a deadline at the last closing of the range must
                    # be found by the day walk. Only extra fall-back hours can make
                    # the total exceed the nominal weeks, so this rarely repeats.
                    if total < remaining:
                        break
                    weeks -= 1
                    while weeks and day_offset(self.tz, day + 7 * weeks) is None:
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
            if zone_days.get(day) is None and day_offset(self.tz, day) is None:
                spans, next_day = self._near_block(day)
            if spans:
                for span_start, span_end in spans:
                    if span_end <= at:
                        continue
                    if span_start < at:
                        span_start = at
                    if remaining <= span_end - span_start:
                        return EPOCH + MICROSECOND * (span_start + remaining)
                    remaining -= span_end - span_start
                idle = 0
            else:
                idle += next_day - day
                if idle > MAX_CLOSED_DAYS:
                    raise self._closed_too_long(start)
            day = next_day

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Open time between two instants; zero if ``end`` is not after ``start``."""
        low, high = to_us(start), to_us(end)
        if high <= low:
            return timedelta(0)
        first, last = low // DAY - 1, high // DAY + 1  # days that can overlap
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
        instant = to_us(at)
        for day in range(instant // DAY - 1, instant // DAY + 2):
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
        to_us(start)  # validates: aware datetimes only
        to_us(end)
        first = start.astimezone(self.tz).date().toordinal() - EPOCH_ORDINAL
        last = end.astimezone(self.tz).date().toordinal() - EPOCH_ORDINAL
        low = bisect.bisect_left(self._closed_sorted, first)
        high = bisect.bisect_right(self._closed_sorted, last)
        return [
            date.fromordinal(day + EPOCH_ORDINAL)
            for day in self._closed_sorted[low:high]
            if self._nominal[(day + EPOCH_WEEKDAY) % 7]
        ]

    def openings(self, start: datetime, end: datetime) -> list[Interval]:
        """The open spans within ``[start, end)``, merged across midnight, in UTC.

        Walks day by day: meant for explanations over days or weeks, not years.
        """
        low, high = to_us(start), to_us(end)
        pieces = sorted(
            (max(span_start, low), min(span_end, high))
            for day in range(low // DAY - 1, high // DAY + 2)
            for span_start, span_end in self._spans(day)
            if max(span_start, low) < min(span_end, high)
        )
        return [Interval(from_us(a), from_us(b)) for a, b in join_spans(pieces)]

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
            while day_offset(self.tz, end) is None:
                pieces.extend(self._spans(end))
                end += 1
            pieces.sort()
            block = (tuple(join_spans(pieces)), end)
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
            hours = self._hours[(each + EPOCH_WEEKDAY) % 7]
            if not hours or each in closed:
                spans: tuple[tuple[int, int], ...] = ()
            else:
                offset = zone_days.get(each, _UNKNOWN)
                if offset is _UNKNOWN:
                    offset = day_offset(self.tz, each)
                if offset is None:
                    spans = self._spans_near_transition(each, hours)
                elif len(hours) == 1:  # the usual day: one interval, one offset all day
                    base = each * DAY - offset
                    spans = ((base + hours[0][0], base + hours[0][1]),)
                else:
                    base = each * DAY - offset
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
        midnight = day * DAY  # naive local midnight on the epoch scale
        window_start = midnight - NEAR_TRANSITION * DAY
        window_end = midnight + (NEAR_TRANSITION + 1) * DAY
        changes = transitions_between(self.tz, window_start, window_end)
        edges = [window_start, *(at for at, _ in changes), window_end]
        offsets = [offset_at(self.tz, window_start), *(after for _, after in changes)]
        pieces = []
        for stretch_start, stretch_end, offset in zip(edges, edges[1:], offsets, strict=False):
            for o, c in hours:
                piece_start = max(stretch_start, midnight + o - offset)
                piece_end = min(stretch_end, midnight + c - offset)
                if piece_start < piece_end:
                    pieces.append((piece_start, piece_end))
        pieces.sort()
        return tuple(join_spans(pieces))

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
            total += nominal[(day + EPOCH_WEEKDAY) % 7]
        low = bisect.bisect_left(self._closed_sorted, first)
        high = bisect.bisect_left(self._closed_sorted, end)
        for day in self._closed_sorted[low:high]:
            total -= nominal[(day + EPOCH_WEEKDAY) % 7]
        near: set[int] = set()
        window = NEAR_TRANSITION * DAY
        for instant, _ in transitions_between(
            self.tz, (first - 1) * DAY - window, (end + 1) * DAY + window
        ):
            change_day = instant // DAY
            near.update(
                range(
                    max(first, change_day - NEAR_TRANSITION - 1),
                    min(end, change_day + NEAR_TRANSITION + 2),
                )
            )
        for day in near:
            if day not in self._closed:
                actual = sum(b - a for a, b in self._spans(day))
                total += actual - nominal[(day + EPOCH_WEEKDAY) % 7]
        return total

    def _closed_too_long(self, start: datetime) -> CalendarError:
        return CalendarError(
            f"no opening within {MAX_CLOSED_DAYS} consecutive days after {start.isoformat()}:"
            " the calendar is closed for good"
        )
