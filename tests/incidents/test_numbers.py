"""Incident numbers: INC-000123, unique even when many are opened at once."""

import threading

import pytest
from django.db import connection

from accounts.authentication import ApiKeyActor
from incidents.models import Incident
from tests import factories as f
from tests.incidents.support import open_incident, work_order


@pytest.mark.django_db(transaction=True)
def test_concurrent_openings_get_distinct_numbers():
    customer = f.CustomerFactory(code="acme")
    staff = f.StaffFactory()
    wo, contact = work_order(customer=customer, account_manager=staff)
    barrier, errors = threading.Barrier(6), []

    def file_some():
        try:
            barrier.wait()
            for _ in range(5):
                open_incident(wo, contact, by=staff)
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=file_some) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    numbers = list(Incident.objects.values_list("number", flat=True))
    assert len(numbers) == len(set(numbers)) == 30
    assert all(n.startswith("INC-") and len(n) == 10 and n[4:].isdigit() for n in numbers)


def test_a_customer_api_key_files_and_is_named_on_the_timeline(customer_a, staff, key_a):  # R2
    wo, contact = work_order(customer=customer_a, account_manager=staff)
    incident = open_incident(wo, contact, by=ApiKeyActor(key_a), channel="api")
    event = incident.events.get()
    assert incident.channel == "api" and incident.opened_by is None
    assert event.author_label == "API key acme-tool" and event.from_customer
