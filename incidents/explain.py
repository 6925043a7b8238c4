"""Why a deadline is what it is, in data and in plain sentences (staff and customer screens).

Built from the same functions that set the deadline (incidents.targets), so the
explanation and the stored due time cannot drift apart. The sentences, day and month
names are in the active language (the reader's: issue #7); the stored rule text is
English data and is shown translated when it is the one the target table produced.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import dateformat
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext as _

from contracts.models import weekday_hours_text
from core.errors import Conflict
from core.formatting import localize_pattern
from incidents import targets
from incidents.choices import Clock, Severity
from services.choices import Package

# Django's date format letters: day and month names follow the active language
# ("Tue 10 Mar 2026 11:30 CET", "di 10 mrt 2026 11:30 CET").
_FORMAT = "D d M Y H:i T"
_DAY = "D d M"
_DATE = "D d M Y"


def _weekday(day: int) -> str:
    return str(WEEKDAYS_ABBR[day])


def _weekday_text(days: list[int]) -> str:
    days = sorted(days)
    if days and days == list(range(days[0], days[-1] + 1)) and len(days) > 2:
        return f"{_weekday(days[0])}–{_weekday(days[-1])}"
    return ", ".join(_weekday(d) for d in days)


def rule_label(
    *, package: str, severity: str, minutes: int, clock: str, rapid: bool, around_the_clock: bool
) -> str:
    """targets.rule_text in the reader's language, for display only."""
    target = targets.humanize_minutes(minutes, clock)
    if rapid:
        return _("R9 Rapid Response: %(target)s") % {"target": target}
    text = _("R4 %(package)s %(severity)s: %(target)s") % {
        "package": Package(package).label,
        "severity": str(Severity(severity).label).lower(),
        "target": target,
    }
    if severity != Severity.CRITICAL and around_the_clock and clock == Clock.AROUND_THE_CLOCK:
        text += " " + _("(R6 24x7 effort)")
    return text


def shown_rule(*, stored: str, package, severity, minutes, clock, around_the_clock) -> str:
    """The rule in the reader's language when `stored` is what the target table produced
    (the same English text), else the stored text as it is."""
    fields = {
        "package": package,
        "severity": severity,
        "minutes": minutes,
        "clock": clock,
        "rapid": stored.startswith("R9"),
        "around_the_clock": around_the_clock,
    }
    try:
        if targets.rule_text(**fields) == stored:
            return rule_label(**fields)
    except ValueError:  # a package or severity no longer known: show what was stored
        pass
    return stored


def describe_hours(work_order) -> dict:
    """The business-hours clock of a work order: location name, zone, days and hours."""
    location = work_order.support_location
    if location is not None:
        per_day = location.hours_by_weekday()
        days = sorted(per_day)
        opens = min(o for o, _c in per_day.values())
        closes = max(c for _o, c in per_day.values())
        name, zone, country = location.name, location.timezone, location.country
        standard = False
    else:
        customer = work_order.customer
        days, opens, closes = (
            list(targets.STANDARD_WEEKDAYS),
            targets.STANDARD_OPENS,
            targets.STANDARD_CLOSES,
        )
        per_day = dict.fromkeys(days, (opens, closes))
        name = _("standard business hours of %(customer)s") % {"customer": customer.name}
        zone, country, standard = customer.timezone, customer.country, True
    return {
        "location": name,
        "timezone": zone,
        "country": country,
        "standard": standard,
        "weekdays": sorted(days),
        "opens_at": opens.strftime("%H:%M"),
        "closes_at": closes.strftime("%H:%M"),
        "text": f"{weekday_hours_text(per_day)} ({zone})",
    }


def _local(value: dt.datetime, zone: ZoneInfo) -> str:
    return dateformat.format(value.astimezone(zone), localize_pattern(_FORMAT))


def _days(days: list[dt.date]) -> str:
    return ", ".join(dateformat.format(d, localize_pattern(_DAY)) for d in days)


def _pauses(
    calendar, start: dt.datetime, due: dt.datetime, zone: ZoneInfo, names: dict, workdays: list[int]
) -> list[dict]:
    """The stretches between opened_at and due when the business clock stood still."""
    openings = calendar.openings(start, due)
    gaps, cursor = [], start
    for opening in openings:
        if opening.start > cursor:
            gaps.append((cursor, opening.start))
        cursor = opening.end
    found = []
    for gap_start, gap_end in gaps:
        first, last = gap_start.astimezone(zone).date(), gap_end.astimezone(zone).date()
        days = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
        closed = [d for d in days if d in names]
        weekend = [d for d in days if d.weekday() not in workdays and d not in names]
        if closed:
            holidays = "; ".join(
                f"{dateformat.format(d, localize_pattern(_DAY))} {names[d]}".strip() for d in closed
            )
            if weekend:
                reason = _("closed: %(closed)s and no business hours on %(days)s") % {
                    "closed": holidays,
                    "days": _days(weekend),
                }
            else:
                reason = _("closed: %(closed)s") % {"closed": holidays}
        elif weekend:
            reason = _("no business hours on %(days)s") % {"days": _days(weekend)}
        else:
            reason = _("outside business hours")
        found.append(
            {
                "from": gap_start,
                "to": gap_end,
                "reason": reason,
                "text": _("Paused from %(start)s to %(end)s: %(reason)s.")
                % {
                    "start": _local(gap_start, zone),
                    "end": _local(gap_end, zone),
                    "reason": reason,
                },
            }
        )
    return found


def explain(
    *,
    work_order,
    severity: str,
    is_cloud: bool,
    around_the_clock: bool,
    product: str,
    language: str,
    opened_at: dt.datetime,
    minutes: int | None = None,
    clock: str | None = None,
    rule: str | None = None,
    due: dt.datetime | None = None,
    incident=None,
    table_version: int | None = None,
) -> dict:
    """The explanation dict; without minutes/clock/rule/due they are chosen afresh (preview).

    table_version: the target table's version (incidents.caches): given, the target table
    and the location's calendar are read through this process's copies (per version, as
    incident_open does) instead of queries per explanation (a service review explains
    hundreds)."""
    try:
        choice = targets.select_target(
            work_order=work_order,
            severity=severity,
            is_cloud=is_cloud,
            around_the_clock=around_the_clock,
            product=product,
            language=language,
            table_version=table_version,
        )
    except Conflict:
        choice = None
    if minutes is None:
        if choice is None:
            raise Conflict(
                _("No response target is set for %(target)s.")
                % {"target": f"{work_order.package} {severity}"},
                rule="R4",
            )
        minutes, clock, rule = choice.minutes, choice.clock, choice.rule
    calendar, names = targets.business_calendar(
        work_order, opened_at, cached=table_version is not None
    )
    running = targets.clock_for(clock, calendar)
    computed_due, warning = targets.response_deadlines(
        opened_at=opened_at, minutes=minutes, clock=running
    )
    due = due or computed_due
    hours = describe_hours(work_order)
    zone = ZoneInfo(hours["timezone"])
    business = clock == Clock.BUSINESS_HOURS
    closed = calendar.closed_dates_between(opened_at, due) if business else []
    closed_dates = [{"date": d, "name": names.get(d, "")} for d in closed]
    pauses = _pauses(calendar, opened_at, due, zone, names, hours["weekdays"]) if business else []
    package_label = Package(work_order.package).label
    rule = shown_rule(
        stored=rule,
        package=work_order.package,
        severity=severity,
        minutes=minutes,
        clock=clock,
        around_the_clock=around_the_clock,
    )

    sentences = [
        _("A %(severity)s incident on %(package)s work order %(number)s.")
        % {
            "severity": str(Severity(severity).label).lower(),
            "package": package_label,
            "number": work_order.number,
        }
    ]
    sentences += list(choice.reasons if choice else ())
    sentences.append(_("Target: %(rule)s.") % {"rule": rule})
    if business:
        sentences.append(
            _(
                "The clock counts only the business hours of %(location)s: %(hours)s, "
                "minus public holidays and the location's closure days (R5)."
            )
            % {"location": hours["location"], "hours": hours["text"]}
        )
    else:
        sentences.append(
            _(
                "The clock runs 24x7: every minute counts, nights, weekends and holidays "
                "included (R6)."
            )
        )
    sentences.append(
        _("Opened %(opened)s; first response due %(due)s.")
        % {"opened": _local(opened_at, zone), "due": _local(due, zone)}
    )
    sentences += [p["text"] for p in pauses]
    if closed_dates:
        days = "; ".join(
            dateformat.format(c["date"], localize_pattern(_DATE))
            + (f" ({c['name']})" if c["name"] else "")
            for c in closed_dates
        )
        sentences.append(_("Closed days skipped: %(days)s.") % {"days": days})
    if incident is not None:
        if (
            choice is not None
            and (choice.minutes, choice.clock) != (minutes, clock)
            and incident.responded_at is None
        ):
            sentences.append(
                _(
                    "The response target table has changed since; this incident keeps the "
                    "target it was opened under (R4)."
                )
            )
        if incident.responded_at is not None:
            responded = {"at": _local(incident.responded_at, zone)}
            if incident.response_breached:
                sentences.append(
                    _("First response %(at)s, late: the target was breached.") % responded
                )
            else:
                sentences.append(_("First response %(at)s, within the target.") % responded)
        elif incident.response_breached:
            sentences.append(_("The target was breached: no response by the due time."))
    return {
        "package": work_order.package,
        "package_label": package_label,
        "severity": severity,
        "rule": rule,
        "target_minutes": minutes,
        "target": targets.humanize_minutes(minutes, clock),
        "clock": clock,
        "clock_label": Clock(clock).label,
        "business_hours": hours if business else None,
        "rapid_response": bool(choice and choice.rapid_response)
        if incident is None
        else rule.startswith("R9"),
        "opened_at": opened_at,
        "response_due_at": due,
        "response_warning_at": incident.response_warning_at if incident is not None else warning,
        "closed_dates": closed_dates,
        "pauses": [{k: p[k] for k in ("from", "to", "reason")} for p in pauses],
        "sentences": sentences,
        "text": " ".join(sentences),
    }
