"""Issue #20: the incident stores its work order's customer (incidents.customer_id), and
every writer keeps it right: the create service, save(), raw SQL and queryset updates
(the trigger incidents_incident_set_customer), a work order moved to another customer
(contracts_workorder_move_incidents), and the migration's backfill. The invariant is
checked in SQL over every incident: no row's customer differs from its work order's."""

import pytest
import time_machine
from django.db import connection

from contracts.models import WorkOrder
from incidents.models import Incident
from tests import factories as f
from tests.incidents.support import ams, open_incident, work_order

pytestmark = pytest.mark.django_db

MON_1000 = ams(2026, 3, 9, 10, 0)


def mismatches() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT count(*) FROM incidents_incident i
                 JOIN contracts_workorder w ON w.id = i.work_order_id
                WHERE i.customer_id IS DISTINCT FROM w.customer_id"""
        )
        return cursor.fetchone()[0]


@pytest.fixture
def wo(customer_a, staff):
    return work_order(customer=customer_a, account_manager=staff)


def test_the_create_service_stores_the_work_orders_customer(wo, user_a, customer_a):
    wo_, contact = wo
    with time_machine.travel(MON_1000, tick=False):
        incident = open_incident(wo_, contact, by=user_a)
    assert incident.customer_id == customer_a.pk
    assert Incident.objects.get(pk=incident.pk).customer_id == customer_a.pk
    assert incident.history.get().customer_id == customer_a.pk
    assert mismatches() == 0


def test_the_api_create_stores_the_customer(wo, customer_a, key_a):
    from rest_framework.test import APIClient

    wo_, contact = wo
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer " + "sp_acme_" + "a" * 40)
    with time_machine.travel(MON_1000, tick=True):
        response = client.post(
            "/api/v1/incidents/",
            {"work_order": wo_.pk, "contact": contact.email, "title": "Down", "severity": "normal"},
            format="json",
        )
    assert response.status_code == 201, response.content
    assert Incident.objects.get(pk=response.json()["id"]).customer_id == customer_a.pk


def test_save_takes_the_customer_from_the_work_order(work_order_a, work_order_b, customer_b):
    incident = f.IncidentFactory(work_order=work_order_a)
    assert incident.customer_id == work_order_a.customer_id
    incident.work_order = work_order_b
    incident.contact = f.NamedContactFactory(work_order=work_order_b)
    incident.save()
    assert incident.customer_id == customer_b.pk
    assert mismatches() == 0


def test_raw_sql_and_queryset_writes_cannot_store_another_customer(
    work_order_a, customer_a, customer_b
):
    incident = f.IncidentFactory(work_order=work_order_a)
    # A queryset update naming the wrong customer: the trigger puts the right one back.
    Incident.objects.filter(pk=incident.pk).update(customer_id=customer_b.pk)
    assert Incident.objects.get(pk=incident.pk).customer_id == customer_a.pk
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE incidents_incident SET customer_id = %s WHERE id = %s",
            [customer_b.pk, incident.pk],
        )
        # An INSERT without it (or with another) takes the work order's.
        cursor.execute(
            """INSERT INTO incidents_incident (number, title, description, severity, product,
                   is_cloud, around_the_clock, is_advisory, advisory_minutes, external_reference,
                   language, status, channel, opened_at, target_minutes, target_clock,
                   target_rule, response_due_at, response_warning_at, response_breached,
                   version, created_at, updated_at, work_order_id, contact_id, customer_id)
               SELECT 'INC-RAW001', 'raw', '', 'normal', '', false, false, false, 0, '', 'en',
                   'new', 'web', now(), 60, 'around_the_clock', 'R4', now(), now(), false, 1,
                   now(), now(), work_order_id, contact_id, %s
                 FROM incidents_incident WHERE id = %s""",
            [customer_b.pk, incident.pk],
        )
    assert set(Incident.objects.values_list("customer_id", flat=True)) == {customer_a.pk}
    assert mismatches() == 0


def test_the_updated_at_marker_does_not_move_for_the_stored_customer(work_order_a):
    incident = f.IncidentFactory(work_order=work_order_a)
    before = Incident.objects.get(pk=incident.pk).updated_at
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE incidents_incident SET customer_id = customer_id WHERE id = %s", [incident.pk]
        )
    assert Incident.objects.get(pk=incident.pk).updated_at == before


def test_a_work_order_moved_to_another_customer_takes_its_incidents(
    work_order_a, work_order_b, customer_b
):
    moved = [f.IncidentFactory(work_order=work_order_a) for _ in range(3)]
    stay = f.IncidentFactory(work_order=work_order_b)
    WorkOrder.objects.filter(pk=work_order_a.pk).update(customer=customer_b)
    assert {i.customer_id for i in Incident.objects.filter(pk__in=[m.pk for m in moved])} == {
        customer_b.pk
    }
    assert Incident.objects.get(pk=stay.pk).customer_id == customer_b.pk
    assert mismatches() == 0


def test_the_backfill_fills_every_incident_in_batches(work_order_a, work_order_b, monkeypatch):
    import importlib

    migration = importlib.import_module("incidents.migrations.0011_i20_customer_on_incident")
    rows = [f.IncidentFactory(work_order=w) for w in (work_order_a, work_order_b) * 3]
    with connection.cursor() as cursor:
        # As before the migration: the column empty (the triggers off for the moment).
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE incidents_incident DISABLE TRIGGER USER")
        cursor.execute("ALTER TABLE incidents_incident ALTER COLUMN customer_id DROP NOT NULL")
        cursor.execute("UPDATE incidents_incident SET customer_id = NULL")
        cursor.execute("ALTER TABLE incidents_incident ENABLE TRIGGER USER")
    monkeypatch.setattr(migration, "BATCH", 2)  # several batches over six rows

    class Editor:
        pass

    editor = Editor()
    editor.connection = connection
    migration.backfill(None, editor)
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE incidents_incident ALTER COLUMN customer_id SET NOT NULL")
    assert mismatches() == 0
    assert {i.customer_id for i in Incident.objects.filter(pk__in=[r.pk for r in rows])} == {
        work_order_a.customer_id,
        work_order_b.customer_id,
    }


def test_a_customer_sees_only_incidents_stored_under_their_customer(
    work_order_a, work_order_b, user_a, user_b
):
    mine = f.IncidentFactory(work_order=work_order_a)
    f.IncidentFactory(work_order=work_order_b)
    assert list(Incident.objects.visible_to(user_a)) == [mine]
    assert mine not in Incident.objects.visible_to(user_b)
