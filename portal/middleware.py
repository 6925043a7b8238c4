"""Project middleware: request ids and access log, a 503 on a database outage, user
preferences (language, time zone), and no writes by read-only staff."""

import logging
import sys
import time
import uuid
import zoneinfo

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.signals import got_request_exception
from django.db import DatabaseError, InterfaceError, OperationalError
from django.dispatch import receiver
from django.http import HttpResponseBadRequest, JsonResponse
from django.urls import Resolver404, resolve
from django.utils import timezone, translation
from django.utils.functional import SimpleLazyObject

from core.logging import request_id_var

logger = logging.getLogger(__name__)
access_logger = logging.getLogger("portal.request")


class RequestIdMiddleware:
    """Tags the request, its log lines and its response with an id (X-Request-ID), and
    writes one structured access-log line per request.

    The access line has the path without its query string: a query string may carry
    something secret, and the redacting filter is the second line of defence, not
    the first.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        rid = (
            incoming
            if incoming and len(incoming) <= 64 and incoming.isprintable()
            else uuid.uuid4().hex
        )
        request.request_id = rid
        token = request_id_var.set(rid)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = rid
            # Health probes arrive every few seconds: keep them out of INFO logs.
            level = logging.DEBUG if request.path == "/healthz" else logging.INFO
            access_logger.log(
                level,
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.monotonic() - started) * 1000, 1),
                    "user_id": _loaded_user_id(request),
                },
            )
        finally:
            request_id_var.reset(token)
        return response


def _loaded_user_id(request):
    """The user's id if authentication already ran; never triggers a session load."""
    user = vars(request).get("user")
    if isinstance(user, SimpleLazyObject):
        user = vars(request).get("_cached_user")
    return (
        getattr(user, "pk", None) or getattr(user, "username", None) if user is not None else None
    )


def is_database_unavailable(exc: BaseException | None) -> bool:
    """A lost or refused database connection (not a bad query)."""
    if exc is None:
        return False
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    return isinstance(exc, DatabaseError) and "connection" in str(exc).lower()


def database_unavailable_response() -> JsonResponse:
    response = JsonResponse(
        {
            "detail": "The database is temporarily unavailable. Please retry shortly.",
            "code": "database_unavailable",
        },
        status=503,
    )
    response["Retry-After"] = "5"
    return response


@receiver(got_request_exception, dispatch_uid="portal.middleware.mark_database_unavailable")
def _mark_database_unavailable(sender, request=None, **kwargs):
    """Remember on the request that it failed for want of a database.

    Django turns an exception raised inside a middleware (the session or user lookup
    of SessionMiddleware / AuthenticationMiddleware, before any view) into a 500
    response at that layer, so the outer DatabaseUnavailableMiddleware never sees
    the exception itself. This signal is sent from inside the `except` block, so
    sys.exc_info() still holds it.
    """
    if request is not None and is_database_unavailable(sys.exc_info()[1]):
        request._portal_database_unavailable = True


class DatabaseUnavailableMiddleware:
    """Turns a lost database connection into a clear 503 JSON rather than a traceback,
    for the web UI and the API alike, whether the error comes from a view or from a
    middleware that touches the database (sessions, users, axes) before the view.

    It sits above SessionMiddleware in MIDDLEWARE for that reason. Writes happen in
    transactions (atomic service functions), so a failure mid-request leaves nothing
    half-written; the client may simply retry. With CONN_HEALTH_CHECKS the next
    request after the database is back gets a fresh connection: no manual step.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            response = self.get_response(request)
        except DatabaseError as exc:  # only when exceptions propagate (DEBUG_PROPAGATE_EXCEPTIONS)
            if not is_database_unavailable(exc):
                raise
            return self._unavailable(exc)
        if getattr(request, "_portal_database_unavailable", False) and response.status_code >= 500:
            return self._unavailable(None)
        return response

    def process_exception(self, request, exception):
        if is_database_unavailable(exception):
            return self._unavailable(exception)
        return None

    @staticmethod
    def _unavailable(exc):
        logger.error(
            "database unavailable: %s", exc.__class__.__name__ if exc else "error before the view"
        )
        return database_unavailable_response()


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


SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")


class ReadOnlyStaffMiddleware:
    """Refuses every write by signed-in read-only staff, in the UI and the API alike.

    The safety net under accounts.permissions: views and endpoints check `can_edit`
    themselves (to hide buttons and answer precisely), but a view that forgets still
    cannot let a read-only staff member change a contract, a balance or an incident.
    A few URL names stay open (READ_ONLY_STAFF_ALLOWED_URL_NAMES: logout, password
    change, language). API keys are checked by accounts.permissions in DRF, since
    they authenticate inside the view.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in SAFE_METHODS and self._is_read_only_staff(request):
            try:
                url_name = resolve(request.path_info).url_name
            except Resolver404:
                url_name = None
            if url_name not in getattr(settings, "READ_ONLY_STAFF_ALLOWED_URL_NAMES", ()):
                logger.warning("read-only staff write refused: %s %s", request.method, request.path)
                if request.path.startswith("/api/"):
                    return JsonResponse(
                        {
                            "detail": "Read-only staff cannot change anything.",
                            "code": "read_only_staff",
                        },
                        status=403,
                    )
                raise PermissionDenied("Read-only staff cannot change anything.")
        return self.get_response(request)

    @staticmethod
    def _is_read_only_staff(request) -> bool:
        from accounts.permissions import can_edit

        user = getattr(request, "user", None)
        return bool(
            user is not None and user.is_authenticated and user.is_staff and not can_edit(user)
        )


class HostileInputMiddleware:
    """A NUL byte or a lone surrogate in a query string or a posted form is a 400
    (JSON under /api/), never a database error: PostgreSQL refuses NUL in any text, and
    every filter and search box would otherwise pass it on. JSON bodies are checked by
    the API's parser (core.api.parsers)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from core.text import has_nul_or_surrogate

        sources = [request.GET]
        if request.method == "POST" and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            sources.append(request.POST)
        for source in sources:
            for key, values in source.lists():
                if has_nul_or_surrogate(key) or any(has_nul_or_surrogate(v) for v in values):
                    message = "Text may not contain NUL characters."
                    if request.path.startswith("/api/"):
                        return JsonResponse({"detail": message}, status=400)
                    return HttpResponseBadRequest(message, content_type="text/plain")
        return self.get_response(request)


class ApiJsonErrorsMiddleware:
    """Every response under /api/v1/ is JSON, errors included, whatever the method, size
    or cause (API.md Revision 2): Django's own HTML pages (CSRF failure, a body past
    DATA_UPLOAD_MAX_MEMORY_SIZE, a 500 before DRF's handler) become `{"detail": ...}`
    with the same status, and a JSON body larger than the limit is a 413 before
    anything reads it. Multipart uploads are left to the endpoint that takes them (its
    own size limit, 413). The schema and the documentation pages keep their formats."""

    PREFIX = "/api/v1/"
    NOT_JSON_OK = ("/api/v1/schema/", "/api/v1/docs/", "/api/v1/redoc/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(self.PREFIX):
            return self.get_response(request)
        too_big = self._too_big(request)
        if too_big is not None:
            return too_big
        response = self.get_response(request)
        if response.status_code < 400 or _is_json(response):
            return response
        if request.path.startswith(self.NOT_JSON_OK) and response.status_code < 500:
            return response
        body = {"detail": _status_text(response.status_code)}
        replacement = JsonResponse(body, status=response.status_code)
        for header in ("Retry-After", "Allow", "WWW-Authenticate", "X-Request-ID"):
            if header in response:
                replacement[header] = response[header]
        return replacement

    @staticmethod
    def _too_big(request):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is None or request.content_type.startswith("multipart/"):
            return None
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse({"detail": "Invalid Content-Length."}, status=400)
        if length > limit:
            return JsonResponse(
                {"detail": f"Request body too large: at most {limit} bytes."}, status=413
            )
        return None


def _is_json(response) -> bool:
    return response.get("Content-Type", "").split(";")[0].strip().endswith("json")


def _status_text(code: int) -> str:
    from http import HTTPStatus

    if code == 403:
        return "Forbidden (CSRF check failed or not allowed)."
    try:
        return HTTPStatus(code).phrase + "."
    except ValueError:
        return "Error."
