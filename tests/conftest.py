"""Personas in one place (healthchecks' alice/bob/charlie):

- `staff`: an account manager (vendor staff)
- `customer_a` / `customer_b`: two customers, each with an active Advanced work order
  (`work_order_a` / `work_order_b`), a named contact with a login (`contact_a` /
  `contact_b`, users `user_a` / `user_b`)
- `key_staff`, `key_a`, `key_b`: API keys (raw key in `.raw`)
- `client_staff`, `client_a`, `client_b`: logged-in Django test clients
- `api_staff`, `api_a`, `api_b`, `api_anon`: DRF API clients with the keys' bearer headers
"""

import datetime as dt
import os

import pytest
import time_machine
from rest_framework.test import APIClient

from tests import factories as f


def pytest_configure(config):
    # CI and the README's test command run on PostgreSQL; refuse to silently run elsewhere.
    from django.conf import settings

    # Password hashing is deliberately slow; tests need it fast, not strong.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    if os.environ.get("PORTAL_REQUIRE_POSTGRES") == "1":
        engine = settings.DATABASES["default"]["ENGINE"]
        if not engine.endswith("postgresql"):
            raise pytest.UsageError(
                f"PORTAL_REQUIRE_POSTGRES=1 but the database engine is {engine}"
            )


# --- "today" on both sides of midnight (#22) ------------------------------------------------
# A test marked `@pytest.mark.midnight` runs once per moment below: at 23:58 and 00:02 UTC
# (the last day of a month and the first of the next), with every factory location (and
# BUSINESS_TIME_ZONE) in Amsterdam (already the next day at 23:58 UTC), Los Angeles (still
# the day before at 00:02 UTC) or Tokyo (the next day at both). A date rule that asks the
# active zone, the server's clock or UTC instead of contracts.times.work_order_today
# fails in at least one of them. Only rule-level tests are marked: six runs each.
MIDNIGHT_INSTANTS = ("2026-06-30T23:58:00+00:00", "2026-07-01T00:02:00+00:00")
MIDNIGHT_ZONES = ("Europe/Amsterdam", "America/Los_Angeles", "Asia/Tokyo")
MIDNIGHT_MOMENTS = [(i, z) for i in MIDNIGHT_INSTANTS for z in MIDNIGHT_ZONES]


def pytest_generate_tests(metafunc):
    if metafunc.definition.get_closest_marker("midnight") is not None:
        if "midnight" not in metafunc.fixturenames:
            metafunc.fixturenames.append("midnight")
        metafunc.parametrize(
            "midnight",
            MIDNIGHT_MOMENTS,
            ids=[f"{z.split('/')[-1]}@{i[11:16]}Z" for i, z in MIDNIGHT_MOMENTS],
            indirect=True,
        )


@pytest.fixture
def midnight(request, settings):
    """(instant, zone) of a `midnight`-marked test: the clock is moved there (and ticks
    on), BUSINESS_TIME_ZONE and so every factory location's zone set to the zone."""
    instant, zone = request.param
    settings.BUSINESS_TIME_ZONE = zone
    with time_machine.travel(dt.datetime.fromisoformat(instant), tick=True):
        yield instant, zone


@pytest.fixture(autouse=True)
def _midnight_first(request):
    # Before any other fixture: work orders and dates made by fixtures belong to the moment.
    if request.node.get_closest_marker("midnight") is not None:
        request.getfixturevalue("midnight")


@pytest.fixture
def staff(db):
    return f.StaffFactory(username="alice", first_name="Alice", last_name="Manager")


@pytest.fixture
def customer_a(db):
    return f.CustomerFactory(code="acme", name="Acme BV")


@pytest.fixture
def customer_b(db):
    return f.CustomerFactory(code="globex", name="Globex NV")


@pytest.fixture
def work_order_a(customer_a, staff):
    return f.WorkOrderFactory(
        number="WO-A-1", customer=customer_a, package="advanced", account_manager=staff
    )


@pytest.fixture
def work_order_b(customer_b, staff):
    return f.WorkOrderFactory(
        number="WO-B-1", customer=customer_b, package="advanced", account_manager=staff
    )


@pytest.fixture
def user_a(customer_a):
    return f.UserFactory(username="bob", customer=customer_a, email="bob@acme.example")


@pytest.fixture
def user_b(customer_b):
    return f.UserFactory(username="charlie", customer=customer_b, email="charlie@globex.example")


@pytest.fixture
def contact_a(work_order_a, user_a):
    return f.NamedContactFactory(
        work_order=work_order_a, user=user_a, name="Bob", email=user_a.email, is_lead=True
    )


@pytest.fixture
def contact_b(work_order_b, user_b):
    return f.NamedContactFactory(
        work_order=work_order_b, user=user_b, name="Charlie", email=user_b.email, is_lead=True
    )


@pytest.fixture
def key_staff(staff):
    return f.ApiKeyFactory(name="staff-tool", raw="sp_staff_" + "s" * 40, created_by=staff)


@pytest.fixture
def key_a(customer_a, staff):
    return f.ApiKeyFactory(
        name="acme-tool", raw="sp_acme_" + "a" * 40, customer=customer_a, created_by=staff
    )


@pytest.fixture
def key_b(customer_b, staff):
    return f.ApiKeyFactory(
        name="globex-tool", raw="sp_globex_" + "b" * 40, customer=customer_b, created_by=staff
    )


def _api(raw: str | None) -> APIClient:
    client = APIClient()
    if raw:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def api_staff(key_staff):
    return _api("sp_staff_" + "s" * 40)


@pytest.fixture
def api_a(key_a):
    return _api("sp_acme_" + "a" * 40)


@pytest.fixture
def api_b(key_b):
    return _api("sp_globex_" + "b" * 40)


@pytest.fixture
def api_anon(db):
    return _api(None)


@pytest.fixture
def client_staff(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def client_a(db, user_a):
    from django.test import Client

    c = Client()
    c.force_login(user_a)
    return c


@pytest.fixture
def client_b(db, user_b):
    from django.test import Client

    c = Client()
    c.force_login(user_b)
    return c


@pytest.fixture(autouse=True)
def _reference_data(request):
    """Keeps the migration-seeded catalogue and response targets in place.

    A transactional test (`transaction=True`) ends with a TRUNCATE of every table,
    which also wipes the rows the data migrations seeded; the tests after it would
    then see an empty catalogue. Re-seed them (idempotently) for every database test.
    """
    uses_db = request.node.get_closest_marker("django_db") or {"db", "transactional_db"} & set(
        request.fixturenames
    )
    if not uses_db:
        return
    request.getfixturevalue("_django_db_helper")
    import importlib

    from incidents.models import ResponseTarget
    from services.models import Service

    if not Service.objects.exists():
        from services.seed_catalogue import catalogue_rows

        Service.objects.bulk_create([Service(**row) for row in catalogue_rows()])
    if not ResponseTarget.objects.exists():
        targets = importlib.import_module("incidents.migrations.0002_seed_response_targets").TARGETS
        ResponseTarget.objects.bulk_create(
            [
                ResponseTarget(package=p, severity=s, rapid_response=r, minutes=m, clock=c, note=n)
                for p, s, r, m, c, n in targets
            ]
        )
    # bulk_create writes no history row and sends no signal, so incident_open's per-process
    # copy of the target table (incidents.caches, keyed by the history) could still hold the
    # rows a flush removed: start every database test from the table itself.
    from incidents import caches

    caches.clear()


@pytest.fixture(autouse=True)
def _english_by_default():
    """Every test starts in English, the portal's default language (issue #7).

    A request through the test client leaves its language active on the thread (the
    user's preference, or Accept-Language): without this, a Dutch page in one test
    would turn the next test's rule messages Dutch.
    """
    from django.utils import translation

    translation.activate("en")
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _attachments_in_tmp(request, tmp_path_factory):
    """Incident attachments (issue #17) go to a temporary folder, never the work tree."""
    from django.conf import settings
    from django.core.files.storage import storages

    folder = tmp_path_factory.mktemp("attachments")
    old = settings.STORAGES
    settings.STORAGES = {
        **old,
        "attachments": {
            "BACKEND": "incidents.storage.PrivateFileSystemStorage",
            "OPTIONS": {"location": str(folder)},
        },
    }
    storages._storages = {}
    storages.__dict__.pop("backends", None)
    yield folder
    settings.STORAGES = old
    storages._storages = {}
    storages.__dict__.pop("backends", None)


@pytest.fixture
def beat_ticking(db):
    """A beat tick just now: /healthz counts a beat silent past its allowance as an
    error (issue #14), and a test database is minutes old by the time a test runs."""
    from django.utils import timezone

    from notifications.selectors import BEAT_JOB

    return f.SweepRunFactory(job=BEAT_JOB, started_at=timezone.now())


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache: throttles (API rates, the password-reset
    limit of issue #22) count per client in it, and every test client is 127.0.0.1."""
    from django.core.cache import cache

    cache.clear()
