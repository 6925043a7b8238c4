"""A Redis cache that degrades instead of failing while Redis is down.

The cache only accelerates (API throttling, small lookups): the database is the
source of truth. When Redis stops, a read is a miss and a write is dropped, with a
warning, so the web keeps answering; the socket timeouts in settings keep a hung
Redis from stalling requests. Throttling fails open for that time: a brief loss of
rate limiting is better than refusing every request.
"""

import logging
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, ConnectionError, TimeoutError, OSError)
#: After a failure, skip Redis for this many seconds instead of paying a timeout per call.
BACKOFF_SECONDS = 2.0


class ResilientRedisCache(RedisCache):
    _down_until = 0.0

    def _guard(self, method, default, *args, **kwargs):
        if time.monotonic() < self._down_until:
            return default
        try:
            return method(*args, **kwargs)
        except UNAVAILABLE as exc:
            self._down_until = time.monotonic() + BACKOFF_SECONDS
            logger.warning("cache unavailable, degrading: %s", exc.__class__.__name__)
            return default

    def get(self, key, default=None, version=None):
        return self._guard(super().get, default, key, default, version)

    def get_many(self, keys, version=None):
        return self._guard(super().get_many, {}, keys, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guard(super().set, None, key, value, timeout, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guard(super().set_many, list(data), data, timeout, version)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guard(super().add, False, key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guard(super().touch, False, key, timeout, version)

    def delete(self, key, version=None):
        return self._guard(super().delete, False, key, version)

    def delete_many(self, keys, version=None):
        return self._guard(super().delete_many, None, keys, version)

    def has_key(self, key, version=None):
        return self._guard(super().has_key, False, key, version)

    def incr(self, key, delta=1, version=None):
        # A miss raises ValueError like an absent key, which callers already handle.
        result = self._guard(super().incr, None, key, delta, version)
        if result is None:
            raise ValueError(f"Key '{key}' not found (cache unavailable)")
        return result

    def clear(self):
        return self._guard(super().clear, False)
