"""Two beats, one broker (#22): beat is single by construction (portal/beat.py).

Two real `celery -A portal beat` processes against one Redis: only the lock's holder
sends the sweep, once per interval; after `kill -9` of the holder the other takes
over within the lock's timeout. The measured takeover time is printed (-s to see it).
"""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from portal.beat import LOCK_KEY

CELERY = str(Path(sys.executable).with_name("celery"))
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
LOCK_TIMEOUT = 4
INTERVAL = 1


def sends(log: Path) -> int:
    return len(re.findall(r"Sending due task deadline-sweep", log.read_text(errors="replace")))


def wait_for(predicate, timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if predicate():
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError("timed out")


@pytest.fixture
def beats(tmp_path):
    client = redis.Redis.from_url(REDIS_URL)
    client.delete(LOCK_KEY)
    env = {
        **os.environ,
        "REDIS_URL": REDIS_URL,
        "BEAT_LOCK_TIMEOUT_SECONDS": str(LOCK_TIMEOUT),
        "SWEEP_INTERVAL_SECONDS": str(INTERVAL),
    }
    procs = []

    def start(name: str) -> Path:
        log = tmp_path / f"{name}.log"
        procs.append(
            subprocess.Popen(
                [
                    CELERY,
                    "-A",
                    "portal",
                    "beat",
                    "--loglevel=INFO",
                    "--schedule",
                    str(tmp_path / f"{name}-schedule"),
                ],
                env=env,
                stdout=log.open("w"),
                stderr=subprocess.STDOUT,
                cwd=Path(__file__).resolve().parents[2],
            )
        )
        return log

    start.procs = procs
    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    client.delete(LOCK_KEY)
    client.delete("celery")  # the tasks the beats published: no worker reads db's queue here


def test_two_beats_send_each_sweep_once_and_the_second_takes_over_after_a_kill(beats):
    log_a = beats("a")
    wait_for(lambda: "took the lock" in log_a.read_text(errors="replace"), 30)
    log_b = beats("b")
    wait_for(lambda: "beat: Starting" in log_b.read_text(errors="replace"), 30)
    time.sleep(6)
    a_sent, b_sent = sends(log_a), sends(log_b)
    assert a_sent >= 3  # about one per interval
    assert b_sent == 0  # the second beat waits
    holder = beats.procs[0]
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    killed = time.monotonic()
    wait_for(lambda: sends(log_b) > 0, LOCK_TIMEOUT + 10)
    takeover = time.monotonic() - killed
    print(f"beat takeover after kill -9: {takeover:.1f} s (lock timeout {LOCK_TIMEOUT} s)")
    assert takeover <= LOCK_TIMEOUT + 2 * INTERVAL + 1
    # From then on, one beat only: about one sweep per interval.
    before = sends(log_b)
    time.sleep(4)
    assert 2 <= sends(log_b) - before <= 5
