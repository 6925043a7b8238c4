"""Why a deadline is what it is, in data and in plain sentences (staff and customer screens).

Built from the same functions that set the deadline (incidents.targets), so the
explanation and the stored due time cannot drift apart.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from contracts.models import WEEKDAY_NAMES
from incidents import targets
from incidents.choices import Clock, Severity
from portal.errors import Conflict
from services.choices import Package

_FORMAT = "%a %d %b %Y %H:%M %Z"


def _weekday_text(days: list[int]) -> str:
    days = sorted(days)
    if days and days == list(range(days[0], days[-1] + 1)) and len(days) > 2:
        return f"{WEEKDAY_NAMES[days[0]]}–{WEEKDAY_NAMES[days[-1]]}"
    return ", ".join(WEEKDAY_NAMES[d] for d in days)


def describe_hours(work_order) -> dict:
    """The business-hours clock of a work order: location name, zone, days and hours."""
    location = work_order.support_location
    if location is not None:
        days, opens, closes = location.weekday_numbers, location.opens_at, location.closes_at
        name, zone, country = location.name, location.timezone, location.country
        standard = False
    else:
        customer = work_order.customer
        days, opens, closes = (
            list(targets.STANDARD_WEEKDAYS),
            targets.STANDARD_OPENS,
            targets.STANDARD_CLOSES,
        )
        name = f"standard business hours of {customer.name}"
        zone, country, standard = customer.timezone, customer.country, True
    return {
        "location": name,
        "timezone": zone,
        "country": country,
        "standard": standard,
        "weekdays": sorted(days),
        "opens_at": opens.strftime("%H:%M"),
        "closes_at": closes.strftime("%H:%M"),
        "text": f"{_weekday_text(days)} {opens:%H:%M}–{closes:%H:%M} ({zone})",
    }


def _local(value: dt.datetime, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime(_FORMAT)


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
            reason = "closed: " + "; ".join(f"{d:%a %d %b} {names[d]}".strip() for d in closed)
            if weekend:
                reason += " and no business hours on " + ", ".join(f"{d:%a %d %b}" for d in weekend)
        elif weekend:
            reason = "no business hours on " + ", ".join(f"{d:%a %d %b}" for d in weekend)
        else:
            reason = "outside business hours"
        found.append(
            {
                "from": gap_start,
                "to": gap_end,
                "reason": reason,
                "text": f"Paused from {_local(gap_start, zone)} to {_local(gap_end, zone)}: {reason}.",
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
    opened_at: dt.datetime,
    minutes: int | None = None,
    clock: str | None = None,
    rule: str | None = None,
    due: dt.datetime | None = None,
    incident=None,
) -> dict:
    """The explanation dict; without minutes/clock/rule/due they are chosen afresh (preview)."""
    try:
        choice = targets.select_target(
            work_order=work_order,
            severity=severity,
            is_cloud=is_cloud,
            around_the_clock=around_the_clock,
            product=product,
        )
    except Conflict:
        choice = None
    if minutes is None:
        if choice is None:
            raise Conflict(
                f"No response target is set for {work_order.package} {severity}.", rule="R4"
            )
        minutes, clock, rule = choice.minutes, choice.clock, choice.rule
    calendar, names = targets.business_calendar(work_order, opened_at)
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

    sentences = [
        f"A {Severity(severity).label.lower()} incident on {package_label} work order {work_order.number}."
    ]
    sentences += list(choice.reasons if choice else ())
    sentences.append(f"Target: {rule}.")
    if business:
        sentences.append(
            f"The clock counts only the business hours of {hours['location']}: {hours['text']}, "
            "minus public holidays and the location's closure days (R5)."
        )
    else:
        sentences.append(
            "The clock runs 24x7: every minute counts, nights, weekends and holidays included (R6)."
        )
    sentences.append(f"Opened {_local(opened_at, zone)}; first response due {_local(due, zone)}.")
    sentences += [p["text"] for p in pauses]
    if closed_dates:
        sentences.append(
            "Closed days skipped: "
            + "; ".join(
                f"{c['date']:%a %d %b %Y}" + (f" ({c['name']})" if c["name"] else "")
                for c in closed_dates
            )
            + "."
        )
    if incident is not None:
        if (
            choice is not None
            and (choice.minutes, choice.clock) != (minutes, clock)
            and incident.responded_at is None
        ):
            sentences.append(
                "The response target table has changed since; this incident keeps the target it was opened under (R4)."
            )
        if incident.responded_at is not None:
            verdict = (
                "late: the target was breached"
                if incident.response_breached
                else "within the target"
            )
            sentences.append(f"First response {_local(incident.responded_at, zone)}, {verdict}.")
        elif incident.response_breached:
            sentences.append("The target was breached: no response by the due time.")
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
