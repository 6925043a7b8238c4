"""The SLA clock: when a response target falls due, and how much of it has run.

Plain Python over timezone-aware datetimes, with no Django in it, so that it can be
tested on its own and fast (STYLE.md). Two clocks share one interface (``Clock``):

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
this package does.)

The package, by responsibility
------------------------------
* ``base``: ``CalendarError``, ``Interval``, the ``Clock`` protocol, and the integer
  microsecond time scale every module computes on.
* ``zones``: a zone's UTC offset changes (DST transitions), found and cached.
* ``hours``: weekly opening hours as given, validated and normalised.
* ``calendar``: ``BusinessCalendar`` (R5) and what its walk costs.
* ``around_the_clock``: ``AroundTheClock`` (R6).
* ``holidays``: ``public_holidays`` and ``holiday_language``, from the ``holidays``
  package, observed days included (see ``public_holidays``).

Import from ``contracts.clock`` only: the submodules are its implementation.
"""

from contracts.clock.around_the_clock import AroundTheClock
from contracts.clock.base import CalendarError, Clock, Interval
from contracts.clock.calendar import MAX_CLOSED_DAYS, BusinessCalendar
from contracts.clock.holidays import holiday_language as holiday_language
from contracts.clock.holidays import public_holidays

# holiday_language is public (no underscore) but was never in __all__: re-exported
# above as before, left out of ``import *`` as before.
__all__ = [
    "MAX_CLOSED_DAYS",
    "AroundTheClock",
    "BusinessCalendar",
    "CalendarError",
    "Clock",
    "Interval",
    "public_holidays",
]
