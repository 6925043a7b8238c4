"""incidents.services: R7 onsite resources and rapid escalation to product teams
(Performance critical), R8 Reactive Support Management on request (Core)."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied

from core.errors import Conflict, RuleViolation
from incidents import services as s
from incidents.choices import EventKind
from incidents.models import IncidentEvent
from notifications.choices import Urgency
from notifications.models import OutboxMessage
from tests import factories as f
from tests.incidents.support import ams, open_incident, work_order

OPENED = ams(2026, 3, 6, 16, 0)  # Friday, CET
DAY_LATER = OPENED + dt.timedelta(hours=24)
SAT_1000 = ams(2026, 3, 7, 10, 0)


def _open(customer, staff, user, *, package="performance", severity="critical"):
    wo, contact = work_order(customer=customer, package=package, account_manager=staff)
    with time_machine.travel(OPENED, tick=False):
        incident = open_incident(wo, contact, by=user, severity=severity)
    return incident


def _writes(incident):
    return (
        IncidentEvent.objects.filter(incident=incident).count(),
        OutboxMessage.objects.count(),
    )


@pytest.fixture
def perf(customer_a, staff, user_a):
    return _open(customer_a, staff, user_a)


@pytest.fixture
def core(customer_a, staff, user_a):
    return _open(customer_a, staff, user_a, package="core", severity="normal")


class TestOnsite:
    def test_staff_request_onsite_24_hours_after_opening_with_agreement(self, perf, staff):  # R7
        with time_machine.travel(DAY_LATER, tick=False):
            event = s.incident_request_onsite(
                incident=perf, agreed_by="Dana (IT lead)", note="Datacentre visit", by=staff
            )
        assert event.kind == EventKind.ONSITE_REQUEST
        assert event.data == {"agreed_by": "Dana (IT lead)", "note": "Datacentre visit"}
        assert event.author == staff

    def test_it_refuses_onsite_before_24_hours_and_says_when(self, perf, staff):  # R7
        before = _writes(perf)
        with time_machine.travel(DAY_LATER - dt.timedelta(minutes=1), tick=False):
            with pytest.raises(RuleViolation) as exc:
                s.incident_request_onsite(incident=perf, agreed_by="Dana", by=staff)
        assert exc.value.rule == "R7"
        assert "7 March 2026 16:00" in exc.value.message
        assert _writes(perf) == before

    def test_it_refuses_onsite_without_who_agreed(self, perf, staff):  # R7
        before = _writes(perf)
        with time_machine.travel(DAY_LATER, tick=False):
            with pytest.raises(RuleViolation) as exc:
                s.incident_request_onsite(incident=perf, agreed_by="  ", by=staff)
        assert exc.value.rule == "R7" and exc.value.field == "agreed_by"
        assert _writes(perf) == before

    @pytest.mark.parametrize(
        "package,severity",
        [("advanced", "critical"), ("core", "critical"), ("performance", "normal")],
    )
    def test_it_refuses_onsite_outside_performance_critical(
        self, customer_a, staff, user_a, package, severity
    ):  # R7
        incident = _open(customer_a, staff, user_a, package=package, severity=severity)
        before = _writes(incident)
        with time_machine.travel(DAY_LATER, tick=False):
            with pytest.raises(RuleViolation) as exc:
                s.incident_request_onsite(incident=incident, agreed_by="Dana", by=staff)
        assert exc.value.rule == "R7"
        assert _writes(incident) == before

    def test_it_refuses_onsite_on_a_closed_incident(self, perf, staff):  # R7
        with time_machine.travel(DAY_LATER, tick=False):
            s.incident_set_status(incident=perf, status="closed", by=staff)
            before = _writes(perf)
            with pytest.raises(RuleViolation):
                s.incident_request_onsite(incident=perf, agreed_by="Dana", by=staff)
        assert _writes(perf) == before

    def test_onsite_is_requested_once(self, perf, staff):  # R7
        with time_machine.travel(DAY_LATER, tick=False):
            s.incident_request_onsite(incident=perf, agreed_by="Dana", by=staff)
            before = _writes(perf)
            with pytest.raises(Conflict) as exc:
                s.incident_request_onsite(incident=perf, agreed_by="Dana", by=staff)
        assert exc.value.rule == "R7"
        assert _writes(perf) == before

    def test_customers_and_read_only_staff_cannot_request_onsite(self, perf, user_a):  # R7
        reader = f.StaffFactory(username="reader", role="read_only")
        with time_machine.travel(DAY_LATER, tick=False):
            for actor in (user_a, reader):
                with pytest.raises(PermissionDenied):
                    s.incident_request_onsite(incident=perf, agreed_by="Dana", by=actor)
        assert not perf.events.filter(kind=EventKind.ONSITE_REQUEST).exists()


class TestProductTeam:
    def test_staff_escalate_to_product_teams_and_notify_manager_and_contact(
        self, perf, staff
    ):  # R7
        perf.refresh_from_db()
        first = s.incident_escalate_to_product_team(
            incident=perf, team="Exchange Online", note="Mail queue stuck", by=staff
        )
        second = s.incident_escalate_to_product_team(incident=perf, team="Entra ID", by=staff)
        assert first.kind == second.kind == EventKind.PRODUCT_ESCALATION
        assert first.data["team"] == "Exchange Online" and second.data["team"] == "Entra ID"
        mails = OutboxMessage.objects.filter(
            key__startswith=f"incident:{perf.pk}:product_escalation:", channel="email"
        )
        assert {m.recipient for m in mails} == {staff.email.lower(), perf.contact.email.lower()}
        assert mails.count() == 4  # two escalations, each to both: one key per event
        body = mails.filter(key__contains=f":{first.pk}:").first().body
        assert "Exchange Online" in body and "R7" in body

    def test_the_same_team_twice_is_refused(self, perf, staff):  # R7
        s.incident_escalate_to_product_team(incident=perf, team="Exchange Online", by=staff)
        before = _writes(perf)
        with pytest.raises(Conflict) as exc:
            s.incident_escalate_to_product_team(incident=perf, team="exchange online", by=staff)
        assert exc.value.rule == "R7"
        assert _writes(perf) == before

    @pytest.mark.parametrize(
        "package,severity",
        [("advanced", "critical"), ("core", "critical"), ("performance", "normal")],
    )
    def test_it_refuses_escalation_outside_performance_critical(
        self, customer_a, staff, user_a, package, severity
    ):  # R7
        incident = _open(customer_a, staff, user_a, package=package, severity=severity)
        before = _writes(incident)
        with pytest.raises(RuleViolation) as exc:
            s.incident_escalate_to_product_team(incident=incident, team="Exchange", by=staff)
        assert exc.value.rule == "R7"
        assert _writes(incident) == before

    def test_it_refuses_escalation_without_a_team(self, perf, staff):  # R7
        before = _writes(perf)
        with pytest.raises(RuleViolation) as exc:
            s.incident_escalate_to_product_team(incident=perf, team="", by=staff)
        assert exc.value.field == "team"
        assert _writes(perf) == before

    def test_customers_cannot_escalate_to_product_teams(self, perf, user_a):  # R7
        with pytest.raises(PermissionDenied):
            s.incident_escalate_to_product_team(incident=perf, team="Exchange", by=user_a)


class TestReactiveSupportManagement:
    def test_the_contact_requests_rsm_and_the_manager_is_told_in_business_hours(
        self, core, user_a, staff
    ):  # R8
        with time_machine.travel(SAT_1000, tick=False):
            event = s.incident_request_rsm(incident=core, reason="Need a coordinator", by=user_a)
        assert event.kind == EventKind.RSM_REQUEST and event.from_customer
        assert event.data == {"reason": "Need a coordinator"}
        mails = OutboxMessage.objects.filter(key__startswith=f"incident:{core.pk}:rsm_request:")
        assert [m.recipient for m in mails] == [staff.email.lower()]  # no webhook
        mail = mails.get()
        assert mail.urgency == Urgency.BUSINESS_HOURS
        # Saturday morning waits for the manager's Monday opening.
        assert mail.deliver_after > SAT_1000 + dt.timedelta(hours=40)
        assert "Need a coordinator" in mail.body

    def test_staff_request_rsm_for_the_customer(self, core, staff):  # R8
        event = s.incident_request_rsm(incident=core, reason="Asked by phone", by=staff)
        assert event.kind == EventKind.RSM_REQUEST and not event.from_customer

    @pytest.mark.parametrize("package", ["advanced", "performance"])
    def test_it_refuses_rsm_on_advanced_and_performance_saying_it_is_automatic(
        self, customer_a, staff, user_a, package
    ):  # R8
        incident = _open(customer_a, staff, user_a, package=package, severity="normal")
        before = _writes(incident)
        with pytest.raises(RuleViolation) as exc:
            s.incident_request_rsm(incident=incident, reason="Please", by=user_a)
        assert exc.value.rule == "R8" and "automatically" in exc.value.message
        assert _writes(incident) == before

    def test_rsm_is_requested_once(self, core, user_a):  # R8
        s.incident_request_rsm(incident=core, reason="Please", by=user_a)
        before = _writes(core)
        with pytest.raises(Conflict) as exc:
            s.incident_request_rsm(incident=core, reason="Again", by=user_a)
        assert exc.value.rule == "R8"
        assert _writes(core) == before

    def test_it_refuses_rsm_without_a_reason_or_on_a_closed_incident(
        self, core, user_a, staff
    ):  # R8
        before = _writes(core)
        with pytest.raises(RuleViolation) as exc:
            s.incident_request_rsm(incident=core, reason=" ", by=user_a)
        assert exc.value.field == "reason"
        assert _writes(core) == before
        s.incident_set_status(incident=core, status="closed", by=staff)
        before = _writes(core)
        with pytest.raises(RuleViolation):
            s.incident_request_rsm(incident=core, reason="Please", by=user_a)
        assert _writes(core) == before

    def test_another_customer_and_read_only_staff_cannot_request_rsm(self, core, user_b):  # R8
        reader = f.StaffFactory(username="reader", role="read_only")
        for actor in (user_b, reader):
            with pytest.raises(PermissionDenied):
                s.incident_request_rsm(incident=core, reason="Please", by=actor)
        assert not core.events.filter(kind=EventKind.RSM_REQUEST).exists()
