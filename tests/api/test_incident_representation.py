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
