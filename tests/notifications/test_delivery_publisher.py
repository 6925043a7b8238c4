"""Issue #6: the request that commits outbox rows does not publish deliver_outbox
itself; a thread of the process does, once for a burst, after the commits."""

import threading
import time

import pytest
from django.db import transaction

from notifications import services
from notifications.models import OutboxMessage
from tests.factories import notify


@pytest.fixture
def publishes(monkeypatch):
    """Record publishes (the broker call) instead of sending them: (thread, when)."""
    seen: list[tuple[str, float]] = []
    done = threading.Event()

    def publish():
        seen.append((threading.current_thread().name, time.monotonic()))
        done.set()

    monkeypatch.setattr(services, "_publish_delivery", publish)
    return seen, done


def test_the_committing_request_hands_the_publish_to_a_thread(
    db, publishes, django_capture_on_commit_callbacks
):
    seen, done = publishes
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            notify(event="incident.created", key="incident:9:created", emails=["a@x.example"])
    assert OutboxMessage.objects.filter(key__startswith="incident:9:created").count() == 2
    assert done.wait(5), "no delivery run was published"
    assert {thread for thread, _at in seen} == {"outbox-publisher"}


def test_a_burst_of_commits_shares_a_few_publishes_and_the_last_one_follows_it(publishes):
    seen, _done = publishes
    for _ in range(50):
        services._enqueue_delivery()
    last_request = time.monotonic()
    deadline = last_request + 5
    while not any(at >= last_request for _thread, at in seen) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert any(at >= last_request for _thread, at in seen), "the burst's end was not published"
    assert 1 <= len(seen) <= 3
