"""API keys: only a hash is stored, a revoked key is refused (API.md)."""

import pytest
from rest_framework import exceptions
from rest_framework.test import APIRequestFactory

from accounts.authentication import ApiKeyActor, ApiKeyAuthentication
from accounts.models import ApiKey
from accounts.services import api_key_create, api_key_revoke
from core.errors import RuleViolation


def authenticate(raw):
    request = APIRequestFactory().get("/api/v1/services/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    return ApiKeyAuthentication().authenticate(request)


def test_api_key_stores_only_the_hash(customer_a, staff):
    key, raw = api_key_create(name="ServiceNow", customer=customer_a, by=staff)
    assert raw.startswith("sp_") and len(raw) > 40
    key.refresh_from_db()
    stored = [str(getattr(key, f.attname)) for f in ApiKey._meta.concrete_fields]
    assert raw not in stored
    assert key.key_hash == ApiKey.hash_key(raw)
    assert key.prefix == raw[:8] and key.created_by == staff and key.customer == customer_a


def test_created_key_authenticates_as_its_customer(customer_a):
    key, raw = api_key_create(name="Jira", customer=customer_a)
    actor, auth_key = authenticate(raw)
    assert isinstance(actor, ApiKeyActor)
    assert auth_key == key and actor.customer_id == customer_a.pk and not actor.is_staff


def test_key_without_customer_acts_as_staff(db):
    _key, raw = api_key_create(name="Internal")
    actor, _ = authenticate(raw)
    assert actor.is_staff and actor.customer_id is None


def test_revoked_key_is_rejected(customer_a, staff):
    key, raw = api_key_create(name="Old tool", customer=customer_a, by=staff)
    api_key_revoke(key=key, by=staff)
    first_revocation = key.revoked_at
    assert first_revocation is not None
    with pytest.raises(exceptions.AuthenticationFailed):
        authenticate(raw)
    # Revoking again keeps the first timestamp.
    api_key_revoke(key=key, by=staff)
    assert key.revoked_at == first_revocation


def test_revoked_key_gets_401_from_the_api(key_a, api_a, staff):
    api_key_revoke(key=key_a, by=staff)
    response = api_a.get("/api/v1/services/")
    assert response.status_code == 401


def test_api_key_needs_a_name(db):
    with pytest.raises(RuleViolation):
        api_key_create(name="  ")
    assert ApiKey.objects.count() == 0
