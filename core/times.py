"""Timestamps as API.md writes them everywhere a machine reads them (the API, webhook
payloads, recorded snapshots): ISO 8601 in UTC with `Z`."""

import datetime as dt


def utc_iso(value: dt.datetime | None) -> str | None:
    """`2026-03-06T15:00:00Z` (microseconds when there are any); None stays None."""
    if value is None:
        return None
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
