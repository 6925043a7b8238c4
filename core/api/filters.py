"""The API's filter backend: django-filter, with 400 (never 500) for values the
database cannot take."""

import datetime as dt

from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError


class PortalFilterBackend(DjangoFilterBackend):
    """Date-times are sent to the database in UTC: PostgreSQL refuses offsets past
    ±15:59 that Python accepts (`-23:38`), which would otherwise be a DataError."""

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
