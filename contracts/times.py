""" "Today" for a work order (#22): one function, one zone per work order.

A work order's dates (its term's first and last day, the R15 60-day cut-off, the R16
14-day cancellation-fee window, expiry at the term's end R14, "current" for DSE R13,
the date a form starts from) are counted in the civil time zone of the work order's
support location; a work order without a location counts in settings.BUSINESS_TIME_ZONE.
Never the active zone (UTC in the API, the user's own zone on a page).

- `work_order_today(work_order)`: every rule, page, endpoint and job that asks "is it
  today / past / within N days" for one work order.
- `local_today_expression()`: the same date as a SQL expression per row, for lists and
  sweeps that filter many work orders at once (`WorkOrder.objects.with_status()`).
"""

import datetime as dt

from django.db import models

from core.times import business_zone_name, zone_today


def work_order_zone(work_order) -> str:
    """The IANA zone a work order's dates are counted in: its support location's, or
    BUSINESS_TIME_ZONE when it has none."""
    if work_order is not None and getattr(work_order, "support_location_id", None):
        zone = work_order.support_location.timezone
        if zone:
            return zone
    return business_zone_name()


def work_order_today(work_order, now: dt.datetime | None = None) -> dt.date:
    """The date it is now (or at `now`) for `work_order`, in work_order_zone()."""
    return zone_today(work_order_zone(work_order), now)


def local_today_expression(
    zone_path: str = "support_location__timezone", now: dt.datetime | None = None
) -> models.Case:
    """work_order_today() as an SQL CASE over the zones in use: one WHEN per distinct
    location zone, BUSINESS_TIME_ZONE's date otherwise (no location). `zone_path` is the
    lookup from the queried model to the location's timezone."""
    from contracts.models import SupportLocation

    now = now or _now()
    zones = sorted(set(SupportLocation.objects.values_list("timezone", flat=True)))
    default = zone_today(None, now)
    whens = [
        models.When(**{zone_path: zone}, then=models.Value(day))
        for zone in zones
        if zone and (day := zone_today(zone, now)) != default
    ]
    if not whens:
        return models.Value(default, output_field=models.DateField())
    return models.Case(*whens, default=models.Value(default), output_field=models.DateField())


def _now() -> dt.datetime:
    from django.utils import timezone

    return timezone.now()
