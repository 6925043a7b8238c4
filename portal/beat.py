"""Beat, single by construction: a lock in Redis around the scheduler.

Every beat process (`celery -A portal beat`, or a worker started with `-B`) runs this
scheduler. Only the holder of the lock `portal:beat-lock` sends due tasks; it renews
the lock on every tick (at most BEAT_LOCK_RENEW_SECONDS apart). Any other beat waits,
trying to take the lock on each of its ticks; a holder that died (kill -9, a lost
machine) stops renewing, the lock expires after BEAT_LOCK_TIMEOUT_SECONDS and the next
beat to try takes over. So beat can run on two machines for failover, and a beat left
behind under init by a killed `-B` worker never doubles the sweeps.

Without Redis (the local demo's filesystem broker, one machine, one beat) there is no
lock to take and the scheduler behaves as Celery's own.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid

from celery.beat import PersistentScheduler
from django.conf import settings

logger = logging.getLogger(__name__)

LOCK_KEY = "portal:beat-lock"

# Renew only while we still hold it (compare the token, then extend), atomically.
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


def lock_timeout() -> float:
    return float(getattr(settings, "BEAT_LOCK_TIMEOUT_SECONDS", 30))


def renew_interval() -> float:
    return max(lock_timeout() / 3, 0.5)


class BeatLock:
    """A Redis lock with a token (host:pid:uuid) so only its holder renews or frees it."""

    def __init__(self, client):
        self.client = client
        self.token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.held = False

    def acquire_or_renew(self) -> bool:
        ttl_ms = int(lock_timeout() * 1000)
        try:
            if self.held and self.client.eval(_RENEW, 1, LOCK_KEY, self.token, ttl_ms):
                return True
            self.held = bool(self.client.set(LOCK_KEY, self.token, nx=True, px=ttl_ms))
        except Exception as exc:  # Redis down: nobody can prove they hold it; send nothing
            logger.warning("beat lock unavailable: %s", exc)
            self.held = False
        return self.held

    def release(self) -> None:
        try:
            self.client.eval(_RELEASE, 1, LOCK_KEY, self.token)
        except Exception:  # the lock expires by itself
            pass
        self.held = False


class LockedScheduler(PersistentScheduler):
    """Celery's persistent scheduler that sends due tasks only while holding the lock."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lock = None
        redis_url = getattr(settings, "REDIS_URL", None)
        if redis_url:
            import redis

            self.lock = BeatLock(redis.Redis.from_url(redis_url, socket_timeout=2))
        self._was_holder = False

    def tick(self, *args, **kwargs):
        if self.lock is None:
            return super().tick(*args, **kwargs)
        holder = self.lock.acquire_or_renew()
        if holder != self._was_holder:
            logger.warning("beat %s the lock (%s)", "took" if holder else "lost", self.lock.token)
            self._was_holder = holder
        if not holder:
            return renew_interval()  # wait, and try again soon
        return min(super().tick(*args, **kwargs), renew_interval())

    def close(self):
        if self.lock is not None and self.lock.held:
            self.lock.release()
        super().close()
