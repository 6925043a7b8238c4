"""Timestamps as API.md writes them everywhere a machine reads them (the API, webhook
payloads, recorded snapshots): ISO 8601 in UTC with `Z`."""

import datetime as dt
import zoneinfo


def utc_iso(value: dt.datetime | None) -> str | None:
    """`2026-03-06T15:00:00Z` (microseconds when there are any); None stays None."""
    if value is None:
        return None
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def business_today(now: dt.datetime | None = None) -> dt.date:
    """What "today" is for every business decision: a term's first and last day, the
    R15 cut-offs, the R16 fee window, expiry, the date a form starts from.

    Counted in one declared zone, settings.BUSINESS_TIME_ZONE (the support location's,
    Europe/Amsterdam by default), never the active zone: the API activates UTC and a
    page the user's own zone, and a work order that ended yesterday in Amsterdam must
    not still be current through one door at 00:30 there.
    """
    from django.conf import settings
    from django.utils import timezone

    zone = zoneinfo.ZoneInfo(getattr(settings, "BUSINESS_TIME_ZONE", settings.TIME_ZONE))
    return (now or timezone.now()).astimezone(zone).date()
