"""Sync for every list (API.md Revision 2, "Sync").

- `?updated_after=<timestamp>`: rows whose `updated_at` is later (a time in the future
  gives an empty list, not an error).
- `?ordering=<field>[,<field>...]` on the view's `ordering_fields` (`-` for descending),
  with `id` as the last tie-breaker so pages never drift.
- `?ordering=updated_at` (or `-updated_at`) pages by keyset on (updated_at, id) with an
  opaque, signed cursor in `next`: a page holds the rows strictly after the last row of
  the previous page, so following `next` returns every row once, ties included, however
  many rows are inserted or updated between the calls; a row changed after it was
  returned has a later `updated_at` and comes again further on. A cursor that was
  altered is 400.
- Unknown query parameters are 400 naming them (`check_query_params`).

`updated_at` itself is moved by `auto_now` on save and, for every other writer (queryset
UPDATEs, the deadline sweep's raw SQL, admin bulk actions), by the PostgreSQL trigger of
migration portal 0002_i16_updated_at_trigger.
"""

from __future__ import annotations

import datetime as dt

from django.core import signing
from django.db.models import Q
from django.utils import timezone
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

CURSOR_SALT = "portal.api.cursor.v1"
PAGINATION_PARAMS = ("page", "page_size", "cursor")
SYNC_PARAMS = ("ordering", "updated_after")
DEFAULT_ORDERING_FIELDS = ("updated_at", "created_at", "id")


def model_has(model, name: str) -> bool:
    try:
        model._meta.get_field(name)
    except Exception:
        return False
    return True


def ordering_fields_of(view, model) -> tuple[str, ...]:
    declared = getattr(view, "ordering_fields", None)
    names = declared if declared is not None else DEFAULT_ORDERING_FIELDS
    return tuple(n for n in names if model_has(model, n))


def parse_timestamp(name: str, raw: str) -> dt.datetime:
    try:
        value = serializers.DateTimeField().to_internal_value(raw)
    except serializers.ValidationError as exc:
        raise ValidationError({name: exc.detail}) from exc
    if timezone.is_naive(value):
        value = timezone.make_aware(value, dt.UTC)
    try:
        return value.astimezone(dt.UTC)
    except (OverflowError, ValueError) as exc:
        raise ValidationError({name: ["Date-time out of range."]}) from exc


def requested_ordering(request, view, model) -> list[str] | None:
    """The validated `?ordering=` fields (with `-`), or None when not given."""
    # An empty value is no value, as for every filter (django-filter's rule).
    raw = request.query_params.get("ordering") or None
    if raw is None:
        cursor = decode_cursor(request)
        return [cursor["o"]] if cursor else None
    if "ordering" in getattr(view, "filter_names", set)():
        # Validated by the FilterSet's OrderingFilter; the cursor needs only its name.
        return [part.strip() for part in raw.split(",") if part.strip()]
    allowed = ordering_fields_of(view, model)
    fields = [part.strip() for part in raw.split(",") if part.strip()]
    bad = [f for f in fields if f.lstrip("-") not in allowed]
    if not fields or bad:
        raise ValidationError(
            {
                "ordering": [
                    f"Unknown ordering {', '.join(bad) or repr(raw)}; one of: "
                    + ", ".join(allowed)
                    + " (prefix - for descending)."
                ]
            }
        )
    return fields


def is_cursor_ordering(fields: list[str] | None) -> bool:
    return bool(fields) and len(fields) == 1 and fields[0].lstrip("-") == "updated_at"


def sync_queryset(queryset, request, view):
    """`updated_after` and `ordering` applied to a list's queryset (after its filters)."""
    model = queryset.model
    raw = request.query_params.get("updated_after") or None
    if raw is not None:
        after = parse_timestamp("updated_after", raw)
        if model_has(model, "updated_at"):
            queryset = queryset.filter(updated_at__gt=after)
        elif model_has(model, "created_at"):
            # Rows that never change once written (timeline entries, comments,
            # attachments, delivery records): their creation is their last change.
            queryset = queryset.filter(created_at__gt=after)
        else:
            raise ValidationError({"updated_after": ["This list has no updated_at."]})
    if "ordering" in getattr(view, "filter_names", set)():
        # The FilterSet has its own OrderingFilter (shared with the list page), which
        # validated and applied `?ordering=`: only the tie-breaker is added here.
        current = list(queryset.query.order_by)
        if current and current[-1].lstrip("-") not in ("id", "pk"):
            tie = "-id" if current[-1].startswith("-") else "id"
            queryset = queryset.order_by(*current, tie)
        return queryset
    fields = requested_ordering(request, view, model)
    if fields:
        tie = "-id" if fields[-1].startswith("-") else "id"
        if fields[-1].lstrip("-") != "id":
            fields = [*fields, tie]
        queryset = queryset.order_by(*fields)
    return queryset


# --- the cursor ---------------------------------------------------------------------


def encode_cursor(*, ordering: str, updated_at: dt.datetime, pk: int) -> str:
    """An opaque, signed position: the last row served (its updated_at and id)."""
    return signing.dumps(
        {"o": ordering, "t": updated_at.astimezone(dt.UTC).isoformat(), "i": pk},
        salt=CURSOR_SALT,
        compress=True,
    )


def decode_cursor(request) -> dict | None:
    raw = request.query_params.get("cursor") or None
    if raw is None:
        return None
    cached = getattr(request, "_portal_cursor", None)
    if cached is not None and cached[0] == raw:
        return cached[1]
    try:
        data = signing.loads(raw, salt=CURSOR_SALT)
        data["at"] = dt.datetime.fromisoformat(data["t"])
        data["i"] = int(data["i"])
        if data["o"] not in ("updated_at", "-updated_at") or data["at"].tzinfo is None:
            raise ValueError(data["o"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise ValidationError(
            {"cursor": ["Invalid cursor: use the `next` link exactly as it was returned."]}
        ) from exc
    request._portal_cursor = (raw, data)
    return data


def after_cursor(queryset, cursor: dict):
    """Rows strictly after the cursor's row in (updated_at, id) order (keyset)."""
    at, pk = cursor["at"], cursor["i"]
    if cursor["o"].startswith("-"):
        return queryset.filter(Q(updated_at__lt=at) | Q(updated_at=at, id__lt=pk))
    return queryset.filter(Q(updated_at__gt=at) | Q(updated_at=at, id__gt=pk))


def check_query_params(request, allowed) -> None:
    """400 naming every query parameter the endpoint does not know (never ignored)."""
    unknown = sorted(set(request.query_params) - set(allowed))
    if unknown:
        raise ValidationError(
            {name: ["Unknown query parameter for this endpoint."] for name in unknown}
        )
