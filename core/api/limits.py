"""Limits on what API input may hold, applied by every input serializer
(`InputLimitsMixin`): single-line text without control characters, dates in
DATE_MIN..DATE_MAX, integers that fit a PostgreSQL integer. Each is a 400 naming the
field, never a 500 further down and never an e-mail that cannot be sent.
"""

import datetime as dt

from django.utils.translation import gettext as _
from rest_framework import serializers

from core.text import DATE_MAX, DATE_MIN, date_in_range, multi_line_error, single_line_error

#: Text fields that may hold several lines (descriptions, comments, reasons, notes).
MULTI_LINE_FIELDS = frozenset(
    {"description", "body", "comment", "reason", "note", "notes", "products", "override_reason"}
)
INT_LIMIT = 2**31 - 1


def value_error(name: str, field, value) -> str | None:
    """Why `value` (already converted by `field`) is refused, or None."""
    if isinstance(value, str) and isinstance(field, serializers.CharField):
        multi = name in MULTI_LINE_FIELDS or field.style.get("base_template") == "textarea.html"
        if multi and multi_line_error(value):
            return _("Control characters are not allowed here.")
        if not multi and single_line_error(value):
            return _("Must be one line of text without control characters.")
    if isinstance(value, dt.date) and not date_in_range(value):
        return _("Must be a date from %(min)s to %(max)s.") % {"min": DATE_MIN, "max": DATE_MAX}
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > INT_LIMIT:
        return _("Must be a number from %(min)s to %(max)s.") % {
            "min": -INT_LIMIT,
            "max": INT_LIMIT,
        }
    return None


class InputLimitsMixin:
    """For every input serializer: see the module docstring."""

    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        errors = {}
        for name, field in self.fields.items():
            if field.read_only or field.source not in values:
                continue
            value = values[field.source]
            items = value if isinstance(field, serializers.ListField) else [value]
            child = getattr(field, "child", field)
            for item in items if isinstance(items, list) else [items]:
                error = value_error(name, child, item)
                if error:
                    errors[name] = [error]
                    break
        if errors:
            raise serializers.ValidationError(errors)
        return values
