"""Writes for customers and support locations: hours and closed days (R5)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from contracts import clock, signals
from contracts.choices import ClosureSource
from contracts.models import (
    WEEKDAY_NAMES,
    ClosureDay,
    Customer,
    SupportLocation,
)
from contracts.rules import (
    check_country,
    check_fields,
    check_timezone,
)
from contracts.rules import (
    stamp as _stamp,
)
from core.errors import RuleViolation
from core.times import business_today

#: How many years of public holidays a location holds: this one and the next two (R5).
HOLIDAY_YEARS = 3


@transaction.atomic
def customer_create(
    *, code: str, name: str, country: str, timezone: str, language: str = "en", by=None
) -> Customer:
    code = (code or "").strip().lower()
    if not code:
        raise RuleViolation(_("A customer needs a code."), field="code")
    if not (name or "").strip():
        raise RuleViolation(_("A customer needs a name."), field="name")
    check_country(country)
    check_timezone(timezone)
    if Customer.objects.filter(code=code).exists():
        raise RuleViolation(_("Customer code %(code)r is taken.") % {"code": code}, field="code")
    customer = Customer(
        code=code, name=name.strip(), country=country, timezone=timezone, language=language
    )
    check_fields(customer)
    _stamp(customer, by).save()
    return customer


def check_opening_hours(fields: dict) -> None:
    opens, closes = fields.get("opens_at"), fields.get("closes_at")
    if opens is not None and closes is not None and closes <= opens:
        raise RuleViolation(
            _("R5: a location must close after it opens."), rule="R5", field="closes_at"
        )
    weekdays = fields.get("weekdays")
    if weekdays is not None:
        parts = [p.strip() for p in str(weekdays).split(",") if p.strip()]
        if (
            not parts
            or any(not p.isdigit() or not 0 <= int(p) <= 6 for p in parts)
            or len(set(parts)) != len(parts)
        ):
            raise RuleViolation(
                _(
                    "R5: weekdays are a comma-separated list of 0 (Monday) to 6 (Sunday), "
                    "e.g. 0,1,2,3,4."
                ),
                rule="R5",
                field="weekdays",
            )


def _as_time(value) -> dt.time:
    return value if isinstance(value, dt.time) else dt.time.fromisoformat(str(value))


def weekday_hours_from(value) -> dict[str, list[str]]:
    """R5: per-weekday hours, normalised for SupportLocation.weekday_hours.

    `value` maps a weekday (0=Monday ... 6=Sunday, int or digit string) to an (opens,
    closes) pair of times or "HH:MM" strings; None or a missing weekday is closed.
    Refused in plain words: an unknown weekday, a closing not after the opening, or
    no open weekday at all.
    """
    out: dict[str, list[str]] = {}
    for day, span in dict(value or {}).items():
        if not str(day).isdigit() or not 0 <= int(day) <= 6:
            raise RuleViolation(
                _("R5: weekdays are 0 (Monday) to 6 (Sunday)."), rule="R5", field="weekday_hours"
            )
        if span is None:
            continue
        try:
            opens, closes = (_as_time(t) for t in span)
        except (TypeError, ValueError):
            raise RuleViolation(
                _(
                    "R5: give each open weekday an opening and a closing time, e.g. 08:30 and 17:30."
                ),
                rule="R5",
                field="weekday_hours",
            ) from None
        if closes <= opens:
            raise RuleViolation(
                _("R5: on %(day)s the location must close after it opens.")
                % {"day": WEEKDAY_NAMES[int(day)]},
                rule="R5",
                field="weekday_hours",
            )
        out[str(int(day))] = [opens.strftime("%H:%M"), closes.strftime("%H:%M")]
    if not out:
        raise RuleViolation(
            _("R5: a location is open on at least one weekday."), rule="R5", field="weekday_hours"
        )
    return dict(sorted(out.items()))


def _summary(hours: dict[str, list[str]]) -> dict:
    """The simple shape that summarises per-weekday hours (for its older readers)."""
    return {
        "opens_at": min(dt.time.fromisoformat(o) for o, _c in hours.values()),
        "closes_at": max(dt.time.fromisoformat(c) for _o, c in hours.values()),
        "weekdays": ",".join(sorted(hours)),
    }


def _simple_to_weekday_hours(opens_at, closes_at, weekdays) -> dict[str, list[str]]:
    check_opening_hours({"opens_at": opens_at, "closes_at": closes_at, "weekdays": weekdays})
    days = [int(p) for p in str(weekdays).split(",") if p.strip()]
    return weekday_hours_from({d: (opens_at, closes_at) for d in days})


@transaction.atomic
def support_location_create(
    *,
    customer: Customer,
    name: str,
    country: str,
    timezone: str,
    subdivision: str = "",
    opens_at: dt.time = dt.time(9, 0),
    closes_at: dt.time = dt.time(17, 30),
    weekdays: str = "0,1,2,3,4",
    weekday_hours: dict | None = None,
    by=None,
) -> SupportLocation:
    """Create a location and copy its public holidays for this year and the next two (R5).

    Hours: `weekday_hours` (one span per open weekday, e.g. Friday closing earlier), or
    the simple shape, the same `opens_at`-`closes_at` on each of `weekdays`."""
    check_country(country)
    check_timezone(timezone)
    hours = (
        weekday_hours_from(weekday_hours)
        if weekday_hours is not None
        else _simple_to_weekday_hours(opens_at, closes_at, weekdays)
    )
    location = SupportLocation(
        customer=customer,
        name=name,
        country=country,
        subdivision=subdivision or "",
        timezone=timezone,
        weekday_hours=hours,
        **_summary(hours),
    )
    check_fields(location)
    _stamp(location, by).save()
    this_year = timezone_now_year()
    # A new location has no open incidents: nothing to recompute, so no signal.
    support_location_sync_holidays(
        location=location, years=range(this_year, this_year + HOLIDAY_YEARS), by=by, notify=False
    )
    return location


def timezone_now_year() -> int:
    return business_today().year


LOCATION_FIELDS = {
    "name",
    "country",
    "subdivision",
    "timezone",
    "opens_at",
    "closes_at",
    "weekdays",
    "weekday_hours",
}
CALENDAR_FIELDS = LOCATION_FIELDS - {"name"}
SIMPLE_HOURS = ("opens_at", "closes_at", "weekdays")


def _bump_calendar(location: SupportLocation, by) -> None:
    """Bump calendar_version and tell incidents to recompute open deadlines (R5)."""
    SupportLocation.objects.filter(pk=location.pk).update(
        calendar_version=F("calendar_version") + 1
    )
    location.refresh_from_db(fields=["calendar_version"])
    signals.calendar_changed.send(sender=SupportLocation, location=location, by=by)


@transaction.atomic
def support_location_update(*, location: SupportLocation, by=None, **fields) -> SupportLocation:
    unknown = set(fields) - LOCATION_FIELDS
    if unknown:
        raise RuleViolation(
            _("These fields cannot be changed here: %(fields)s.")
            % {"fields": ", ".join(sorted(unknown))},
            field=min(unknown),
        )
    # Lock the row: two staff edits of one calendar must not interleave.
    location = SupportLocation.objects.select_for_update().get(pk=location.pk)
    # Hours arrive per weekday or in the simple shape; either way they are stored per
    # weekday with the simple shape as its summary (SupportLocation.weekday_hours).
    if fields.get("weekday_hours") is not None:
        fields["weekday_hours"] = weekday_hours_from(fields["weekday_hours"])
        fields.update(_summary(fields["weekday_hours"]))
    elif set(SIMPLE_HOURS) & set(fields):
        fields.pop("weekday_hours", None)
        simple = {f: fields.get(f, getattr(location, f)) for f in SIMPLE_HOURS}
        fields["weekday_hours"] = _simple_to_weekday_hours(**simple)
        fields.update(_summary(fields["weekday_hours"]))
    else:
        fields.pop("weekday_hours", None)
    changed = {k: v for k, v in fields.items() if getattr(location, k) != v}
    if not changed:
        return location
    merged = {f: changed.get(f, getattr(location, f)) for f in CALENDAR_FIELDS}
    if "country" in changed:
        check_country(merged["country"])
    if "timezone" in changed:
        check_timezone(merged["timezone"])
    for key, value in changed.items():
        setattr(location, key, value)
    check_fields(location)
    _stamp(location, by).save(update_fields=list(changed))
    if {"country", "subdivision"} & set(changed):
        # Holidays of the old country that staff did not touch no longer apply.
        ClosureDay.objects.filter(
            location=location,
            source=ClosureSource.PUBLIC_HOLIDAY,
            is_closed=True,
            date__gte=business_today(),
        ).delete()
        year = timezone_now_year()
        support_location_sync_holidays(
            location=location, years=range(year, year + HOLIDAY_YEARS), by=by, notify=False
        )
    if CALENDAR_FIELDS & set(changed):
        _bump_calendar(location, by)
    return location


@transaction.atomic
def closure_day_set(
    *, location: SupportLocation, date: dt.date, name: str = "", is_closed: bool = True, by=None
) -> ClosureDay:
    """Close the location on a date, or reopen it (is_closed=False keeps a holiday from coming back)."""
    SupportLocation.objects.select_for_update().filter(pk=location.pk).first()
    day = ClosureDay.objects.filter(location=location, date=date).first()
    if day is None:
        day = ClosureDay(location=location, date=date, source=ClosureSource.LOCATION)
        day.name = name or "Closed"
        day.is_closed = is_closed
    elif day.is_closed == is_closed and (not name or day.name == name):
        return day
    else:
        day.is_closed = is_closed
        day.name = name or day.name
    check_fields(day)
    _stamp(day, by).save()
    _bump_calendar(location, by)
    return day


@transaction.atomic
def support_location_sync_holidays(
    *, location: SupportLocation, years: Iterable[int], by=None, notify=True
) -> int:
    """Copy public holidays of the given years as closure days; returns how many were new.

    Idempotent: a date that already has a row is left alone, including a holiday staff
    reopened (is_closed=False), so a re-run never undoes their decision.
    """
    years = sorted(set(years))
    if not years:
        return 0
    # The row lock serialises two syncs of one location (unique location+date).
    SupportLocation.objects.select_for_update().filter(pk=location.pk).first()
    try:
        # One year more: a holiday of next year may be observed on a date in the last year asked.
        # Named in the customer's language where the holidays package has it, else
        # English (issue #7): staff and the customer read these names on their screens.
        found = clock.public_holidays(
            location.country,
            location.subdivision or None,
            [*years, years[-1] + 1],
            language=location.customer.language or "en",
        )
    except clock.CalendarError as exc:
        raise RuleViolation(
            _("R5: no public holidays known for %(place)s: %(error)s")
            % {"place": f"{location.country} {location.subdivision}".strip(), "error": exc},
            rule="R5",
            field="subdivision" if location.subdivision else "country",
        ) from exc
    wanted = {d: n for d, n in found.items() if d.year in years}
    existing = set(
        ClosureDay.objects.filter(location=location, date__in=list(wanted)).values_list(
            "date", flat=True
        )
    )
    created = 0
    for date, name in sorted(wanted.items()):
        if date in existing:
            continue
        day = ClosureDay(
            location=location, date=date, name=name[:200], source=ClosureSource.PUBLIC_HOLIDAY
        )
        _stamp(day, by).save()
        created += 1
    if created and notify:
        _bump_calendar(location, by)
    return created
