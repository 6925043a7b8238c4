"""The Redis cache degrades to misses while Redis is down instead of failing requests."""

import socket
import time

import pytest

from core.cache import ResilientRedisCache


def _dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"redis://127.0.0.1:{s.getsockname()[1]}/0"


def _cache(url: str) -> ResilientRedisCache:
    return ResilientRedisCache(
        url, {"OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}}
    )


def test_a_dead_redis_reads_as_a_miss_and_writes_are_dropped_quickly():
    cache = _cache(_dead_url())
    started = time.monotonic()
    assert cache.get("throttle:key", []) == []
    cache.set("k", 1)
    assert cache.add("k", 1) is False
    assert cache.get_many(["a", "b"]) == {}
    assert cache.delete("k") is False
    with pytest.raises(ValueError):
        cache.incr("counter")
    for _ in range(100):  # after a failure, calls skip Redis for a moment: no timeout each
        cache.get("x")
    assert time.monotonic() - started < 3


def test_a_live_redis_is_used_normally(settings):
    url = settings.REDIS_URL
    assert url, "tests run with REDIS_URL (scripts/test)"
    cache = _cache(url)
    cache.set("portal-ops-test-key", 41, 30)
    assert cache.incr("portal-ops-test-key") == 42
    assert cache.get("portal-ops-test-key") == 42
    cache.delete("portal-ops-test-key")
