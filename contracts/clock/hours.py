"""Weekly opening hours as a caller gives them, validated and normalised.

``BusinessCalendar`` takes per-weekday intervals of naive local times; this turns
them into sorted, merged ``(open_us, close_us)`` offsets from local midnight, and
refuses what has no sensible meaning (overlaps, an interval closing before it opens).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import time

from contracts.clock.base import DAY, CalendarError, time_us


def normalize_hours(
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
            open_us = time_us(opens)
            # Closing at time(0) means midnight at the end of the day (24:00).
            close_us = DAY if closes == time(0) else time_us(closes)
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


def join_spans(pieces: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted spans with those that touch or overlap joined into one."""
    joined: list[tuple[int, int]] = []
    for piece_start, piece_end in pieces:
        if joined and piece_start <= joined[-1][1]:
            joined[-1] = (joined[-1][0], max(joined[-1][1], piece_end))
        else:
            joined.append((piece_start, piece_end))
    return joined
