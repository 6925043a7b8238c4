"""Which response target applies to an incident, on which clock, and when it falls due.

Shared by the services (incident_open, severity changes, recomputation), the
explanation shown to staff and customers, and the filing form's preview, so that the
three can never disagree. Reads ResponseTarget rows and the work order's lines; the
time arithmetic itself is contracts.clock.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from contracts.clock import AroundTheClock, BusinessCalendar, public_holidays
from core.errors import Conflict
from incidents import caches
from incidents.choices import (
    CHANGE_CONTROL_BUSINESS_MINUTES,
    RAPID_RESPONSE_EXCLUDED_PRODUCTS,
    RAPID_RESPONSE_LANGUAGE,
    WARNING_FRACTION,
    Clock,
    Severity,
)
from incidents.models import ResponseTarget
from services.choices import RAPID_RESPONSE, Package

_EXCLUDED = frozenset(" ".join(p.split()).casefold() for p in RAPID_RESPONSE_EXCLUDED_PRODUCTS)

# A work order without a support location (DOMAIN.md glossary, "Kantooruren"): the
# standard office week in the customer's zone, minus the customer's country's public
# holidays. Documented in docs/ARCHITECTURE.md's incidents notes.
STANDARD_OPENS = dt.time(9, 0)
STANDARD_CLOSES = dt.time(17, 30)
STANDARD_WEEKDAYS = (0, 1, 2, 3, 4)


@dataclass(frozen=True)
class TargetChoice:
    """The response target chosen for an incident, with the reasons in plain words."""

    target: ResponseTarget | None
    minutes: int
    clock: str
    rule: str
    rapid_response: bool = False
    reasons: tuple[str, ...] = field(default_factory=tuple)


def humanize_minutes(minutes: int, clock: str) -> str:
    """'4 business hours', '1 hour 24x7', '15 minutes 24x7', in the active language
    ('4 kantooruren'); rule_text stores it in English."""
    business = clock == Clock.BUSINESS_HOURS
    hours, rest = divmod(minutes, 60)
    if business and hours and not rest:
        return ngettext("%(count)s business hour", "%(count)s business hours", hours) % {
            "count": hours
        }
    parts = []
    if hours:
        parts.append(ngettext("%(count)s hour", "%(count)s hours", hours) % {"count": hours})
    if rest or not hours:
        parts.append(ngettext("%(count)s minute", "%(count)s minutes", rest) % {"count": rest})
    text = " ".join(parts)
    if business:
        return _("%(duration)s of business hours") % {"duration": text}
    return _("%(duration)s 24x7") % {"duration": text}


def language_name(language: str) -> str:
    """'Dutch' (in the reader's language) for 'nl'; an unknown code as it is."""
    return str(dict(settings.LANGUAGES).get(language, language))


def rapid_response_check(
    *, work_order, severity: str, is_cloud: bool, product: str, language: str
) -> tuple[bool, str]:
    """R9: whether Rapid Response overrides the package's target, and why (not)."""
    # The reasons are shown (explanations), never stored: in the reader's language.
    if severity != Severity.CRITICAL:
        return False, _("Rapid Response (R9) covers critical incidents only.")
    if not is_cloud:
        return False, _("Rapid Response (R9) covers cloud incidents only.")
    # Before the add-on's query: a language the add-on never serves needs no read.
    if language != RAPID_RESPONSE_LANGUAGE:
        return False, _(
            "Rapid Response (R9) is delivered in English only; this incident is handled "
            "in %(language)s."
        ) % {"language": language_name(language)}
    holds = work_order.lines.filter(service__code=RAPID_RESPONSE, expired_at__isnull=True).exists()
    if not holds:
        return False, _("The work order holds no Rapid Response add-on (R9).")
    if " ".join((product or "").split()).casefold() in _EXCLUDED:
        return False, _("Rapid Response (R9) does not cover %(product)s.") % {
            "product": product.strip()
        }
    if not work_order.deployment_docs_on_file:
        return False, _(
            "Rapid Response (R9) needs the customer's deployment documentation on file."
        )
    return (
        True,
        _(
            "Rapid Response (R9) applies: a critical cloud incident on a work order holding the add-on."
        ),
    )


def _target_rows() -> dict[tuple[str, str, bool], ResponseTarget]:
    return {(r.package, r.severity, r.rapid_response): r for r in ResponseTarget.objects.all()}


def _target_row(
    package: str, severity: str, rapid: bool, *, table_version: int | None = None
) -> ResponseTarget:
    if table_version is not None:
        # A copy: the cached instance is shared by every incident this process opens.
        rows = caches.response_targets(_target_rows, table_version)
        row = rows.get((package, severity, rapid))
        row = copy.copy(row) if row is not None else None
    else:
        row = ResponseTarget.objects.filter(
            package=package, severity=severity, rapid_response=rapid
        ).first()
    if row is None:
        raise Conflict(
            _("No response target is set for %(target)s.")
            % {"target": f"{package} {severity}{' Rapid Response' if rapid else ''}"},
            rule="R4",
            field="severity",
        )
    return row


def rule_text(
    *, package: str, severity: str, minutes: int, clock: str, rapid: bool, around_the_clock: bool
) -> str:
    """The human-readable rule copied onto the incident, e.g. 'R4 Advanced normal: 4 business hours'.

    Stored data, so always English whatever the request's language (the labels below are
    translatable); incidents.explain shows it in the reader's language.
    """
    with translation.override("en"):
        return _rule_text(
            package=package,
            severity=severity,
            minutes=minutes,
            clock=clock,
            rapid=rapid,
            around_the_clock=around_the_clock,
        )


def _rule_text(
    *, package: str, severity: str, minutes: int, clock: str, rapid: bool, around_the_clock: bool
) -> str:
    if rapid:
        return f"R9 Rapid Response: {humanize_minutes(minutes, clock)}"
    text = f"R4 {Package(package).label} {Severity(severity).label.lower()}: {humanize_minutes(minutes, clock)}"
    if severity != Severity.CRITICAL and around_the_clock and clock == Clock.AROUND_THE_CLOCK:
        text += " (R6 24x7 effort)"
    return text[:200]


def effective_clock(*, row_clock: str, severity: str, rapid: bool, around_the_clock: bool) -> str:
    """R6: critical incidents (and R9's) always run 24x7; a normal one on request."""
    if rapid or severity == Severity.CRITICAL or around_the_clock:
        return Clock.AROUND_THE_CLOCK
    return row_clock


def select_target(
    *,
    work_order,
    severity: str,
    is_cloud: bool,
    around_the_clock: bool,
    product: str,
    language: str,
    table_version: int | None = None,
) -> TargetChoice:
    """R4 from the ResponseTarget table, R9 override, R6 clock; reasons for explain.

    language: the incident's (R22); Rapid Response is English only (R9).

    table_version: the table's version as just read (incidents.caches), to use this
    process's copy of it (incident_open); None reads the table.
    """
    reasons = []
    rapid, why = rapid_response_check(
        work_order=work_order,
        severity=severity,
        is_cloud=is_cloud,
        product=product,
        language=language,
    )
    if severity == Severity.CRITICAL and is_cloud:
        reasons.append(why)
    row = _target_row(work_order.package, severity, rapid, table_version=table_version)
    clock = effective_clock(
        row_clock=row.clock, severity=severity, rapid=rapid, around_the_clock=around_the_clock
    )
    if rapid:
        reasons.append(_("Rapid Response targets run 24x7 and override the base package's (R9)."))
    elif severity == Severity.CRITICAL:
        reasons.append(_("Critical incidents run 24x7 (R6)."))
    elif clock == Clock.AROUND_THE_CLOCK and around_the_clock:
        reasons.append(_("24x7 effort was requested, so the target runs on the 24x7 clock (R6)."))
    elif clock == Clock.BUSINESS_HOURS:
        reasons.append(_("Normal incidents count business hours only (R5)."))
    rule = rule_text(
        package=work_order.package,
        severity=severity,
        minutes=row.minutes,
        clock=clock,
        rapid=rapid,
        around_the_clock=around_the_clock,
    )
    return TargetChoice(row, row.minutes, clock, rule, rapid, tuple(reasons))


@lru_cache(maxsize=64)
def _standard_calendar(
    tz: str, country: str, first_year: int, last_year: int
) -> tuple[BusinessCalendar, dict]:
    try:
        names = public_holidays(country, None, range(first_year, last_year + 1))
    except Exception:  # an unknown country code: no holidays rather than no calendar
        names = {}
    calendar = BusinessCalendar.standard(
        tz,
        closed=names.keys(),
        open=STANDARD_OPENS,
        close=STANDARD_CLOSES,
        weekdays=STANDARD_WEEKDAYS,
    )
    return calendar, names


def business_calendar(
    work_order, around: dt.datetime | None = None, *, cached: bool = False
) -> tuple[BusinessCalendar, dict]:
    """The work order's business calendar and the names of its closed dates (R5).

    Its support location's calendar; without one, 09:00-17:30 Mon-Fri in the
    customer's zone with the customer's country's public holidays (years around
    `around`, cached: holidays of a year do not change under a pinned package).
    cached: a location's calendar through this process's copy, per calendar_version
    (incidents.caches; incident_open).
    """
    location = work_order.support_location
    if location is not None:
        if cached:
            return caches.location_calendar(location, lambda: _location_calendar(location))
        return _location_calendar(location)
    customer = work_order.customer
    year = (around or dt.datetime.now(dt.UTC)).year
    return _standard_calendar(customer.timezone, customer.country.upper(), year - 1, year + 2)


def _location_calendar(location) -> tuple[BusinessCalendar, dict]:
    days = list(location.closure_days.all())
    names = {d.date: d.name for d in days if d.is_closed}
    # R5: each weekday its own hours (e.g. Friday closing at 16:00).
    hours = {wd: [span] for wd, span in location.hours_by_weekday().items()}
    return BusinessCalendar(location.timezone, hours, names.keys()), names


def clock_for(clock: str, calendar: BusinessCalendar):
    return calendar if clock == Clock.BUSINESS_HOURS else AroundTheClock()


def local_zone_name(work_order) -> str:
    location = work_order.support_location
    return location.timezone if location is not None else work_order.customer.timezone


def response_deadlines(
    *, opened_at: dt.datetime, minutes: int, clock
) -> tuple[dt.datetime, dt.datetime]:
    """(response_due_at, response_warning_at): the target and its 75% on the same clock."""
    due = clock.add(opened_at, dt.timedelta(minutes=minutes))
    warning = clock.add(opened_at, dt.timedelta(minutes=minutes * WARNING_FRACTION))
    return due, warning


def change_control_due(*, start: dt.datetime, calendar: BusinessCalendar) -> dt.datetime:
    """The customer's side: change-control access within 4 business hours."""
    return calendar.add(start, dt.timedelta(minutes=CHANGE_CONTROL_BUSINESS_MINUTES))
