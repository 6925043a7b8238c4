"""Whose business hours a reminder waits for (DOMAIN.md "Kantooruren", R5).

A customer contact is reached in the business hours of the work order's support
location; an account manager in the vendor's office hours in their own time zone
(User.time_zone, else the portal's TIME_ZONE).
"""

from django.conf import settings

from contracts.clock import BusinessCalendar


def customer_calendar(work_order):
    """The business-hours calendar of a work order's support location."""
    location = work_order.support_location
    if location is not None:
        return location.calendar()
    return BusinessCalendar.standard(work_order.customer.timezone or settings.TIME_ZONE)


def staff_calendar(user):
    """Office hours (09:00-17:30 Mon-Fri) of a staff member in their own time zone."""
    tz = (getattr(user, "time_zone", "") or "") or settings.TIME_ZONE
    return BusinessCalendar.standard(tz)
