"""Timestamps as API.md writes them everywhere a machine reads them (the API, webhook
payloads, recorded snapshots): ISO 8601 in UTC with `Z`."""

import datetime as dt
import zoneinfo


def utc_iso(value: dt.datetime | None) -> str | None:
    """`2026-03-06T15:00:00Z` (microseconds when there are any); None stays None."""
    if value is None:
        return None
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def business_zone_name() -> str:
    """settings.BUSINESS_TIME_ZONE: the zone of a work order without a support location,
    and of business dates that belong to no work order (a month review, a rate's date)."""
    from django.conf import settings

    return getattr(settings, "BUSINESS_TIME_ZONE", settings.TIME_ZONE)


def zone_today(zone: str | None, now: dt.datetime | None = None) -> dt.date:
    """The civil date in the IANA zone `zone` at `now` (default: this instant).

    An empty or unknown zone falls back to BUSINESS_TIME_ZONE, so a bad value on a
    location can never make a date rule raise."""
    from django.utils import timezone

    try:
        tz = zoneinfo.ZoneInfo(zone) if zone else None
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        tz = None
    if tz is None:
        tz = zoneinfo.ZoneInfo(business_zone_name())
    return (now or timezone.now()).astimezone(tz).date()


def business_today(now: dt.datetime | None = None) -> dt.date:
    """ "Today" in settings.BUSINESS_TIME_ZONE, never the active zone.

    For a work order's dates (term, R15 cut-off, R16 fee window, expiry, DSE-current)
    use contracts.times.work_order_today(work_order): the date in that work order's
    support location's zone, this one only when it has no location. The active zone is
    never asked: the API activates UTC and a page the user's own zone.
    """
    return zone_today(None, now)
