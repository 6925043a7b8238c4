"""API errors as API.md says: DRF's field-to-messages 400s, and domain rule
violations turned into 400 or 409 rather than 500s."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from portal.errors import Conflict, RuleViolation


def exception_handler(exc, context):
    if isinstance(exc, Conflict):
        return Response({"detail": exc.message, "rule": exc.rule, "code": exc.code}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, RuleViolation):
        body = exc.message_dict if exc.field else {"non_field_errors": [exc.message]}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoValidationError):
        exc = ValidationError(exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages})
    return drf_exception_handler(exc, context)
