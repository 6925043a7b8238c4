"""Writes for accounts: API keys for ticketing tools."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import ApiKey
from core.actors import author
from core.errors import RuleViolation


@transaction.atomic
def api_key_create(*, name: str, customer=None, by=None) -> tuple[ApiKey, str]:
    """Make a key; returns it with the raw key, which is shown once and never stored."""
    name = (name or "").strip()
    if not name:
        raise RuleViolation(_("An API key needs a name."), field="name")
    if len(name) > ApiKey._meta.get_field("name").max_length:
        raise RuleViolation(_("The name is too long (at most 100 characters)."), field="name")
    raw = ApiKey.generate_raw_key()
    key = ApiKey.objects.create(
        name=name,
        customer=customer,
        key_hash=ApiKey.hash_key(raw),
        prefix=raw[:8],
        created_by=author(by),
    )
    return key, raw


@transaction.atomic
def api_key_revoke(*, key: ApiKey, by=None) -> ApiKey:
    """Revoke a key at once, and with it the webhook subscriptions it made (they stop
    receiving: the delivery checks the key again before each send). Revoking a revoked
    key changes nothing."""
    # Conditional UPDATE: the first revocation's timestamp is the one kept.
    ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    # Through the reverse relation: accounts does not import notifications.
    key.webhooks.filter(active=True).update(active=False)
    key.refresh_from_db(fields=["revoked_at"])
    return key
