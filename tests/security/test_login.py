"""Login brute-force protection (django-axes) and Django's password validators."""

import pytest
from django.conf import settings
from django.test import Client

from tests import factories as f

PASSWORD = "correct horse battery staple"  # tests/factories.py UserFactory


def _login(client, username, password):
    return client.post("/accounts/login/", {"username": username, "password": password})


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.django_db
def test_five_failed_logins_lock_the_account_even_for_the_right_password():
    assert settings.AXES_FAILURE_LIMIT == 5
    user = f.UserFactory(username="victim")
    client = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(4):
        response = _login(client, "victim", "wrong-guess")
        assert response.status_code == 200 and not _signed_in(client)
    # The fifth failure reaches the limit: locked out from here on.
    assert _login(client, "victim", "wrong-guess").status_code == 429
    response = _login(client, "victim", PASSWORD)
    assert response.status_code == 429
    assert not _signed_in(client)
    user.refresh_from_db()
    assert user.last_login is None


@pytest.mark.django_db
def test_a_lockout_does_not_lock_other_users_or_the_same_user_elsewhere():
    f.UserFactory(username="victim")
    f.UserFactory(username="bystander")
    attacker = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(5):
        _login(attacker, "victim", "wrong-guess")
    # Lockout is per (username, IP): the attacker cannot lock the real user out everywhere.
    bystander = Client(REMOTE_ADDR="203.0.113.7")
    assert _login(bystander, "bystander", PASSWORD).status_code == 302 and _signed_in(bystander)
    owner = Client(REMOTE_ADDR="198.51.100.20")
    assert _login(owner, "victim", PASSWORD).status_code == 302 and _signed_in(owner)


@pytest.mark.django_db
def test_fewer_failures_than_the_limit_still_allow_the_right_password():
    f.UserFactory(username="forgetful")
    client = Client(REMOTE_ADDR="203.0.113.8")
    for _ in range(3):
        _login(client, "forgetful", "nope")
    assert _login(client, "forgetful", PASSWORD).status_code == 302 and _signed_in(client)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "weak",
    ["password123", "12345678901", "short1!", "bob@acme.example"],
    ids=["common", "numeric", "too-short", "like-the-email"],
)
def test_a_weak_new_password_is_refused_on_password_change(client_a, user_a, weak):
    response = client_a.post(
        "/accounts/password_change/",
        {"old_password": PASSWORD, "new_password1": weak, "new_password2": weak},
    )
    assert response.status_code == 200  # the form again, with errors
    assert response.context["form"].errors.get("new_password2")
    user_a.refresh_from_db()
    assert user_a.check_password(PASSWORD) and not user_a.check_password(weak)


@pytest.mark.django_db
def test_a_strong_new_password_is_accepted(client_a, user_a):
    strong = "violet-tundra-harbour-58"
    response = client_a.post(
        "/accounts/password_change/",
        {"old_password": PASSWORD, "new_password1": strong, "new_password2": strong},
    )
    assert response.status_code == 302
    user_a.refresh_from_db()
    assert user_a.check_password(strong)


@pytest.mark.django_db
def test_api_keys_are_stored_only_as_hashes(key_a):
    raw = "sp_acme_" + "a" * 40
    key_a.refresh_from_db()
    stored = {field.attname: getattr(key_a, field.attname) for field in key_a._meta.concrete_fields}
    assert raw not in map(str, stored.values())
    assert key_a.key_hash == key_a.hash_key(raw) and len(key_a.key_hash) == 64
