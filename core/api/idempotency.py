"""`Idempotency-Key` on creating POSTs (API.md).

The first successful (2xx) response to a key is stored with a fingerprint of the
request; the same key with the same request returns that response again and creates
nothing; the same key with another request is 409. A failed attempt (4xx, 5xx or an
exception) stores nothing, so the client may fix its request and retry with the key.

Concurrency: the claim row is inserted in the same transaction as the creation. A
concurrent duplicate's INSERT waits on the unique index (principal, key) until the
first transaction ends, then either finds the stored response (first one committed)
or claims the key itself (first one rolled back). Nothing is created twice.
"""

import datetime as dt
import hashlib
import json
import re

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from core.models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200
#: Printable ASCII, no space at either end (the schema's pattern for the header).
IDEMPOTENCY_KEY_PATTERN = r"^[!-~]([ -~]*[!-~])?$"


class IdempotencyConflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This Idempotency-Key was already used with a different request."
    default_code = "idempotency_key_reused"


def principal_of(request) -> str:
    """Who owns a key: the API key when one authenticated the request, else the user."""
    api_key = getattr(request.user, "api_key", None)
    if api_key is not None:
        return f"key:{api_key.pk}"
    return f"user:{request.user.pk}"


def fingerprint_of(request) -> str:
    """sha256 of method, path and the canonical JSON of the parsed body."""
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    raw = f"{request.method}\n{request.path}\n{body}"
    return hashlib.sha256(raw.encode()).hexdigest()


def ttl() -> dt.timedelta:
    return dt.timedelta(hours=max(24, settings.IDEMPOTENCY_KEY_TTL_HOURS))


def _replay(record: IdempotencyRecord) -> Response:
    response = Response(record.response_body, status=record.status_code)
    response["Idempotent-Replayed"] = "true"
    return response


def _replay_or_conflict(existing: IdempotencyRecord | None, fingerprint: str) -> Response:
    """The answer to a key already claimed: its stored response, or 409."""
    if existing is None or existing.status_code is None:
        # Only possible in a race with a purge; ask the client to retry.
        raise IdempotencyConflict(
            "A request with this Idempotency-Key is in progress; retry shortly."
        )
    if existing.fingerprint != fingerprint:
        raise IdempotencyConflict()
    return _replay(existing)


def run_idempotent(request, handler):
    """Run `handler()` (a creating POST) under the request's Idempotency-Key, if any."""
    key = request.headers.get(HEADER)
    if key is None:
        return handler()
    if len(key) > MAX_KEY_LENGTH or not re.fullmatch(IDEMPOTENCY_KEY_PATTERN, key):
        raise ValidationError({HEADER: [f"Must be 1 to {MAX_KEY_LENGTH} printable characters."]})
    principal = principal_of(request)
    fingerprint = fingerprint_of(request)
    now = timezone.now()
    with transaction.atomic():
        # No savepoint and no purge on the way in (issue #6: each is a round trip on
        # every creating POST): the claim is one INSERT ... ON CONFLICT DO NOTHING.
        record_id = _claim(request, principal, key, fingerprint, now)
        if record_id is None:
            existing = IdempotencyRecord.objects.filter(principal=principal, key=key).first()
            if existing is not None and existing.created_at < now - ttl():
                # A record past its lifetime is forgotten: the key may be used afresh.
                existing.delete()
                existing, record_id = None, _claim(request, principal, key, fingerprint, now)
            if record_id is None:
                return _replay_or_conflict(existing, fingerprint)
        response = handler()
        if 200 <= response.status_code < 300:
            # Stored as the client saw it (dates as ISO strings, decimals as strings).
            IdempotencyRecord.objects.filter(pk=record_id).update(
                status_code=response.status_code,
                response_body=json.loads(JSONRenderer().render(response.data) or b"null"),
            )
        else:
            transaction.set_rollback(True)
        return response


def _claim(request, principal: str, key: str, fingerprint: str, now) -> int | None:
    """Insert the claim row; its id, or None when (principal, key) already has one.

    A concurrent claim of the same key waits on the unique index until the first
    transaction ends, then inserts (first one rolled back) or returns None."""
    meta = IdempotencyRecord._meta
    values = {
        "principal": principal,
        "key": key,
        "method": request.method,
        "path": request.path[:300],
        "fingerprint": fingerprint,
        "created_at": connection.ops.adapt_datetimefield_value(now),
    }
    columns = ", ".join(connection.ops.quote_name(meta.get_field(f).column) for f in values)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {connection.ops.quote_name(meta.db_table)} ({columns}) "
            f"VALUES ({', '.join(['%s'] * len(values))}) ON CONFLICT DO NOTHING "
            f"RETURNING {connection.ops.quote_name(meta.pk.column)}",
            list(values.values()),
        )
        row = cursor.fetchone()
    return row[0] if row else None


def purge_expired(now: dt.datetime | None = None) -> int:
    """Delete records past their lifetime (at least 24 hours); for a periodic task."""
    now = now or timezone.now()
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=now - ttl()).delete()
    return deleted
