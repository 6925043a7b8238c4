"""The UTC offset changes (DST transitions) of an IANA zone, found and cached.

``zoneinfo`` does not publish its transition table, so ``_year_transitions`` finds
the changes of a year by probing; ``day_offset`` then says, per local date, the one
offset in force around it, or None for a date near a change, which the calendar
computes exactly (see ``BusinessCalendar._spans_near_transition``). Both caches are
module-level, shared by every calendar in a zone.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo

from contracts.clock.base import DAY, EPOCH_ORDINAL, MICROSECOND, SECOND, from_us, year_of

# Days within this many days of a UTC offset change are computed exactly rather than
# from the weekday totals. Offsets are below 24 h (a Python rule), so every instant
# of epoch day n lies in ((n - 1) * DAY, (n + 2) * DAY); 3 leaves a margin.
NEAR_TRANSITION = 3

# (tz, year) -> ((instant_us, offset_after_us), ...) for the offset changes whose
# instant falls in that UTC year. Shared by every calendar in the zone; filling it
# twice from two threads is harmless (same value).
_TRANSITIONS: dict[tuple[tzinfo, int], tuple[tuple[int, int], ...]] = {}


def offset_at(tz: tzinfo, us: int) -> int:
    """The zone's UTC offset, in microseconds, at the instant ``us``."""
    # Whole seconds suffice (zone transitions fall on whole seconds), and
    # fromtimestamp is twice as fast as converting a UTC datetime.
    try:
        moment = datetime.fromtimestamp(us // SECOND, tz)
    except (OverflowError, OSError, ValueError):  # beyond the platform's time_t
        moment = from_us(us).astimezone(tz)
    offset = moment.utcoffset()
    assert offset is not None
    return offset // MICROSECOND


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
    first = date(year, 1, 1).toordinal() - EPOCH_ORDINAL
    last = date(year + 1, 1, 1).toordinal() - EPOCH_ORDINAL
    changes = []
    previous = offset_at(tz, first * DAY - SECOND)
    for day in range(first, last):
        probe = (day + 1) * DAY - SECOND
        offset = offset_at(tz, probe)
        if offset != previous:
            low, high = day * DAY // SECOND - 1, probe // SECOND  # seconds
            while high - low > 1:  # invariant: offset(low) == previous != offset(high)
                middle = (low + high) // 2
                if offset_at(tz, middle * SECOND) == previous:
                    low = middle
                else:
                    high = middle
            changes.append((high * SECOND, offset_at(tz, high * SECOND)))
            previous = offset
    found = tuple(changes)
    _TRANSITIONS[key] = found
    return found


def transitions_between(tz: tzinfo, start_us: int, end_us: int) -> list[tuple[int, int]]:
    """Offset changes with ``start_us <= instant < end_us``, in order."""
    result = []
    for year in range(year_of(start_us // DAY), year_of(end_us // DAY) + 1):
        for change in _year_transitions(tz, year):
            if start_us <= change[0] < end_us:
                result.append(change)
    return result


# zone -> {epoch day: the UTC offset in force throughout that day's window (from
# NEAR_TRANSITION days before to NEAR_TRANSITION + 1 after), or None for a day
# near an offset change}. Filled a year at a time; what makes an ordinary day cheap.
DAY_OFFSETS: dict[tzinfo, dict[int, int | None]] = {}


def day_offset(tz: tzinfo, day: int) -> int | None:
    table = DAY_OFFSETS.get(tz)
    if table is None:
        table = DAY_OFFSETS.setdefault(tz, {})
    if day in table:
        return table[day]
    year = year_of(day)
    first = date(year, 1, 1).toordinal() - EPOCH_ORDINAL
    last = date(year + 1, 1, 1).toordinal() - EPOCH_ORDINAL
    margin = (NEAR_TRANSITION + 2) * DAY
    changes = transitions_between(tz, first * DAY - margin, last * DAY + margin)
    near: set[int] = set()
    for instant, _ in changes:
        change_day = instant // DAY
        near.update(range(change_day - NEAR_TRANSITION - 1, change_day + NEAR_TRANSITION + 2))
    offset, index = offset_at(tz, first * DAY), 0
    while index < len(changes) and changes[index][0] <= first * DAY:
        index += 1  # already in force at the first midnight
    for each in range(first, last):
        while index < len(changes) and changes[index][0] <= each * DAY:
            offset = changes[index][1]
            index += 1
        table[each] = None if each in near else offset
    return table[day]
