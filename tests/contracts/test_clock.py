"""The SLA clock (contracts/clock/): examples per rule, then properties.

Pure pytest, no database: the clock has no Django in it. The properties compare the
clock with ``Reference`` below, a deliberately naive model that steps minute by
minute in UTC and asks the local wall clock whether the office is open.
"""

import time as stopwatch
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.clock import (
    AroundTheClock,
    BusinessCalendar,
    CalendarError,
    Interval,
    public_holidays,
)

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
NEW_YORK = ZoneInfo("America/New_York")
MINUTE = timedelta(minutes=1)

NL = public_holidays("NL", None, range(2024, 2029))
US_NY = public_holidays("US", "NY", range(2024, 2029))


def amsterdam(*args: int) -> datetime:
    return datetime(*args, tzinfo=AMSTERDAM)


def new_york(*args: int) -> datetime:
    return datetime(*args, tzinfo=NEW_YORK)


@pytest.fixture(scope="module")
def office():
    """Amsterdam office: 09:00-17:30 Monday to Friday, Dutch public holidays."""
    return BusinessCalendar.standard("Europe/Amsterdam", closed=NL)


# --- examples: business hours (R5) and response targets (R4) --------------------


def test_friday_afternoon_plus_eight_hours_is_monday_afternoon(office):  # R4, R5
    due = office.add(amsterdam(2026, 3, 6, 16), timedelta(hours=8))
    assert due == amsterdam(2026, 3, 9, 15, 30)


def test_christmas_eve_plus_four_hours_skips_both_christmas_days(office):  # R4, R5
    # 24 Dec 2026 is a Thursday; 25 (Fri) and 26 (Sat) Dec are Dutch holidays.
    start = amsterdam(2026, 12, 24, 15)
    due = office.add(start, timedelta(hours=4))
    assert due == amsterdam(2026, 12, 28, 10, 30)
    # Only the holiday that fell on a working day paused the clock.
    assert office.closed_dates_between(start, due) == [date(2026, 12, 25)]


def test_results_are_in_utc(office):  # R5
    due = office.add(amsterdam(2026, 3, 6, 16), timedelta(hours=8))
    assert due.tzinfo is UTC
    assert due == datetime(2026, 3, 9, 14, 30, tzinfo=UTC)


def test_a_deadline_landing_on_closing_time_is_the_closing_instant(office):  # R5
    due = office.add(amsterdam(2026, 3, 9, 13, 30), timedelta(hours=4))
    assert due == amsterdam(2026, 3, 9, 17, 30)  # not Tuesday 09:00
    assert office.add(amsterdam(2026, 3, 6, 9), timedelta(hours=8, minutes=30)) == amsterdam(
        2026, 3, 6, 17, 30
    )


def test_closing_time_itself_is_closed(office):  # R5
    assert office.is_open(amsterdam(2026, 3, 9, 17, 29, 59))
    assert not office.is_open(amsterdam(2026, 3, 9, 17, 30))
    assert office.is_open(amsterdam(2026, 3, 9, 9))
    assert not office.is_open(amsterdam(2026, 3, 9, 8, 59, 59))


def test_zero_duration_is_the_next_opening(office):  # R5
    friday_close = amsterdam(2026, 3, 6, 17, 30)
    assert office.add(friday_close, timedelta(0)) == amsterdam(2026, 3, 9, 9)
    assert office.next_opening(friday_close) == amsterdam(2026, 3, 9, 9)
    tuesday = amsterdam(2026, 3, 10, 10, 15)
    assert office.add(tuesday, timedelta(0)) == tuesday
    assert office.next_opening(tuesday) == tuesday


def test_a_start_outside_hours_counts_from_the_next_opening(office):  # R5
    assert office.add(amsterdam(2026, 3, 7, 12), timedelta(hours=1)) == amsterdam(2026, 3, 9, 10)
    assert office.add(amsterdam(2026, 3, 9, 7), timedelta(hours=1)) == amsterdam(2026, 3, 9, 10)
    assert office.add(amsterdam(2026, 3, 9, 20), timedelta(hours=1)) == amsterdam(2026, 3, 10, 10)


def test_elapsed_counts_only_business_hours(office):  # R5
    assert office.elapsed(amsterdam(2026, 3, 6, 16), amsterdam(2026, 3, 9, 15, 30)) == timedelta(
        hours=8
    )
    assert office.elapsed(amsterdam(2026, 3, 7, 0), amsterdam(2026, 3, 8, 23)) == timedelta(0)
    assert office.elapsed(amsterdam(2026, 3, 9, 12), amsterdam(2026, 3, 9, 11)) == timedelta(0)


def test_spring_forward_does_not_shift_an_amsterdam_deadline(office):  # R5
    # Clocks go 02:00 -> 03:00 on Sunday 29 March 2026.
    assert office.add(amsterdam(2026, 3, 27, 16), timedelta(hours=8)) == amsterdam(
        2026, 3, 30, 15, 30
    )
    assert office.elapsed(amsterdam(2026, 3, 27, 9), amsterdam(2026, 3, 30, 17, 30)) == timedelta(
        hours=17
    )


def test_fall_back_does_not_shift_an_amsterdam_deadline(office):  # R5
    # Clocks go 03:00 -> 02:00 on Sunday 25 October 2026.
    assert office.add(amsterdam(2026, 10, 23, 16), timedelta(hours=8)) == amsterdam(
        2026, 10, 26, 15, 30
    )
    assert office.elapsed(amsterdam(2026, 10, 23, 9), amsterdam(2026, 10, 26, 17, 30)) == (
        timedelta(hours=17)
    )


def test_dst_changes_do_not_shift_a_new_york_deadline():  # R5
    office = BusinessCalendar.standard("America/New_York", closed=US_NY)
    # Spring forward on Sunday 8 March 2026, fall back on Sunday 1 November 2026.
    assert office.add(new_york(2026, 3, 6, 16), timedelta(hours=8)) == new_york(2026, 3, 9, 15, 30)
    assert office.add(new_york(2026, 10, 30, 16), timedelta(hours=8)) == new_york(
        2026, 11, 2, 15, 30
    )


def test_a_business_day_on_a_dst_night_still_has_its_office_hours():  # R5
    # Open seven days; the 23-hour and 25-hour Sundays still have 8.5 office hours.
    every_day = BusinessCalendar.standard("Europe/Amsterdam", weekdays=range(7))
    for sunday in (amsterdam(2026, 3, 29), amsterdam(2026, 10, 25)):
        assert every_day.elapsed(sunday, sunday + timedelta(days=1)) == timedelta(hours=8.5)
        assert every_day.add(sunday, timedelta(hours=8.5)) == sunday.replace(hour=17, minute=30)


def test_an_opening_inside_the_spring_forward_gap_opens_when_the_clock_jumps():  # R5
    night = BusinessCalendar("Europe/Amsterdam", {6: [(time(2, 30), time(4))]})
    sunday = amsterdam(2026, 3, 29)
    # 02:30 never shows on the wall clock that night: open from 03:00 (the jump).
    assert night.openings(sunday, sunday + timedelta(days=1)) == [
        Interval(amsterdam(2026, 3, 29, 3), amsterdam(2026, 3, 29, 4))
    ]
    assert night.next_opening(sunday) == amsterdam(2026, 3, 29, 3)


def test_wall_times_inside_the_fall_back_fold_count_twice():  # R5
    night = BusinessCalendar("Europe/Amsterdam", {6: [(time(2, 30), time(4))]})
    sunday = amsterdam(2026, 10, 25)
    # The wall clock shows 02:30-03:00 in summer time, then 02:00-04:00 in winter
    # time; it is inside the hours for 02:30-03:00 and 02:30-04:00 of those.
    assert night.openings(sunday, sunday + timedelta(days=1)) == [
        Interval(datetime(2026, 10, 25, 0, 30, tzinfo=UTC), datetime(2026, 10, 25, 1, tzinfo=UTC)),
        Interval(datetime(2026, 10, 25, 1, 30, tzinfo=UTC), datetime(2026, 10, 25, 3, tzinfo=UTC)),
    ]
    assert night.elapsed(sunday, sunday + timedelta(days=1)) == timedelta(hours=2)


def test_dates_that_interleave_across_a_fall_back_are_counted_in_time_order():  # R5
    # St. John's fell back from 00:01 to 23:01 on 29 October 2006, so 00:00-00:01
    # of Sunday came before the second 23:01-24:00 of Saturday.
    st_johns = ZoneInfo("America/St_Johns")
    hours = {5: [(time(23), time(0))], 6: [(time(0), time(1))]}
    calendar = BusinessCalendar(st_johns, hours)
    start = datetime(2006, 10, 28, 22, tzinfo=st_johns)
    # 60 min Saturday, 1 min Sunday, then 29 of the repeated Saturday minutes.
    due = calendar.add(start, timedelta(minutes=90))
    assert due == datetime(2006, 10, 29, 3, tzinfo=UTC)
    assert due == Reference(st_johns, hours, ()).add(start.astimezone(UTC), 90)
    assert calendar.elapsed(start, due) == timedelta(minutes=90)
    # Saturday 23:00 to Sunday 01:00 on the wall clock: three hours that night.
    assert calendar.openings(start, start + timedelta(hours=8)) == [
        Interval(
            datetime(2006, 10, 29, 1, 30, tzinfo=UTC), datetime(2006, 10, 29, 4, 30, tzinfo=UTC)
        )
    ]


def test_a_day_that_never_happened_is_not_counted():  # R5
    # Samoa skipped Friday 30 December 2011 when it crossed the date line.
    apia = ZoneInfo("Pacific/Apia")
    office = BusinessCalendar.standard(apia)
    due = office.add(datetime(2011, 12, 29, 16, tzinfo=apia), timedelta(hours=4))
    assert due == datetime(2012, 1, 2, 11, 30, tzinfo=apia)


def test_a_holiday_on_a_weekend_changes_nothing():  # R5
    # Christmas 2027 falls on Saturday and Sunday.
    plain = BusinessCalendar.standard("Europe/Amsterdam")
    with_christmas = BusinessCalendar.standard(
        "Europe/Amsterdam", closed=[date(2027, 12, 25), date(2027, 12, 26)]
    )
    start = amsterdam(2027, 12, 24, 16)
    for hours in (1, 2, 8, 40):
        assert with_christmas.add(start, timedelta(hours=hours)) == plain.add(
            start, timedelta(hours=hours)
        )
    assert with_christmas.add(start, timedelta(hours=8)) == amsterdam(2027, 12, 27, 15, 30)
    assert with_christmas.elapsed(start, start + timedelta(days=7)) == plain.elapsed(
        start, start + timedelta(days=7)
    )
    assert with_christmas.closed_dates_between(start, start + timedelta(days=7)) == []


def test_a_deadline_waits_out_a_six_week_closure():  # R5
    summer = [date(2026, 7, 6) + timedelta(days=n) for n in range(40)]  # 6 Jul - 14 Aug
    office = BusinessCalendar.standard("Europe/Amsterdam", closed=[*NL, *summer])
    assert office.add(amsterdam(2026, 7, 3, 16), timedelta(hours=8)) == amsterdam(
        2026, 8, 17, 15, 30
    )
    # Two weeks of office hours from Friday 3 July: that Friday, then nine days
    # from Monday 17 August, ending on a closing instant.
    start = amsterdam(2026, 7, 3, 9)
    due = office.add(start, timedelta(hours=85))
    assert due == amsterdam(2026, 8, 27, 17, 30)
    assert office.elapsed(start, due) == timedelta(hours=85)
    assert len(office.closed_dates_between(start, due)) == 30  # the closure's weekdays


def test_a_ten_year_target_does_not_walk_every_day(office):  # R5
    start = amsterdam(2026, 1, 5, 9)
    began = stopwatch.perf_counter()
    due = office.add(start, timedelta(hours=42.5 * 52 * 10))
    assert stopwatch.perf_counter() - began < 0.5
    assert office.elapsed(start, due) == timedelta(hours=42.5 * 52 * 10)
    # Whole weeks were skipped: only days near DST changes were looked at one by one.
    assert len(office._days) < 600


# --- examples: 24x7 (R6) ---------------------------------------------------------


def test_a_24x7_hour_across_spring_forward_is_real_time():  # R6
    # Opened at 01:30 on the night Amsterdam skips 02:00-03:00.
    due = AroundTheClock().add(amsterdam(2026, 3, 29, 1, 30), timedelta(hours=1))
    assert due == amsterdam(2026, 3, 29, 3, 30)
    assert due.tzinfo is UTC


def test_a_24x7_hour_across_fall_back_is_real_time():  # R6
    # 02:30 summer time plus one hour is 02:30 winter time.
    due = AroundTheClock().add(amsterdam(2026, 10, 25, 2, 30), timedelta(hours=1))
    local = due.astimezone(AMSTERDAM)
    # (Compared by wall time and fold: PEP 495 makes == across zones false for
    # any datetime inside a fold.)
    assert (local.replace(tzinfo=None), local.fold) == (datetime(2026, 10, 25, 2, 30), 1)
    assert due == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)


def test_24x7_elapsed_is_real_time_even_within_one_zone():  # R6
    # Same tzinfo on both sides: naive subtraction would say two hours.
    clock = AroundTheClock()
    assert clock.elapsed(amsterdam(2026, 3, 29, 1, 30), amsterdam(2026, 3, 29, 3, 30)) == (
        timedelta(hours=1)
    )
    assert clock.elapsed(amsterdam(2026, 3, 29, 3, 30), amsterdam(2026, 3, 29, 1, 30)) == (
        timedelta(0)
    )


def test_24x7_is_always_open_and_never_closed():  # R6
    clock = AroundTheClock()
    saturday_night = amsterdam(2026, 12, 26, 3)
    assert clock.is_open(saturday_night)
    assert clock.next_opening(saturday_night) == saturday_night
    assert clock.add(saturday_night, timedelta(0)) == saturday_night
    assert clock.closed_dates_between(saturday_night, saturday_night + timedelta(days=9)) == []
    assert clock.openings(saturday_night, saturday_night + timedelta(hours=2)) == [
        Interval(saturday_night, saturday_night + timedelta(hours=2))
    ]


# --- examples: refusing nonsense ---------------------------------------------------


def test_a_calendar_with_no_openings_is_refused():  # R5
    with pytest.raises(CalendarError):
        BusinessCalendar("Europe/Amsterdam", {})
    with pytest.raises(CalendarError):
        BusinessCalendar("Europe/Amsterdam", {0: [], 6: []})
    with pytest.raises(CalendarError):
        BusinessCalendar.standard("Europe/Amsterdam", weekdays=())


def test_a_calendar_closed_for_good_raises_instead_of_hanging():  # R5
    every_day = [date(2026, 1, 1) + timedelta(days=n) for n in range(365 * 15)]
    office = BusinessCalendar.standard("Europe/Amsterdam", closed=every_day)
    began = stopwatch.perf_counter()
    with pytest.raises(CalendarError):
        office.add(amsterdam(2026, 1, 5, 10), timedelta(hours=4))
    with pytest.raises(CalendarError):
        office.add(amsterdam(2026, 1, 5, 10), timedelta(hours=400))
    assert stopwatch.perf_counter() - began < 2


def test_it_rejects_bad_hours_and_zones():  # R5
    with pytest.raises(CalendarError):
        BusinessCalendar("Europe/Amsterdam", {0: [(time(17), time(9))]})
    with pytest.raises(CalendarError):
        BusinessCalendar("Europe/Amsterdam", {0: [(time(9), time(13)), (time(12), time(17))]})
    with pytest.raises(CalendarError):
        BusinessCalendar("Europe/Amsterdam", {7: [(time(9), time(17))]})
    with pytest.raises(CalendarError):
        BusinessCalendar.standard("Mars/Olympus_Mons")


def test_adjacent_intervals_and_midnight_closing_join_up():  # R5
    shifts = BusinessCalendar(
        "Europe/Amsterdam",
        {
            0: [(time(9), time(13)), (time(13), time(17, 30)), (time(22), time(0))],
            1: [(time(0), time(6))],
        },
    )
    # Monday 22:00 to Tuesday 06:00 is one stretch of eight hours.
    assert shifts.add(amsterdam(2026, 3, 9, 23), timedelta(hours=7)) == amsterdam(2026, 3, 10, 6)
    assert shifts.openings(amsterdam(2026, 3, 9), amsterdam(2026, 3, 11))[-1] == Interval(
        amsterdam(2026, 3, 9, 22), amsterdam(2026, 3, 10, 6)
    )


def test_naive_datetimes_and_negative_durations_are_refused(office):  # R5, R6
    for clock in (office, AroundTheClock()):
        with pytest.raises(CalendarError):
            clock.add(datetime(2026, 3, 9, 10), timedelta(hours=1))
        with pytest.raises(CalendarError):
            clock.add(amsterdam(2026, 3, 9, 10), timedelta(hours=-1))
        with pytest.raises(CalendarError):
            clock.elapsed(amsterdam(2026, 3, 9, 10), datetime(2026, 3, 9, 12))
        with pytest.raises(CalendarError):
            clock.is_open(datetime(2026, 3, 9, 10))
    assert issubclass(CalendarError, ValueError)


# --- public holidays ----------------------------------------------------------------


def test_public_holidays_of_the_netherlands_include_both_christmas_days():  # R5
    found = public_holidays("NL", None, [2026])
    assert date(2026, 12, 25) in found and date(2026, 12, 26) in found
    assert all(day.year == 2026 for day in found)


def test_public_holidays_include_observed_substitute_days():  # R5
    # 4 July 2026 is a Saturday; the US observes it on Friday 3 July.
    assert "observed" in public_holidays("US", "NY", [2026])[date(2026, 7, 3)]
    # NSW: Christmas 2021 on a Saturday, Boxing Day on a Sunday -> 27 and 28 Dec.
    nsw = public_holidays("AU", "NSW", [2021])
    assert date(2021, 12, 27) in nsw and date(2021, 12, 28) in nsw


def test_public_holidays_of_an_unknown_country_raise():  # R5
    with pytest.raises(CalendarError):
        public_holidays("XX", None, [2026])


# --- properties against a minute-stepping reference ---------------------------------


class Reference:
    """Obviously correct and slow: steps minute by minute in UTC.

    An instant is open when the local wall clock shows a time inside one of that
    weekday's ``[open, close)`` intervals on a date that is not closed. Valid for
    minute-aligned starts, hours and UTC offsets, as in the strategies below.
    """

    MAX_STEPS = 60 * 24 * 7 * 8

    def __init__(self, tz, hours, closed):
        self.tz = ZoneInfo(tz) if isinstance(tz, str) else tz
        self.hours = hours
        self.closed = frozenset(closed)

    def is_open(self, instant):
        local = instant.astimezone(self.tz)
        if local.date() in self.closed:
            return False
        wall = local.time()
        return any(
            opens <= wall and (closes == time(0) or wall < closes)
            for opens, closes in self.hours.get(local.weekday(), ())
        )

    def add(self, start, minutes):
        instant, remaining = start, minutes
        for _ in range(self.MAX_STEPS):
            if self.is_open(instant):
                if remaining == 0:
                    return instant
                remaining -= 1
                if remaining == 0:
                    return instant + MINUTE
            instant += MINUTE
        raise AssertionError("reference ran out of steps")

    def elapsed(self, start, end):
        minutes, instant = 0, start
        while instant < end:
            minutes += self.is_open(instant)
            instant += MINUTE
        return timedelta(minutes=minutes)


OFFICE_HOURS = {weekday: [(time(9), time(17, 30))] for weekday in range(5)}
LOCATIONS = {  # zone -> (country, subdivision)
    "Europe/Amsterdam": ("NL", None),
    "America/New_York": ("US", "NY"),
    "Asia/Kolkata": ("IN", None),
    "Australia/Sydney": ("AU", "NSW"),
    "Pacific/Auckland": ("NZ", None),
}
HOLIDAYS = {
    zone: public_holidays(country, subdivision, range(2019, 2036))
    for zone, (country, subdivision) in LOCATIONS.items()
}
CALENDARS = {zone: BusinessCalendar(zone, OFFICE_HOURS, HOLIDAYS[zone]) for zone in LOCATIONS}
REFERENCES = {zone: Reference(zone, OFFICE_HOURS, HOLIDAYS[zone]) for zone in LOCATIONS}

# Night shifts whose boundaries sit in DST gaps and folds, in zones with odd
# transitions: Lord Howe moves by 30 minutes, Santiago changes at midnight, and St.
# John's changed at 00:01 until 2011 (its dates interleave when it falls back).
NIGHT_SHIFT = [(time(0), time(0, 20)), (time(1, 30), time(2, 15)), (time(2, 45), time(3, 30))]
NIGHT_HOURS = {weekday: [*NIGHT_SHIFT, (time(23, 30), time(0))] for weekday in range(7)} | {
    0: [*NIGHT_SHIFT, (time(9), time(17, 30))]
}
NIGHT_ZONES = [
    "Europe/Amsterdam",
    "Australia/Lord_Howe",
    "America/Santiago",
    "Pacific/Auckland",
    "America/St_Johns",
]
NIGHT_CALENDARS = {zone: BusinessCalendar(zone, NIGHT_HOURS) for zone in NIGHT_ZONES}
NIGHT_REFERENCES = {zone: Reference(zone, NIGHT_HOURS, ()) for zone in NIGHT_ZONES}


def transition_dates(zone, first_year=2020, last_year=2035):
    """Local dates on which the zone's UTC offset changed."""
    tz, found = ZoneInfo(zone), []
    day = date(first_year, 1, 1)
    previous = datetime.combine(day, time(12), tz).utcoffset()
    while day <= date(last_year, 12, 31):
        day += timedelta(days=1)
        offset = datetime.combine(day, time(12), tz).utcoffset()
        if offset != previous:
            found.append(day)
        previous = offset
    return found


TRANSITIONS = {zone: transition_dates(zone) for zone in {*LOCATIONS, *NIGHT_ZONES}}
TRANSITIONS["America/St_Johns"] = transition_dates("America/St_Johns", 2000, 2010)
FIRST = datetime(2020, 1, 1, tzinfo=UTC)
SPAN_MINUTES = (datetime(2036, 1, 1, tzinfo=UTC) - FIRST) // MINUTE


def starts(zone):
    """Minute-aligned UTC starts: anywhere, near a DST change, or on a boundary."""
    anywhere = st.integers(0, SPAN_MINUTES).map(lambda m: FIRST + m * MINUTE)
    choices = [anywhere]
    if TRANSITIONS[zone]:
        choices.append(
            st.builds(
                lambda day, minutes: datetime.combine(day, time(0), UTC) + minutes * MINUTE,
                st.sampled_from(TRANSITIONS[zone]),
                st.integers(-4 * 1440, 4 * 1440),
            )
        )
    tz = ZoneInfo(zone)
    choices.append(
        st.builds(
            lambda day, wall: datetime.combine(day, wall, tz).astimezone(UTC),
            st.dates(date(2020, 1, 1), date(2035, 12, 31)),
            st.sampled_from([time(8, 59), time(9), time(17, 29), time(17, 30), time(0)]),
        )
    )
    return st.one_of(choices)


@st.composite
def office_cases(draw, max_minutes=40 * 60):
    zone = draw(st.sampled_from(sorted(LOCATIONS)))
    start = draw(starts(zone))
    minutes = draw(st.one_of(st.integers(1, max_minutes), st.sampled_from([1, 240, 480, 510])))
    return zone, start, minutes


PROPERTY = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(office_cases())
def test_add_matches_the_minute_stepping_reference(case):  # R4, R5
    zone, start, minutes = case
    assert CALENDARS[zone].add(start, minutes * MINUTE) == REFERENCES[zone].add(start, minutes)


@PROPERTY
@given(office_cases())
def test_elapsed_undoes_add(case):  # R5
    zone, start, minutes = case
    calendar = CALENDARS[zone]
    assert calendar.elapsed(start, calendar.add(start, minutes * MINUTE)) == minutes * MINUTE


@PROPERTY
@given(office_cases(), st.integers(0, 40 * 60), st.integers(0, 3 * 1440))
def test_add_is_monotonic(case, more_minutes, later):  # R5
    zone, start, minutes = case
    calendar = CALENDARS[zone]
    due = calendar.add(start, minutes * MINUTE)
    assert calendar.add(start, (minutes + more_minutes) * MINUTE) >= due
    assert calendar.add(start + later * MINUTE, minutes * MINUTE) >= due


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(office_cases(), st.integers(0, 8 * 1440))
def test_elapsed_and_is_open_match_the_reference(case, span):  # R5
    zone, start, _ = case
    calendar, reference = CALENDARS[zone], REFERENCES[zone]
    assert calendar.elapsed(start, start + span * MINUTE) == reference.elapsed(
        start, start + span * MINUTE
    )
    assert calendar.is_open(start) == reference.is_open(start)


@PROPERTY
@given(st.data())
def test_night_shifts_across_dst_gaps_and_folds_match_the_reference(data):  # R5
    zone = data.draw(st.sampled_from(NIGHT_ZONES))
    start = data.draw(starts(zone))
    minutes = data.draw(st.integers(0, 20 * 60))
    calendar, reference = NIGHT_CALENDARS[zone], NIGHT_REFERENCES[zone]
    assert calendar.add(start, minutes * MINUTE) == reference.add(start, minutes)
    assert calendar.is_open(start) == reference.is_open(start)
    end = start + data.draw(st.integers(0, 4 * 1440)) * MINUTE
    assert calendar.elapsed(start, end) == reference.elapsed(start, end)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_skipping_whole_weeks_agrees_with_walking_day_by_day(data):  # R5
    zone = data.draw(st.sampled_from([*sorted(LOCATIONS), "Australia/Lord_Howe"]))
    first_closed = data.draw(st.dates(date(2020, 1, 1), date(2035, 12, 31)))
    closure = [first_closed + timedelta(days=n) for n in range(data.draw(st.integers(0, 60)))]
    hours = data.draw(st.sampled_from([OFFICE_HOURS, NIGHT_HOURS, {2: [(time(1), time(3))]}]))
    closed = [*HOLIDAYS.get(zone, ()), *closure]
    skipping = BusinessCalendar(zone, hours, closed)
    walking = BusinessCalendar(zone, hours, closed)
    walking._skip_weeks = False
    start = data.draw(starts(zone))
    duration = data.draw(st.integers(0, 2000 * 60)) * MINUTE
    due = skipping.add(start, duration)
    assert due == walking.add(start, duration)
    assert skipping.elapsed(start, due) == duration
    end = start + data.draw(st.integers(0, 400 * 1440)) * MINUTE
    assert skipping.elapsed(start, end) == walking.elapsed(start, end)
