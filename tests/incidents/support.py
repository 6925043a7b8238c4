"""Helpers for the incident tests (not a conftest: tests/incidents is shared with the
worker's sweep tests, and these stay out of their way)."""

import datetime as dt
from zoneinfo import ZoneInfo

from tests import factories as f

AMS = ZoneInfo("Europe/Amsterdam")


def ams(year, month, day, hour=0, minute=0) -> dt.datetime:
    """An Amsterdam wall-clock time."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=AMS)


def work_order(*, customer, package="advanced", account_manager=None, location=True, **kwargs):
    """A work order whose term covers 2026-2027, with a contact; the location (if any)
    is Amsterdam 09:00-17:30 Mon-Fri without closure days unless the test adds them."""
    fields = dict(
        customer=customer,
        package=package,
        account_manager=account_manager,
        start_date=dt.date(2026, 1, 1),
        end_date=dt.date(2027, 12, 31),
    )
    if not location:
        fields["support_location"] = None
    fields.update(kwargs)
    wo = f.WorkOrderFactory(**fields)
    contact = f.NamedContactFactory(
        work_order=wo, name="Dana", email=f"dana.{wo.number.lower()}@acme.example"
    )
    return wo, contact


def open_incident(wo, contact, *, by, severity="normal", **kwargs):
    from incidents.services import incident_open

    kwargs.setdefault("title", "Mail flow stopped")
    return incident_open(work_order=wo, contact=contact, severity=severity, by=by, **kwargs)
