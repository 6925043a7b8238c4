"""Project middleware: request ids, user preferences (language, time zone), 503 on a
database outage."""

import logging
import uuid
import zoneinfo

from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import JsonResponse
from django.utils import timezone, translation

from portal.logging import request_id_var

logger = logging.getLogger(__name__)


class RequestIdMiddleware:
    """Tags the request, its log lines and its response with an id (X-Request-ID)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        rid = incoming if incoming and len(incoming) <= 64 and incoming.isprintable() else uuid.uuid4().hex
        request.request_id = rid
        token = request_id_var.set(rid)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = rid
        return response


class UserPreferencesMiddleware:
    """Activates the signed-in user's language and time zone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        tz_name = None
        if user is not None and user.is_authenticated:
            lang = getattr(user, "language", "")
            if lang and not request.COOKIES.get("django_language"):
                translation.activate(lang)
                request.LANGUAGE_CODE = lang
            tz_name = getattr(user, "time_zone", "") or None
        if tz_name:
            try:
                timezone.activate(zoneinfo.ZoneInfo(tz_name))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        else:
            timezone.deactivate()
        return self.get_response(request)


class DatabaseUnavailableMiddleware:
    """Turns a lost database connection into a clear 503 rather than a traceback.

    Writes happen in transactions (ATOMIC service functions), so a failure mid-request
    leaves nothing half-written; the client may simply retry.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, (OperationalError, InterfaceError)) or (
            isinstance(exception, DatabaseError) and "connection" in str(exception).lower()
        ):
            logger.error("database unavailable: %s", exception.__class__.__name__)
            response = JsonResponse(
                {"detail": "The database is temporarily unavailable. Please retry shortly."}, status=503
            )
            response["Retry-After"] = "5"
            return response
        return None
