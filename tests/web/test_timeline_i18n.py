"""The incident timeline in the viewer's language (issue #7): entries written by
services and the deadline sweep are described at display time from kind + data, so a
Dutch page reads Dutch and an English page English, whoever wrote the row."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from incidents import services as s
from incidents.models import IncidentEvent
from incidents.sweep import run_deadline_sweep
from incidents.timeline import describe
from tests.incidents.support import ams, open_incident, work_order

OPENED = ams(2026, 3, 3, 10, 0)  # a Tuesday; Core critical: 1 hour, 24x7


@pytest.fixture
def breached(customer_a, staff, user_a):
    """A Core critical incident lowered to normal (R3), then breached (R4)."""
    wo, contact = work_order(customer=customer_a, package="core", account_manager=staff)
    with time_machine.travel(OPENED, tick=False):
        incident = open_incident(wo, contact, by=user_a, severity="critical")
    with time_machine.travel(OPENED + dt.timedelta(minutes=10), tick=False):
        s.incident_change_severity(
            incident=incident, severity="normal", reason="Workaround in place", by=staff
        )
    with time_machine.travel(ams(2026, 3, 4, 9, 31), tick=False):  # due Wed 09:30
        run_deadline_sweep()
    return incident


def page(client, user, incident, language):
    user.language = language
    user.save(update_fields=["language"])
    response = client.get(reverse("incidents:detail", args=[incident.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_severity_change_and_breach_read_dutch_on_the_dutch_page(
    client_staff, staff, breached
):  # R3, R4
    body = page(client_staff, staff, breached, "nl")
    assert "Probleemniveau gewijzigd van kritiek naar normaal." in body
    assert "De reactietermijn is overschreden (R4)." in body  # staff keep the rule number
    assert "Reactietermijn overschreden: geëscaleerd naar de accountmanager." in body
    assert "75% van de reactietijd is verstreken zonder reactie." in body
    # The English text stored in body by the sweep does not leak onto the Dutch page.
    assert "The response target was breached" not in body
    assert "Severity changed from" not in body
    assert "Workaround in place" in body  # the reason is the staff's own words


def test_severity_change_and_breach_read_english_on_the_english_page(
    client_staff, staff, breached
):  # R3, R4
    body = page(client_staff, staff, breached, "en")
    assert "Severity changed from critical to normal." in body
    assert "The response target was breached (R4)." in body
    assert "Probleemniveau gewijzigd" not in body


def test_the_customer_contact_reads_the_timeline_in_dutch_too(client_a, user_a, breached):
    body = page(client_a, user_a, breached, "nl")
    assert "De reactietermijn is overschreden." in body and "(R4)" not in body  # issue #19


@pytest.mark.django_db
def test_an_old_row_without_data_falls_back_to_its_stored_body(breached):
    old = IncidentEvent.objects.create(
        incident=breached, kind="breach", body="Legacy breach text", data={}
    )
    comment = IncidentEvent.objects.create(
        incident=breached, kind="comment", body="Free text", data={"status_update": False}
    )
    assert describe(old) == "Legacy breach text"
    assert describe(comment) == "Free text"


def test_the_sweeps_entries_name_the_system_in_the_readers_language(
    client_staff, staff, breached
):  # issue #19: "Escalatie · system" on a Dutch page
    assert IncidentEvent.objects.filter(incident=breached, author_label="system").exists()
    dutch = page(client_staff, staff, breached, "nl")
    assert " · systeem · " in dutch
    assert " · system · " not in dutch
    assert " · system · " in page(client_staff, staff, breached, "en")


def test_the_conversation_and_description_carry_the_incidents_language(
    client_staff, staff, breached
):  # R22: people's words are marked as their language, not the page's
    s.incident_comment(incident=breached, body="Logs attached.", by=staff)
    body = page(client_staff, staff, breached, "nl")
    assert f'<div class="body message" lang="{breached.language}">' in body
