"""Formatting of review table cells in the reader's language and time zone."""

import datetime as dt
from decimal import Decimal

from django import template
from django.utils import formats

from core import formatting
from reviews.tables import Month

register = template.Library()


@register.filter
def cell(value):
    """A table cell as the reader reads it: localized numbers, dates and times."""
    if value is None or value == "":
        return "–"
    if isinstance(value, Month):
        return formats.date_format(value, "F Y")
    # The portal's one format per kind (core.formatting): Dutch months in lower case, where
    # Django's "M" wrote "Mei" (issue #19).
    if isinstance(value, dt.datetime):
        return formatting.fmt_date(value, "moment")
    if isinstance(value, dt.date):
        return formatting.fmt_date(value, "day")
    if isinstance(value, Decimal | int | float) and not isinstance(value, bool):
        return formats.number_format(value, use_l10n=True, force_grouping=True)
    return value


@register.filter
def minutes(value):
    """Minutes as hours and minutes: 95 -> "1 h 35 min"."""
    if value is None:
        return "–"
    total = int(round(float(value)))
    hours, rest = divmod(total, 60)
    if hours:
        return f"{hours} h {rest} min" if rest else f"{hours} h"
    return f"{rest} min"


@register.filter
def get(mapping, key):
    return mapping.get(key) if mapping else None


@register.filter
def decimal(value):
    """A stored decimal string back to a number, for `cell`."""
    return None if value in (None, "") else Decimal(str(value))
