"""E-mails in each recipient's language and time zone (issue #7).

The outbox stores rendered text, so an e-mail is rendered when its row is written:
once per (language, time zone) among its recipients, under `translation.override`
and `timezone.override`, never in the language of whoever happened to trigger it.

- Staff: User.language, else English; User.time_zone, else settings.TIME_ZONE.
- A named contact: their portal user's language, else the customer's language;
  their user's time zone, else the support location's, else the customer's.
- A bare address (nothing else at hand): a portal user with that address, else a
  named contact of the customer, else the customer's language, else English.

Webhook rows carry no text (the payload is data), so they are written once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.utils import dateformat, timezone, translation

from core.formatting import plain_words
from notifications import rendering
from notifications.services import OutboxRow, outbox_rows, outbox_write

#: Staff without a preference read English (the vendor's working language).
STAFF_LANGUAGE = "en"

Render = Callable[[], tuple[str, str]]


@dataclass(frozen=True, slots=True)
class Reader:
    """One e-mail recipient: the address, and the language and zone to write in."""

    email: str
    language: str
    zone: str
    staff: bool = False  # staff read rule numbers; customers plain words (issue #19)


def _language(*candidates: str | None) -> str:
    known = {code for code, _name in settings.LANGUAGES}
    for value in candidates:
        code = (value or "").strip().lower()
        if code in known:
            return code
        if code.split("-")[0] in known:
            return code.split("-")[0]
    return STAFF_LANGUAGE


def _zone(*candidates: str | None) -> str:
    for value in candidates:
        if not value:
            continue
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            continue
        return value
    return settings.TIME_ZONE


def staff_reader(user) -> Reader | None:
    """An account manager or other staff member (None without an address)."""
    if user is None or not getattr(user, "email", ""):
        return None
    return Reader(
        user.email,
        _language(getattr(user, "language", "")),
        _zone(getattr(user, "time_zone", "")),
        staff=True,
    )


def contact_reader(contact, work_order) -> Reader | None:
    """A named contact of `work_order` (None without an address).

    Reads contact.user when the contact has one: select_related("user") where many
    contacts are read (the deadline sweep)."""
    if contact is None or not contact.email:
        return None
    user = contact.user if contact.user_id else None
    customer = work_order.customer
    location = work_order.support_location if work_order.support_location_id else None
    return Reader(
        contact.email,
        _language(getattr(user, "language", ""), customer.language),
        _zone(
            getattr(user, "time_zone", ""),
            location.timezone if location is not None else "",
            customer.timezone,
        ),
    )


def readers_for(emails: Iterable[str], *, customer=None) -> list[Reader]:
    """Readers for bare addresses: a portal user's preferences, else a named contact's
    customer, else `customer`'s language, else English (two queries at most)."""
    from accounts.models import User
    from contracts.models import NamedContact

    wanted = list(dict.fromkeys(e.strip().lower() for e in emails if e and e.strip()))
    if not wanted:
        return []
    users = {
        u.email.lower(): u for u in User.objects.filter(email__in=wanted).select_related("customer")
    }
    owners = {}
    missing = [e for e in wanted if e not in users]
    if missing:
        found = NamedContact.objects.filter(email__in=missing).select_related(
            "work_order__customer"
        )
        if customer is not None:
            found = found.filter(work_order__customer=customer)
        owners = {c.email.lower(): c.work_order.customer for c in found}
    readers = []
    for email in wanted:
        user = users.get(email)
        # The customer whose language a contact falls back to; staff fall back to English.
        if user is not None and user.is_staff:
            owner = None
        elif user is not None and user.customer_id is not None:
            owner = user.customer
        else:
            owner = owners.get(email) or customer
        readers.append(
            Reader(
                email,
                _language(getattr(user, "language", ""), getattr(owner, "language", "")),
                _zone(getattr(user, "time_zone", ""), getattr(owner, "timezone", "")),
                staff=bool(user is not None and user.is_staff),
            )
        )
    return readers


def localized_outbox_rows(
    *, readers: Iterable[Reader | None], render: Render, webhook: bool = True, **kwargs
) -> list[OutboxRow]:
    """notifications.services.outbox_rows, with subject and body from `render()` per
    (language, zone) of the readers. `kwargs` are outbox_rows' (event, key, ...)."""
    groups: dict[tuple[str, str, bool], list[str]] = {}
    seen: set[str] = set()
    for reader in readers:
        if reader is None or not reader.email or reader.email.strip().lower() in seen:
            continue
        seen.add(reader.email.strip().lower())
        groups.setdefault((reader.language, reader.zone, reader.staff), []).append(reader.email)
    rows: list[OutboxRow] = []
    for (language, zone, staff), emails in groups.items():
        if rendering.deferred(kwargs.get("event", "")):
            # Rendered by the delivery worker (notifications.rendering, issue #20).
            spec = {rendering.RENDER_KEY: {"language": language, "zone": zone, "staff": staff}}
            email_kwargs = {**kwargs, "payload": {**(kwargs.get("payload") or {}), **spec}}
            rows += outbox_rows(
                emails=emails,
                subject="",
                body="",
                webhook=False,
                language=language,
                **email_kwargs,
            )
            continue
        with translation.override(language), timezone.override(ZoneInfo(zone)):
            subject, body = render()
        if not staff:
            subject, body = plain_words(subject), plain_words(body)
        rows += outbox_rows(
            emails=emails,
            subject=subject,
            body=body,
            webhook=False,
            language=language,
            **kwargs,
        )
    if webhook:
        kwargs.pop("digest", None)
        rows += outbox_rows(emails=(), webhook=True, **kwargs)
    return rows


def localized_notify(
    *,
    readers: Iterable[Reader | None],
    render: Render,
    webhook: bool = True,
    batch=None,
    **kwargs,
) -> list[OutboxRow]:
    """Write one notification, each reader's e-mail in their language and zone (see module
    doc), through notifications.services.outbox_rows and outbox_write.
    With `batch` (a core.batch.InsertBatch) the rows go with the caller's INSERTs.

    Returns the rows handed to the outbox, not OutboxMessage instances: no caller reads
    them, and building model instances on every incident write cost time (issue #6)."""
    now = timezone.now()
    rows = localized_outbox_rows(readers=readers, render=render, webhook=webhook, now=now, **kwargs)
    outbox_write(rows, now=now, batch=batch)
    return rows


def when(value: dt.datetime | None) -> str:
    """A moment for an e-mail, in the active zone and language: '10 maart 2026 11:30 CET'."""
    if value is None:
        return ""
    return dateformat.format(timezone.localtime(value), "j F Y H:i T")


def day(value: dt.date | None) -> str:
    """A date for an e-mail in the active language: '10 March 2026', '10 maart 2026'."""
    if value is None:
        return ""
    return dateformat.format(value, "j F Y")
