"""incidents.services, opening an incident: who files and when (R2), the response
targets (R4-R6, R9) and rapid response."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied

from core.errors import RuleViolation
from incidents.choices import EventKind, IncidentStatus
from incidents.models import Incident, IncidentEvent
from notifications.models import OutboxMessage
from tests import factories as f
from tests.incidents.support import ams, open_incident, work_order

FRI_1600 = ams(2026, 3, 6, 16, 0)  # Friday, CET, no holidays nearby


@pytest.fixture
def wo(customer_a, staff):
    return work_order(customer=customer_a, account_manager=staff)


def nothing_written():
    return (
        Incident.objects.count() == 0
        and IncidentEvent.objects.count() == 0
        and OutboxMessage.objects.count() == 0
    )


# --- R2: who files, when -------------------------------------------------------


class TestOpeningRules:
    def test_a_named_contact_files_an_incident_with_a_number_event_and_notification(
        self, wo, user_a, staff
    ):
        wo_, contact = wo
        with time_machine.travel(FRI_1600, tick=False):
            incident = open_incident(wo_, contact, by=user_a)
        assert incident.number == "INC-" + incident.number[4:] and len(incident.number) == 10
        assert incident.status == IncidentStatus.NEW and incident.opened_at == FRI_1600
        assert list(incident.events.values_list("kind", flat=True)) == [EventKind.CREATED]
        rows = OutboxMessage.objects.filter(event="incident.created")
        assert {r.recipient for r in rows if r.channel == "email"} == {
            staff.email.lower(),
            contact.email,
        }
        assert rows.filter(channel="webhook").count() == 1

    def test_numbers_are_unique_and_increasing(self, wo, user_a):
        wo_, contact = wo
        numbers = [open_incident(wo_, contact, by=user_a).number for _ in range(3)]
        assert len(set(numbers)) == 3
        assert numbers == sorted(numbers)

    def test_an_inactive_contact_cannot_file_and_nothing_is_written(self, wo, user_a):  # R2
        wo_, contact = wo
        contact.active = False
        contact.save()
        with pytest.raises(RuleViolation) as err:
            open_incident(wo_, contact, by=user_a)
        assert err.value.rule == "R2" and err.value.field == "contact"
        assert nothing_written()

    def test_a_contact_of_another_work_order_cannot_file(self, wo, customer_a, user_a):  # R2
        wo_, _ = wo
        _, other_contact = work_order(customer=customer_a)
        with pytest.raises(RuleViolation) as err:
            open_incident(wo_, other_contact, by=user_a)
        assert err.value.field == "contact"
        assert nothing_written()

    def test_an_expired_work_order_takes_no_incidents(self, customer_a, user_a):  # R2
        wo_, contact = work_order(
            customer=customer_a, start_date=dt.date(2025, 1, 1), end_date=dt.date(2025, 12, 31)
        )
        with time_machine.travel(FRI_1600, tick=False), pytest.raises(RuleViolation) as err:
            open_incident(wo_, contact, by=user_a)
        assert err.value.rule == "R2" and err.value.field == "work_order"
        assert nothing_written()

    def test_a_terminated_work_order_takes_no_incidents(self, wo, user_a):  # R2
        wo_, contact = wo
        wo_.terminated_at = ams(2026, 2, 1)
        wo_.save()
        with time_machine.travel(FRI_1600, tick=False), pytest.raises(RuleViolation) as err:
            open_incident(wo_, contact, by=user_a)
        assert err.value.field == "work_order"
        assert nothing_written()

    def test_a_work_order_whose_term_has_not_started_takes_no_incidents(
        self, customer_a, user_a
    ):  # R2: the term must cover today
        wo_, contact = work_order(
            customer=customer_a, start_date=dt.date(2026, 3, 7), end_date=dt.date(2027, 3, 6)
        )
        with time_machine.travel(FRI_1600, tick=False), pytest.raises(RuleViolation) as err:
            open_incident(wo_, contact, by=user_a)
        assert err.value.rule == "R2" and err.value.field == "work_order"
        assert "draft" in err.value.message
        assert nothing_written()

    @pytest.mark.parametrize("channel", ["phone", "import"])
    def test_a_customer_cannot_file_a_phone_or_imported_incident(
        self, wo, user_a, channel
    ):  # R2: staff enter those
        wo_, contact = wo
        with pytest.raises(RuleViolation) as err:
            open_incident(wo_, contact, by=user_a, channel=channel)
        assert err.value.rule == "R2" and err.value.field == "channel"
        assert nothing_written()

    def test_the_term_is_judged_on_the_locations_local_date(self, customer_a, user_a):  # R2
        # 23:30 UTC on 31 Dec is already 1 Jan in Amsterdam: the term starting 1 Jan covers it.
        wo_, contact = work_order(
            customer=customer_a, start_date=dt.date(2027, 1, 1), end_date=dt.date(2027, 12, 31)
        )
        with time_machine.travel(dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC), tick=False):
            incident = open_incident(wo_, contact, by=user_a)
        assert incident.pk

    def test_staff_may_not_backdate_into_the_future(self, wo, staff):  # R2
        wo_, contact = wo
        with time_machine.travel(FRI_1600, tick=False), pytest.raises(RuleViolation) as err:
            open_incident(
                wo_,
                contact,
                by=staff,
                opened_at=FRI_1600 + dt.timedelta(minutes=1),
                channel="phone",
            )
        assert err.value.field == "opened_at"
        assert nothing_written()

    def test_a_customer_cannot_set_opened_at(self, wo, user_a):  # R2
        wo_, contact = wo
        with time_machine.travel(FRI_1600, tick=False), pytest.raises(RuleViolation) as err:
            open_incident(wo_, contact, by=user_a, opened_at=FRI_1600 - dt.timedelta(hours=1))
        assert err.value.field == "opened_at"
        assert nothing_written()

    def test_a_customer_cannot_file_for_another_customers_work_order(self, wo, user_b):
        wo_, contact = wo
        with pytest.raises(PermissionDenied):
            open_incident(wo_, contact, by=user_b)
        assert nothing_written()

    def test_staff_enter_a_phone_incident_afterwards_and_the_target_runs_from_then(self, wo, staff):
        wo_, contact = wo
        with time_machine.travel(ams(2026, 3, 9, 10, 0), tick=False):
            incident = open_incident(wo_, contact, by=staff, opened_at=FRI_1600, channel="phone")
        assert incident.channel == "phone" and incident.opened_by == staff
        assert incident.response_due_at == ams(2026, 3, 9, 11, 30)

    def test_the_webhook_payload_writes_utc_times_with_z_and_a_live_breach(
        self, wo, staff
    ):  # API.md: timestamps in UTC with Z; response_breached once the due time passed
        wo_, contact = wo
        with time_machine.travel(ams(2026, 3, 9, 15, 0), tick=False):
            incident = open_incident(wo_, contact, by=staff, opened_at=FRI_1600, channel="phone")
        hook = OutboxMessage.objects.get(event="incident.created", channel="webhook")
        assert hook.payload["data"]["id"] == incident.pk
        assert hook.payload["data"]["opened_at"] == "2026-03-06T15:00:00Z"
        assert hook.payload["data"]["response_due_at"] == "2026-03-09T10:30:00Z"
        # Due Monday 11:30 CET, entered at 16:00: breached already, before any sweep.
        assert hook.payload["data"]["response_breached"] is True and not incident.response_breached

    def test_a_backdated_api_incident_is_recorded_as_imported(self, wo, staff):
        wo_, contact = wo
        with time_machine.travel(ams(2026, 3, 9, 10, 0), tick=False):
            incident = open_incident(wo_, contact, by=staff, opened_at=FRI_1600, channel="api")
        assert incident.channel == "import"


# --- the work order and contact named by id and e-mail (the API's form) ---------------


class TestNamedByIdAndEmail:
    def test_a_work_order_id_and_a_contact_email_in_any_case_file_the_incident(
        self, wo, user_a
    ):  # R2
        wo_, contact = wo
        incident = open_incident(wo_.pk, contact.email.upper(), by=user_a)
        assert incident.contact == contact and incident.work_order == wo_

    def test_another_customers_work_order_id_reads_like_an_unknown_one(
        self, wo, user_b
    ):  # R2: B never learns that A's work order exists
        wo_, contact = wo
        with pytest.raises(RuleViolation) as theirs:
            open_incident(wo_.pk, contact.email, by=user_b)
        with pytest.raises(RuleViolation) as unknown:
            open_incident(10**9, contact.email, by=user_b)
        assert theirs.value.field == unknown.value.field == "work_order"
        assert theirs.value.message == f"There is no work order {wo_.pk}."
        assert unknown.value.message == f"There is no work order {10**9}."
        assert nothing_written()

    def test_the_email_of_a_contact_on_another_work_order_is_refused(
        self, wo, customer_a, user_a
    ):  # R2
        wo_, _ = wo
        _, other_contact = work_order(customer=customer_a)
        with pytest.raises(RuleViolation) as err:
            open_incident(wo_.pk, other_contact.email, by=user_a)
        assert err.value.rule == "R2" and err.value.field == "contact"
        assert nothing_written()

    def test_the_opening_read_keeps_each_customer_to_its_own_contacts(
        self, contact_a, contact_b, user_a, user_b, staff
    ):  # R2: the one door
        from django.contrib.auth.models import AnonymousUser

        from incidents.services.rows import opening_reads

        def found(by, work_order, email):
            contact = opening_reads(by, work_order, email).contact
            return contact.pk if contact else None

        a, b = contact_a.work_order_id, contact_b.work_order_id
        assert found(user_a, a, contact_a.email.upper()) == contact_a.pk
        assert found(user_b, b, contact_b.email) == contact_b.pk
        assert found(user_b, a, contact_a.email) is None
        assert found(user_a, b, contact_b.email) is None
        assert found(staff, a, contact_a.email) == contact_a.pk
        assert found(staff, b, contact_b.email) == contact_b.pk
        assert found(AnonymousUser(), a, contact_a.email) is None

    def test_the_opening_read_brings_the_rows_the_opening_needs_in_one_query(
        self, contact_a, user_a, django_assert_num_queries
    ):  # R2, R4, R5: work order, customer, location and account manager, number and id
        from incidents.services.rows import opening_reads

        with django_assert_num_queries(1):
            reads = opening_reads(user_a, contact_a.work_order_id, contact_a.email)
            wo_ = reads.contact.work_order
            seen = (wo_.customer.code, wo_.account_manager_id and wo_.account_manager.email)
            seen += (wo_.support_location.timezone if wo_.support_location_id else None,)
        assert seen[0] == "acme"
        assert reads.number.startswith("INC-") and reads.incident_id > 0
        assert reads.targets_version is not None
        again = opening_reads(user_a, contact_a.work_order_id, contact_a.email)
        assert again.incident_id > reads.incident_id and again.number > reads.number


# --- R4/R5/R6: the targets ---------------------------------------------------------


class TestTargets:
    @pytest.mark.parametrize(
        ("package", "severity", "opened", "due", "rule"),
        [
            # R4/R5: Fri 16:00-17:30 counts 1.5 h, the rest from Monday 09:00.
            (
                "advanced",
                "normal",
                FRI_1600,
                ams(2026, 3, 9, 11, 30),
                "R4 Advanced normal: 4 business hours",
            ),
            (
                "performance",
                "normal",
                FRI_1600,
                ams(2026, 3, 9, 11, 30),
                "R4 Performance normal: 4 business hours",
            ),
            (
                "core",
                "normal",
                FRI_1600,
                ams(2026, 3, 9, 15, 30),
                "R4 Core normal: 8 business hours",
            ),
            # Critical runs 24x7 (R6): real time, through the night and weekend.
            (
                "core",
                "critical",
                ams(2026, 3, 6, 22, 0),
                ams(2026, 3, 6, 23, 0),
                "R4 Core critical: 1 hour 24x7",
            ),
            (
                "advanced",
                "critical",
                ams(2026, 3, 7, 23, 30),
                ams(2026, 3, 8, 0, 30),
                "R4 Advanced critical: 1 hour 24x7",
            ),
            (
                "performance",
                "critical",
                ams(2026, 3, 6, 22, 0),
                ams(2026, 3, 6, 22, 30),
                "R4 Performance critical: 30 minutes 24x7",
            ),
        ],
    )
    def test_each_package_and_severity_gets_its_due_time(
        self, customer_a, staff, user_a, package, severity, opened, due, rule
    ):  # R4
        wo_, contact = work_order(customer=customer_a, package=package, account_manager=staff)
        with time_machine.travel(opened, tick=False):
            incident = open_incident(wo_, contact, by=user_a, severity=severity)
        assert incident.response_due_at == due
        assert incident.target_rule == rule
        assert incident.target is not None and incident.target_minutes == incident.target.minutes

    def test_the_warning_is_at_75_percent_on_the_same_clock(self, wo, user_a):
        wo_, contact = wo
        with time_machine.travel(FRI_1600, tick=False):
            incident = open_incident(wo_, contact, by=user_a)
        # 3 business hours: 1.5 on Friday, 1.5 on Monday.
        assert incident.response_warning_at == ams(2026, 3, 9, 10, 30)

    def test_a_location_holiday_moves_the_deadline(self, wo, user_a):  # R5
        wo_, contact = wo
        f.ClosureDayFactory(
            location=wo_.support_location, date=dt.date(2026, 3, 9), name="Company holiday"
        )
        with time_machine.travel(FRI_1600, tick=False):
            incident = open_incident(wo_, contact, by=user_a)
        assert incident.response_due_at == ams(2026, 3, 10, 11, 30)

    def test_an_extra_closure_day_moves_it_further(self, wo, user_a):  # R5
        wo_, contact = wo
        f.ClosureDayFactory(
            location=wo_.support_location,
            date=dt.date(2026, 3, 9),
            name="Holiday",
            source="public_holiday",
        )
        f.ClosureDayFactory(
            location=wo_.support_location, date=dt.date(2026, 3, 10), name="Move day"
        )
        with time_machine.travel(FRI_1600, tick=False):
            incident = open_incident(wo_, contact, by=user_a)
        assert incident.response_due_at == ams(2026, 3, 11, 11, 30)

    def test_a_reopened_holiday_counts_again(self, wo, user_a):  # R5: is_closed=False
        wo_, contact = wo
        f.ClosureDayFactory(
            location=wo_.support_location, date=dt.date(2026, 3, 9), name="Holiday", is_closed=False
        )
        with time_machine.travel(FRI_1600, tick=False):
            incident = open_incident(wo_, contact, by=user_a)
        assert incident.response_due_at == ams(2026, 3, 9, 11, 30)

    def test_daylight_saving_does_not_shift_the_deadline(self, wo, user_a):  # R5
        wo_, contact = wo
        # Clocks go forward on Sunday 29 March 2026; Monday is still 09:00 + 2.5 h.
        with time_machine.travel(ams(2026, 3, 27, 16, 0), tick=False):
            incident = open_incident(wo_, contact, by=user_a)
        assert incident.response_due_at == ams(2026, 3, 30, 11, 30)

    def test_location_hours_that_differ_are_used(self, customer_a, user_a):  # R5
        location = f.SupportLocationFactory(
            customer=customer_a, opens_at=dt.time(8), closes_at=dt.time(12), weekdays="0,1,2,3,4,5"
        )
        wo_, contact = work_order(customer=customer_a, support_location=location)
        with time_machine.travel(FRI_1600, tick=False):
            incident = open_incident(wo_, contact, by=user_a)
        assert incident.response_due_at == ams(2026, 3, 7, 12, 0)  # Saturday 08:00-12:00

    def test_without_a_location_the_standard_week_and_the_countrys_holidays_apply(
        self, customer_a, user_a
    ):  # R5
        wo_, contact = work_order(customer=customer_a, location=False)
        # Thu 2 April 2026 16:00: Good Friday and Easter Monday are Dutch public holidays.
        with time_machine.travel(ams(2026, 4, 2, 16, 0), tick=False):
            incident = open_incident(wo_, contact, by=user_a)
        assert incident.response_due_at == ams(2026, 4, 7, 11, 30)

    def test_a_normal_incident_with_24x7_effort_runs_on_the_24x7_clock(self, wo, user_a):  # R6
        wo_, contact = wo
        with time_machine.travel(FRI_1600, tick=False):
            incident = open_incident(wo_, contact, by=user_a, around_the_clock=True)
        assert incident.target_clock == "24x7"
        assert incident.response_due_at == ams(2026, 3, 6, 20, 0)
        assert incident.target_rule == "R4 Advanced normal: 4 hours 24x7 (R6 24x7 effort)"


class TestRapidResponse:
    @pytest.fixture
    def rr(self, customer_a, staff):
        wo_, contact = work_order(
            customer=customer_a, account_manager=staff, deployment_docs_on_file=True
        )
        f.WorkOrderLineFactory(work_order=wo_, service=f.service("rapid-response"), quantity=1)
        return wo_, contact

    def test_all_conditions_give_15_minutes_24x7(self, rr, user_a):  # R9
        wo_, contact = rr
        with time_machine.travel(FRI_1600, tick=False):
            incident = open_incident(
                wo_,
                contact,
                by=user_a,
                severity="critical",
                is_cloud=True,
                product="Azure SQL Database",
            )
        assert incident.response_due_at == FRI_1600 + dt.timedelta(minutes=15)
        assert incident.target_rule == "R9 Rapid Response: 15 minutes 24x7"
        assert incident.target.rapid_response

    @pytest.mark.parametrize(
        ("change", "kwargs"),
        [
            ("normal severity", {"severity": "normal", "is_cloud": True}),
            ("not a cloud incident", {"severity": "critical", "is_cloud": False}),
            (
                "excluded product, any case",
                {"severity": "critical", "is_cloud": True, "product": "azure  STACK"},
            ),
        ],
    )
    def test_it_does_not_apply_when_a_condition_fails(self, rr, user_a, change, kwargs):  # R9
        wo_, contact = rr
        with time_machine.travel(FRI_1600, tick=False):
            incident = open_incident(wo_, contact, by=user_a, **kwargs)
        assert not incident.target_rule.startswith("R9"), change

    @pytest.mark.parametrize(
        "product",
        [
            "Azure Media Services",
            "Azure Stack",
            "Azure StorSimple",
            "GitHub AE",
            "Azure Communication Services",
            "Billing & Subscription Management",
        ],
    )
    def test_it_does_not_cover_the_excluded_products(self, rr, user_a, product):  # R9
        wo_, contact = rr
        with time_machine.travel(FRI_1600, tick=False):
            incident = open_incident(
                wo_, contact, by=user_a, severity="critical", is_cloud=True, product=product
            )
        assert incident.target_rule == "R4 Advanced critical: 1 hour 24x7"
        assert incident.response_due_at == FRI_1600 + dt.timedelta(hours=1)

    def test_an_expired_add_on_no_longer_applies(self, rr, user_a):  # R9, R14
        wo_, contact = rr
        wo_.lines.filter(service__code="rapid-response").update(expired_at=FRI_1600)
        incident = open_incident(wo_, contact, by=user_a, severity="critical", is_cloud=True)
        assert incident.target_minutes == 60 and not incident.target.rapid_response

    def test_it_needs_the_add_on(self, customer_a, user_a):  # R9
        wo_, contact = work_order(customer=customer_a, deployment_docs_on_file=True)
        incident = open_incident(wo_, contact, by=user_a, severity="critical", is_cloud=True)
        assert incident.target_minutes == 60

    def test_it_needs_the_deployment_documentation(self, rr, user_a):  # R9
        wo_, contact = rr
        wo_.deployment_docs_on_file = False
        wo_.save()
        incident = open_incident(wo_, contact, by=user_a, severity="critical", is_cloud=True)
        assert incident.target_minutes == 60
