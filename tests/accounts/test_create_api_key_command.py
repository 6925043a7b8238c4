"""`manage.py create_api_key` prints the new key alone on stdout (API.md)."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import ApiKey


def run(*args):
    out, err = StringIO(), StringIO()
    call_command("create_api_key", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_command_prints_the_key_alone(customer_a):
    out, _err = run("--name", "ServiceNow", "--customer", "acme")
    raw = out.strip()
    assert out == raw + "\n" and "\n" not in raw and " " not in raw
    key = ApiKey.objects.get()
    assert (
        key.key_hash == ApiKey.hash_key(raw)
        and key.customer == customer_a
        and key.name == "ServiceNow"
    )


def test_command_without_customer_makes_a_staff_key(db):
    out, _ = run("--name", "Internal")
    assert ApiKey.objects.get(key_hash=ApiKey.hash_key(out.strip())).customer is None


def test_command_refuses_an_unknown_customer(db):
    with pytest.raises(CommandError, match="No customer with code 'nope'"):
        run("--name", "X", "--customer", "nope")
    assert ApiKey.objects.count() == 0


def test_command_exits_non_zero_with_the_error_on_stderr(db):
    import os
    import subprocess
    import sys

    from django.db import connection

    db = connection.settings_dict
    # The child process reads the test database (empty of customers: the code is unknown).
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    result = subprocess.run(
        [sys.executable, "manage.py", "create_api_key", "--name", "X", "--customer", "nope"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "DATABASE_URL": url},
    )
    assert result.returncode != 0
    assert result.stdout == ""
    assert "No customer with code 'nope'" in result.stderr


def _manage(*args):
    import os
    import subprocess
    import sys

    from django.db import connection

    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "INFO"},
    )


# tests/conftest.py puts the seeded catalogue back after the flush.
@pytest.mark.django_db(transaction=True)
def test_command_line_stdout_is_the_key_alone_even_with_logging():
    from tests import factories as f

    f.CustomerFactory(code="acme")
    result = _manage("create_api_key", "--name", "ServiceNow", "--customer", "acme")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    assert ApiKey.objects.get(key_hash=ApiKey.hash_key(lines[0])).customer.code == "acme"
