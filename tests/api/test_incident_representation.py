"""Issue #6: IncidentSerializer writes its fields out directly (no per-request deep copy
of twenty fields); its output must stay exactly DRF's generic output for those fields."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from rest_framework import serializers

from incidents.api.serializers import IncidentSerializer
from incidents.models import Incident
from incidents.services import incident_respond
from tests.incidents.support import open_incident, work_order


def generic(incident: Incident) -> dict:
    """What DRF's Serializer.to_representation makes of the declared fields."""
    return dict(serializers.Serializer.to_representation(IncidentSerializer(), incident))


@pytest.fixture
def incident(customer_a, staff, user_a):
    wo, contact = work_order(customer=customer_a, account_manager=staff)
    return open_incident(wo, contact, by=user_a, external_reference="TICKET-1")


@pytest.mark.parametrize("zone", [dt.UTC, ZoneInfo("Europe/Amsterdam")])
def test_the_lean_incident_shape_equals_drfs_generic_output(incident, staff, zone):  # R2, R4
    with timezone.override(zone):
        fresh = Incident.objects.select_related("contact").get(pk=incident.pk)
        assert fresh.responded_at is None
        assert IncidentSerializer(fresh).data == generic(fresh)
        assert list(IncidentSerializer(fresh).data) == list(IncidentSerializer().fields)

        incident_respond(incident=fresh, by=staff)
        responded = Incident.objects.select_related("contact").get(pk=incident.pk)
        assert responded.responded_at is not None
        assert IncidentSerializer(responded).data == generic(responded)


def test_the_api_writes_utc_times_with_z(incident):
    with timezone.override(dt.UTC):
        data = IncidentSerializer(Incident.objects.get(pk=incident.pk)).data
    assert data["opened_at"].endswith("Z") and data["response_due_at"].endswith("Z")
    assert data["responded_at"] is None


# --- the contact lookup of IncidentCreateSerializer ------------------------------------


def test_the_contact_lookup_keeps_each_customer_to_its_own_contacts(
    contact_a, contact_b, user_a, user_b, staff
):  # R2: B never reaches A's contact
    from django.contrib.auth.models import AnonymousUser

    from incidents.api.serializers import scoped_contact

    a, b = contact_a.work_order_id, contact_b.work_order_id
    for _ in range(2):
        assert scoped_contact(user_a, a, contact_a.email.upper()).pk == contact_a.pk
        assert scoped_contact(user_b, b, contact_b.email).pk == contact_b.pk
        assert scoped_contact(user_b, a, contact_a.email) is None
        assert scoped_contact(user_a, b, contact_b.email) is None
        assert scoped_contact(staff, a, contact_a.email).pk == contact_a.pk
        assert scoped_contact(staff, b, contact_b.email).pk == contact_b.pk
        assert scoped_contact(AnonymousUser(), a, contact_a.email) is None
        assert scoped_contact(None, a, contact_a.email) is None


def test_the_contact_lookup_returns_the_related_rows_incident_open_reads(
    contact_a, user_a, django_assert_num_queries
):  # R2, R4, R5: work order, customer, location and account manager in one query
    from incidents.api.serializers import _contact_queryset, scoped_contact

    with django_assert_num_queries(1):
        found = scoped_contact(user_a, contact_a.work_order_id, contact_a.email)
        wo = found.work_order
        seen = (wo.customer.code, wo.account_manager_id and wo.account_manager.email)
        seen += (wo.support_location.timezone if wo.support_location_id else None,)
    plain = _contact_queryset(user_a, contact_a.work_order_id, contact_a.email).get()
    assert [getattr(found, f.attname) for f in found._meta.concrete_fields] == [
        getattr(plain, f.attname) for f in plain._meta.concrete_fields
    ]
    assert [getattr(wo, f.attname) for f in wo._meta.concrete_fields] == [
        getattr(plain.work_order, f.attname) for f in wo._meta.concrete_fields
    ]
    assert seen[0] == "acme"
