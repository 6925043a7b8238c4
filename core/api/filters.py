"""The API's filter backend: django-filter, with 400 (never 500) for values the
database cannot take."""

import datetime as dt

import django_filters
from django import forms
from django.core.exceptions import ValidationError as FormValidationError
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError


class PortalFilterBackend(DjangoFilterBackend):
    """Date-times are sent to the database in UTC: PostgreSQL refuses offsets past
    ±15:59 that Python accepts (`-23:38`), which would otherwise be a DataError."""

    def get_filterset_kwargs(self, request, queryset, view):
        """An empty value (`?status=`) is no value, for every filter (the schema says
        `allowEmptyValue`): a multiple choice would otherwise refuse "" as a choice."""
        kwargs = super().get_filterset_kwargs(request, queryset, view)
        data = kwargs["data"].copy()
        for name in list(data):
            values = [value for value in data.getlist(name) if value != ""]
            if values:
                data.setlist(name, values)
            else:
                del data[name]
        kwargs["data"] = data
        return kwargs

    def filter_queryset(self, request, queryset, view):
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        if not filterset.is_valid() and self.raise_exception:
            raise ValidationError(filterset.errors)
        cleaned = filterset.form.cleaned_data
        for name, value in list(cleaned.items()):
            if isinstance(value, dt.datetime) and value.tzinfo is not None:
                try:
                    cleaned[name] = value.astimezone(dt.UTC)
                except (OverflowError, ValueError) as exc:
                    raise ValidationError({name: ["Date-time out of range."]}) from exc
        return filterset.qs


class StrictNullBooleanSelect(forms.NullBooleanSelect):
    """The yes/no/any select, passing a value it does not know on to the field (which
    refuses it) instead of reading it as "any"."""

    def value_from_datadict(self, data, files, name):
        return data.get(name)


class StrictNullBooleanField(forms.NullBooleanField):
    widget = StrictNullBooleanSelect

    def to_python(self, value):
        if value in (None, "", "unknown"):
            return None
        if value in (True, "True", "true", "1"):
            return True
        if value in (False, "False", "false", "0"):
            return False
        raise FormValidationError(_("Must be true or false."), code="invalid")


class StrictBooleanFilter(django_filters.BooleanFilter):
    """`?flag=true|false`; any other value is 400 naming it (API.md Revision 2: never
    silently ignored), where django-filter's BooleanFilter would read it as "any"."""

    field_class = StrictNullBooleanField


ID_MAX = 2_147_483_647  # PostgreSQL's integer: a larger id matches nothing and is refused


class IdField(forms.IntegerField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", ID_MAX)
        super().__init__(*args, **kwargs)


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": ID_MAX})
class IdFilter(django_filters.NumberFilter):
    """`?incident=<id>` and the like: a whole number from 1 to 2,147,483,647, so the
    schema says integer (not django-filter's decimal) and out of range is a 400."""

    field_class = IdField
