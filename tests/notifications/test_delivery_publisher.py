"""Issue #6: the request that commits outbox rows does not publish deliver_outbox
itself; a thread of the process does, once for a burst, after the commits."""

import threading

import pytest
from django.db import transaction

from notifications import services
from notifications.models import OutboxMessage
from notifications.services import notify


@pytest.fixture
def publishes(monkeypatch):
    """Record publishes (the broker call) instead of sending them, with their thread."""
    seen: list[str] = []
    done = threading.Event()

    def publish():
        seen.append(threading.current_thread().name)
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
    assert seen and threading.current_thread().name not in seen
    assert set(seen) == {"outbox-publisher"}


def test_a_burst_of_commits_is_published_at_least_once_and_at_most_once_each(publishes):
    seen, done = publishes
    for _ in range(50):
        services._enqueue_delivery()
    assert done.wait(5)
    # Requests that arrive while a publish is under way share the next one.
    assert 1 <= len(seen) <= 50
