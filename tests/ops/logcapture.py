"""Capture what the project's configured console handler writes (formatter, request-id
and redaction filters included), for tests of the log output itself."""

import copy
import io
import json
import logging
import logging.config
from contextlib import contextmanager

from django.conf import settings


@contextmanager
def configured_log_output(fmt: str = "json", level: str = "INFO"):
    """Yields a StringIO receiving every log line as production would write it."""
    buffer = io.StringIO()
    config = copy.deepcopy(settings.LOGGING)
    config["handlers"]["console"]["stream"] = buffer
    config["handlers"]["console"]["formatter"] = fmt
    config["root"]["level"] = level
    logging.config.dictConfig(config)
    try:
        yield buffer
    finally:
        logging.config.dictConfig(settings.LOGGING)


def json_lines(buffer: io.StringIO) -> list[dict]:
    """Every line parsed as JSON (a line that is not JSON fails the test)."""
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]
