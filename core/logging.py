"""Logging helpers: request ids in every line, and secrets kept out of every line.

`RequestIdFilter` stamps each record with the id of the request being served
(`portal.middleware.RequestIdMiddleware` sets it). `RedactSecretsFilter` and the
redacting formatters scrub what must never reach a log: bearer tokens and the
Authorization header, our API keys (`sp_...`), passwords, secrets and session or
CSRF cookies. The filter cleans the message and its extra fields; the formatters
clean the finished line again, because a traceback or a third-party `extra=` can
carry a secret that no filter saw.
"""

import contextvars
import logging
import re

from pythonjsonlogger.json import JsonFormatter

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

REDACTED = "[REDACTED]"

# Names whose values are secret wherever they appear as key=value, "key": "value",
# or a dict key in log arguments.
_SENSITIVE_NAMES = (
    "password",
    "passwd",
    "secret",
    "api_key",
    "apikey",
    "token",
    "access_token",
    "refresh_token",
    "authorization",
    "sessionid",
    "csrftoken",
    "csrfmiddlewaretoken",
    "secret_key",
)
_NAME_ALT = "|".join(sorted((re.escape(n) for n in _SENSITIVE_NAMES), key=len, reverse=True))

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # Authorization: Bearer abc / Basic abc / Token abc (header lines, repr of headers).
    (re.compile(r"(?i)\b(bearer|basic|token)\s+[A-Za-z0-9._~+/=-]{6,}"), r"\1 " + REDACTED),
    # Our API keys, wherever they appear (accounts.models.API_KEY_PREFIX).
    (re.compile(r"\bsp_[A-Za-z0-9_-]{8,}"), REDACTED),
    # "password": "x", 'secret': 'x' (JSON and Python reprs).
    (
        re.compile(
            rf"(?i)([\"']?[\w-]*(?:{_NAME_ALT})[\w-]*[\"']?\s*[:=]\s*)([\"'])(?:(?!\2).)*\2"
        ),
        r"\1\2" + REDACTED + r"\2",
    ),
    # password=x in query strings, form bodies, headers and cookies (up to & ; , space).
    (
        re.compile(
            rf"(?i)\b([\w-]*(?:{_NAME_ALT})[\w-]*\s*[=:]\s*)(?![\"'\s]|\[REDACTED)[^&;,\s\"']+"
        ),
        r"\1" + REDACTED,
    ),
]

_SENSITIVE_KEY = re.compile(rf"(?i)({_NAME_ALT})")


def redact(text: str) -> str:
    """The text with every secret-looking value replaced by [REDACTED]."""
    if not text:
        return text
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_value(value):
    """Redact strings, and the values of sensitive keys in dicts, recursively."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {
            k: (REDACTED if isinstance(k, str) and _SENSITIVE_KEY.search(k) else redact_value(v))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(redact_value(v) for v in value)
    return value


# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD_ATTRS = set(vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None))) | {
    "message",
    "asctime",
    "request_id",
}


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        # django.request logs 4xx/5xx after the middleware chain returned (the context
        # variable is reset by then), but it attaches the request, which has its id.
        request = getattr(record, "request", None)
        record.request_id = getattr(request, "request_id", None) or request_id_var.get()
        return True


class RedactSecretsFilter(logging.Filter):
    """Scrubs the message, its arguments and `extra=` fields of a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not lose the line
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        for name, value in list(vars(record).items()):
            if name in _STANDARD_ATTRS:
                continue
            if name == "request":
                # Django attaches the HttpRequest to django.request records; its repr
                # holds the query string. Keep only what is useful and safe.
                record.request = redact(
                    f"{getattr(value, 'method', '')} {getattr(value, 'path', '')}"
                )
            elif _SENSITIVE_KEY.search(name):
                setattr(record, name, REDACTED)
            else:
                setattr(record, name, redact_value(value))
        return True


class RedactingJsonFormatter(JsonFormatter):
    """JSON lines, scrubbed once more after formatting (tracebacks included)."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class RedactingFormatter(logging.Formatter):
    """Plain lines for local runs, scrubbed like the JSON ones."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))
