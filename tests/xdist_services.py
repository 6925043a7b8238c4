"""Own Redis databases per pytest-xdist worker, set before Django reads its settings.

Loaded with `-p tests.xdist_services` (pyproject's addopts), so it runs before
pytest-django imports the settings. Each xdist worker (gw0, gw1, ...) already gets its
own test database from pytest-django (`test_portal_gw0`, ...); this gives it its own
Redis databases too (gw0 the configured one, gw1 the next, ...), so one worker's `cache.clear()`, throttles, beat lock and Celery
queue never reach the other. Without xdist nothing changes.
"""

import os

_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _worker.startswith("gw"):
    _n = int(_worker[2:])
    for _var, _default in (
        ("REDIS_URL", "redis://127.0.0.1:6379/14"),
        ("WORKER_TEST_BROKER_URL", "redis://127.0.0.1:6379/6"),
    ):
        _base, _db = os.environ.get(_var, _default).rsplit("/", 1)
        os.environ[_var] = f"{_base}/{(int(_db) + _n) % 16}"
