"""E-mails rendered at delivery, not in the request (issue #20).

An event whose app registers a renderer here is written to the outbox without text:
each e-mail row keeps the event, its recipient and the reader's language and time zone
(`payload["_render"]`), plus the event's data (the API representation the webhook
sends too). The delivery worker renders subject and body just before sending, under the
reader's language and zone, and stores the text on the row (what staff see, what a retry
resends). The request that caused the event pays nothing for templates, translations or
date formatting.

Apps register at ready() (notifications imports no domain app):
    rendering.register("incident.created", render_incident_created)
A renderer is `(payload) -> (subject, body)`, called inside translation.override and
timezone.override; it must not read the database (the row may outlive its object).
"""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

from django.utils import timezone, translation

from core.formatting import plain_words

Renderer = Callable[[dict], tuple[str, str]]
_RENDERERS: dict[str, Renderer] = {}
#: The key in an e-mail row's payload holding the reader's language and zone.
RENDER_KEY = "_render"


def register(event: str, renderer: Renderer) -> None:
    _RENDERERS[event] = renderer


def deferred(event: str) -> bool:
    """Whether `event`'s e-mails are rendered at delivery."""
    return event in _RENDERERS


def render_row(row) -> tuple[str, str] | None:
    """(subject, body) of a deferred e-mail row, or None when it carries its text."""
    spec = (row.payload or {}).get(RENDER_KEY) if isinstance(row.payload, dict) else None
    renderer = _RENDERERS.get(row.event)
    if spec is None or renderer is None or row.body:
        return None
    data = {k: v for k, v in row.payload.items() if k != RENDER_KEY}
    with translation.override(spec["language"]), timezone.override(ZoneInfo(spec["zone"])):
        subject, body = renderer(data)
    if not spec.get("staff", True):  # customers read plain words, no rule numbers (#19)
        subject, body = plain_words(subject), plain_words(body)
    return subject, body
