"""Overlapping deadline sweeps (two workers, or a slow run overlapping the next beat
tick) never record or notify anything twice: SKIP LOCKED claims plus the unique
DeadlineEvent key. Real threads, real transactions."""

import datetime as dt
import threading

import pytest
import time_machine
from django.db import connection

from incidents.models import DeadlineEvent
from incidents.sweep import run_deadline_sweep
from notifications.models import OutboxMessage
from tests import factories as f

T0 = dt.datetime(2026, 3, 3, 9, 0, tzinfo=dt.UTC)


@pytest.mark.django_db(transaction=True)  # keep the seeded catalogue for later tests
def test_two_concurrent_sweeps_never_double_record(staff, customer_a):
    wo = f.WorkOrderFactory(customer=customer_a, account_manager=staff)
    contact = f.NamedContactFactory(work_order=wo)
    incidents = [
        f.IncidentFactory(
            work_order=wo,
            contact=contact,
            opened_at=T0,
            response_warning_at=T0 + dt.timedelta(hours=3),
            response_due_at=T0 + dt.timedelta(hours=4),
            next_deadline_at=T0 + dt.timedelta(hours=3),
        )
        for _ in range(60)
    ]
    results, errors = [], []
    barrier = threading.Barrier(2)

    def sweep():
        try:
            with time_machine.travel(T0 + dt.timedelta(hours=5), tick=False):
                barrier.wait()
                # Small batches so the two runs interleave over many claims.
                results.append(run_deadline_sweep(batch_size=7))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert DeadlineEvent.objects.count() == 2 * len(incidents)
    assert sum(r.events for r in results) == 2 * len(incidents)
    assert sum(r.incidents for r in results) == len(incidents)
    # Per incident: warning + breach to the account manager, contact and webhook, and
    # the breach escalation to the account manager: 7 rows, each once.
    assert OutboxMessage.objects.count() == 7 * len(incidents)
    assert sum(r.failed for r in results) == 0
