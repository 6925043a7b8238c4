"""The language an incident is handled in (R22), and Rapid Response being English only
(R9): incident_open, the target choice, its explanation and the filing preview."""

import datetime as dt

import pytest
import time_machine
from django.utils import translation

from core.errors import RuleViolation
from incidents import targets
from incidents.models import Incident, IncidentEvent
from incidents.selectors import incident_explain, incident_preview_target
from incidents.services import incident_change_severity
from notifications.models import OutboxMessage
from tests import factories as f
from tests.incidents.support import ams, open_incident, work_order

FRI_1600 = ams(2026, 3, 6, 16, 0)  # Friday, CET
ENGLISH_ONLY = (
    "Rapid Response (R9) is delivered in English only; this incident is handled in Dutch."
)


@pytest.fixture
def rr(customer_a, staff):
    """A work order holding Rapid Response, with the deployment documentation on file."""
    wo_, contact = work_order(
        customer=customer_a, account_manager=staff, deployment_docs_on_file=True
    )
    f.WorkOrderLineFactory(work_order=wo_, service=f.service("rapid-response"), quantity=1)
    return wo_, contact


def critical_cloud(wo_, contact, by, **kwargs):
    with time_machine.travel(FRI_1600, tick=False):
        return open_incident(
            wo_,
            contact,
            by=by,
            severity="critical",
            is_cloud=True,
            product="Azure SQL Database",
            **kwargs,
        )


# --- R22: the language is recorded -------------------------------------------------


def test_an_incident_is_handled_in_english_unless_asked_otherwise(rr, user_a):  # R22
    wo_, contact = rr
    incident = open_incident(wo_, contact, by=user_a)
    assert incident.language == "en"
    assert Incident.objects.get(pk=incident.pk).language == "en"


def test_a_dutch_incident_keeps_its_language_in_the_row_history_and_webhook(rr, user_a):  # R22
    wo_, contact = rr
    incident = open_incident(wo_, contact, by=user_a, language="nl")
    assert Incident.objects.get(pk=incident.pk).language == "nl"
    assert incident.history.get().language == "nl"
    webhook = OutboxMessage.objects.get(key=f"incident:{incident.pk}:created:webhook")
    assert webhook.payload["data"]["language"] == "nl"


@pytest.mark.parametrize("language", ["de", "EN", "", "english"])
def test_an_unknown_language_is_refused_naming_r22_and_nothing_is_written(
    rr, user_a, language
):  # R22
    wo_, contact = rr
    with pytest.raises(RuleViolation) as refused:
        open_incident(wo_, contact, by=user_a, language=language)
    assert refused.value.rule == "R22" and refused.value.field == "language"
    assert "R22" in refused.value.message
    assert not Incident.objects.exists()
    assert not IncidentEvent.objects.exists()
    assert not OutboxMessage.objects.exists()


# --- R9: Rapid Response is English only ----------------------------------------------


def test_an_english_critical_cloud_incident_gets_rapid_response(rr, user_a):  # R9, R22
    wo_, contact = rr
    incident = critical_cloud(wo_, contact, user_a, language="en")
    assert incident.target.rapid_response
    assert incident.target_rule == "R9 Rapid Response: 15 minutes 24x7"
    assert incident.response_due_at == FRI_1600 + dt.timedelta(minutes=15)


def test_a_dutch_critical_cloud_incident_gets_the_package_target_and_says_why(
    rr, user_a
):  # R9, R22
    wo_, contact = rr
    incident = critical_cloud(wo_, contact, user_a, language="nl")
    assert not incident.target.rapid_response
    assert incident.target_rule == "R4 Advanced critical: 1 hour 24x7"
    assert incident.response_due_at == FRI_1600 + dt.timedelta(hours=1)
    why = incident_explain(incident)
    assert ENGLISH_ONLY in why["sentences"]
    assert why["rapid_response"] is False


def test_the_english_only_reason_reads_in_the_readers_language(rr, user_a):  # R9
    wo_, contact = rr
    incident = critical_cloud(wo_, contact, user_a, language="nl")
    with translation.override("nl"):
        why = incident_explain(incident)
    assert (
        "Rapid Response (R9) wordt alleen in het Engels geleverd; dit incident wordt in het "
        "Nederlands behandeld." in why["sentences"]
    )


def test_severity_and_cloud_are_checked_before_the_language(rr):  # R9
    wo_, _ = rr
    applies, why = targets.rapid_response_check(
        work_order=wo_, severity="critical", is_cloud=False, product="", language="nl"
    )
    assert not applies and why == "Rapid Response (R9) covers cloud incidents only."


def test_a_dutch_incident_needs_no_read_of_the_add_on(
    rr, django_assert_num_queries
):  # R9, issue #6
    wo_, _ = rr
    with django_assert_num_queries(0):
        applies, why = targets.rapid_response_check(
            work_order=wo_, severity="critical", is_cloud=True, product="", language="nl"
        )
    assert not applies and why == ENGLISH_ONLY


def test_turning_a_dutch_incident_critical_keeps_it_off_rapid_response(rr, user_a, staff):  # R3, R9
    wo_, contact = rr
    with time_machine.travel(FRI_1600, tick=False):
        incident = open_incident(
            wo_, contact, by=user_a, is_cloud=True, product="Azure SQL Database", language="nl"
        )
        incident_change_severity(
            incident=incident, severity="critical", reason="Production down", by=staff
        )
    incident.refresh_from_db()
    assert incident.target_rule == "R4 Advanced critical: 1 hour 24x7"
    assert not incident.target.rapid_response


def test_the_preview_follows_the_chosen_language(rr):  # R9, R22
    wo_, _ = rr
    common = dict(
        work_order=wo_,
        severity="critical",
        is_cloud=True,
        product="Azure SQL Database",
        opened_at=FRI_1600,
    )
    english = incident_preview_target(**common)
    dutch = incident_preview_target(**common, language="nl")
    assert english["rapid_response"] and english["rule"].startswith("R9")
    assert not dutch["rapid_response"] and dutch["rule"] == "R4 Advanced critical: 1 hour 24x7"
    assert ENGLISH_ONLY in dutch["sentences"]
