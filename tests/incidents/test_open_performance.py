"""Issue #6: opening an incident is cheap and stays so. Query counts of incident_open and
of POST /api/v1/incidents/, and the freshness of the per-process caches they read the
target table (R4) and the location's calendar (R5) through (incidents.caches)."""

import datetime as dt

import pytest
import time_machine
from django.db import transaction
from django.db.models import F
from django.db.models.signals import post_save

from contracts.models import ClosureDay, SupportLocation
from incidents import caches
from incidents.deadlines import next_deadline
from incidents.models import Incident, ResponseTarget
from tests import factories as f
from tests.incidents.support import ams, open_incident, work_order

FRI_1600 = ams(2026, 3, 6, 16, 0)  # Friday, CET; 4 business hours -> Monday 11:30
MON_0900 = ams(2026, 3, 9, 9, 0)

# incident_open once the target table and the calendar are cached: one read (the scoped
# contact with its work order, customer, location and account manager, the incident's
# number and id, the target table's version), then one round trip of four INSERTs (the
# incident, its audit-history row, its `created` timeline event, its outbox rows).
OPEN_QUERIES = 2
# Inside a test the service's transaction is a savepoint: SAVEPOINT and RELEASE.
SAVEPOINT_QUERIES = 2


@pytest.fixture(autouse=True)
def fresh_caches():
    # Some tests below stand in for another process's committed edit, which the test's
    # rollback then undoes: forget whatever they left cached.
    caches.clear()
    yield
    caches.clear()


@pytest.fixture
def wo(customer_a, staff):
    return work_order(customer=customer_a, account_manager=staff)


def advanced_normal() -> ResponseTarget:
    return ResponseTarget.objects.get(package="advanced", severity="normal", rapid_response=False)


# --- query counts -----------------------------------------------------------------


def test_opening_an_incident_takes_two_round_trips_once_the_tables_are_cached(
    wo, user_a, django_assert_max_num_queries
):  # R2, R4, R5
    wo_, contact = wo
    open_incident(wo_, contact, by=user_a)  # fills the caches
    with django_assert_max_num_queries(OPEN_QUERIES + SAVEPOINT_QUERIES) as captured:
        incident = open_incident(wo_, contact, by=user_a)
    statements = [q["sql"] for q in captured.captured_queries]
    assert [s.split()[0] for s in statements] == ["SAVEPOINT", "SELECT", "INSERT", "RELEASE"]
    tables = [part.split()[0].strip('"') for part in statements[2].split("INSERT INTO ")[1:]]
    assert tables == [
        "incidents_incident",
        "incidents_historicalincident",
        "incidents_incidentevent",
        "notifications_outboxmessage",
    ]
    assert incident.next_deadline_at == incident.response_warning_at


def test_the_api_creates_an_incident_in_three_round_trips(
    api_a, key_a, work_order_a, django_assert_max_num_queries
):  # R2
    contact = f.NamedContactFactory(work_order=work_order_a, email="desk@acme.example")
    body = {
        "work_order": work_order_a.pk,
        "contact": contact.email,
        "title": "Mail flow stopped",
        "severity": "normal",
    }
    # Warms the caches and the key's last_used_at (touched once a minute).
    assert api_a.post("/api/v1/incidents/", body, format="json").status_code == 201
    # The key, then incident_open (which looks up the contact itself).
    with django_assert_max_num_queries(1 + OPEN_QUERIES + SAVEPOINT_QUERIES):
        response = api_a.post("/api/v1/incidents/", body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["contact"] == "desk@acme.example"


def test_an_opened_incident_carries_its_next_deadline_from_the_insert(wo, user_a):  # R7, R8
    wo_, contact = wo
    with time_machine.travel(FRI_1600, tick=False):
        normal = open_incident(wo_, contact, by=user_a)
        critical = open_incident(wo_, contact, by=user_a, severity="critical")
    for incident in (normal, critical):
        stored = Incident.objects.get(pk=incident.pk)
        assert stored.next_deadline_at == next_deadline(stored) == incident.next_deadline_at
        # The audit-history row of the creation has it too (no later UPDATE).
        assert stored.history.earliest().next_deadline_at == stored.next_deadline_at
    assert normal.next_deadline_at == normal.response_warning_at


# --- the target table's cache (R4) ------------------------------------------------


def test_a_saved_target_row_applies_to_the_next_incident(wo, user_a):  # R4
    wo_, contact = wo
    with time_machine.travel(FRI_1600, tick=False):
        assert open_incident(wo_, contact, by=user_a).target_minutes == 240
        row = advanced_normal()
        row.minutes = 120
        row.save()
        incident = open_incident(wo_, contact, by=user_a)
    assert incident.target_minutes == 120
    assert incident.response_due_at == ams(2026, 3, 9, 9, 30)


def test_a_target_edit_made_by_another_process_applies_to_the_next_incident(wo, user_a):  # R4
    wo_, contact = wo
    with time_machine.travel(FRI_1600, tick=False):
        open_incident(wo_, contact, by=user_a)
        # A write that skips history and signals is not seen (the cache is real) ...
        ResponseTarget.objects.filter(pk=advanced_normal().pk).update(minutes=120)
        assert open_incident(wo_, contact, by=user_a).target_minutes == 240
        # ... an edit saved by another process is: its signals never reach this one,
        # its history row (the table's version) does.
        post_save.disconnect(sender=ResponseTarget, dispatch_uid="incidents.caches.target_saved")
        try:
            row = advanced_normal()
            row.minutes = 60
            row.save()
        finally:
            post_save.connect(
                caches._target_changed,
                sender=ResponseTarget,
                dispatch_uid="incidents.caches.target_saved",
            )
        assert open_incident(wo_, contact, by=user_a).target_minutes == 60


def test_a_target_edit_rolled_back_is_never_served_from_the_cache(wo, user_a):  # R4
    wo_, contact = wo
    with time_machine.travel(FRI_1600, tick=False):
        open_incident(wo_, contact, by=user_a)
        with pytest.raises(RuntimeError), transaction.atomic():
            row = advanced_normal()
            row.minutes = 120
            row.save()
            assert open_incident(wo_, contact, by=user_a).target_minutes == 120
            raise RuntimeError("roll back the edit")
        assert open_incident(wo_, contact, by=user_a).target_minutes == 240


# --- the calendar's cache (R5) ----------------------------------------------------


def test_a_closure_day_set_through_contracts_moves_the_next_deadline(wo, user_a, staff):  # R5
    from contracts.services import closure_day_set

    wo_, contact = wo
    with time_machine.travel(FRI_1600, tick=False):
        assert open_incident(wo_, contact, by=user_a).response_due_at == ams(2026, 3, 9, 11, 30)
        closure_day_set(location=wo_.support_location, date=dt.date(2026, 3, 9), by=staff)
        wo_.support_location.refresh_from_db()
        incident = open_incident(wo_, contact, by=user_a)
    assert incident.response_due_at == ams(2026, 3, 10, 11, 30)


def test_a_closure_day_committed_by_another_process_applies_with_its_calendar_version(
    wo, user_a
):  # R5
    wo_, contact = wo
    location = wo_.support_location
    with time_machine.travel(FRI_1600, tick=False):
        open_incident(wo_, contact, by=user_a)
        # Another process's closure day: no signal in this one.
        ClosureDay.objects.bulk_create(
            [ClosureDay(location=location, date=dt.date(2026, 3, 9), name="Moving day")]
        )
        assert open_incident(wo_, contact, by=user_a).response_due_at == ams(
            2026, 3, 9, 11, 30
        )  # cached: that process has not bumped the version yet
        SupportLocation.objects.filter(pk=location.pk).update(
            calendar_version=F("calendar_version") + 1
        )
        location.refresh_from_db()  # what the next request reads with the work order
        incident = open_incident(wo_, contact, by=user_a)
    assert incident.response_due_at == ams(2026, 3, 10, 11, 30)


def test_a_closure_day_added_in_this_process_applies_at_once(wo, user_a):  # R5
    wo_, contact = wo
    with time_machine.travel(FRI_1600, tick=False):
        open_incident(wo_, contact, by=user_a)
        f.ClosureDayFactory(location=wo_.support_location, date=dt.date(2026, 3, 9))
        incident = open_incident(wo_, contact, by=user_a)
    assert incident.response_due_at == ams(2026, 3, 10, 11, 30)
