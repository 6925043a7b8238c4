"""API errors as API.md says: DRF's field-to-messages 400s, and domain rule
violations turned into 400, 403 or 409 rather than 500s.

A stale version found by a service's conditional UPDATE is 412 when the client sent
If-Match (its precondition failed) and 409 otherwise (a conflict with the state).
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import Conflict, NotAllowed, RuleViolation, StaleVersion, TooLarge


def exception_handler(exc, context):
    request = context.get("request")
    if isinstance(exc, StaleVersion):
        code = status.HTTP_409_CONFLICT
        if request is not None and request.headers.get("If-Match") is not None:
            code = status.HTTP_412_PRECONDITION_FAILED
        return Response({"detail": exc.message, "code": exc.code}, status=code)
    if isinstance(exc, Conflict):
        body = {"detail": exc.message, "rule": exc.rule, "code": exc.code}
        if exc.field:
            body["field"] = exc.field
        return Response(body, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, NotAllowed):
        body = {"detail": exc.message, "code": exc.code}
        if exc.rule:
            body["rule"] = exc.rule
        return Response(body, status=status.HTTP_403_FORBIDDEN)
    if isinstance(exc, TooLarge):
        return Response(exc.message_dict, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, RuleViolation):
        return Response(exc.message_dict, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoValidationError):
        exc = ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    return drf_exception_handler(exc, context)
