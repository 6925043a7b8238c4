"""incidents.selectors and IncidentFilterSet: scoping, bounded queries, timeline, filters."""

import pytest
import time_machine

from incidents import services as s
from incidents.models import Incident, IncidentEvent
from incidents.selectors import incident_detail, incident_list, incident_timeline
from tests.incidents.support import ams, open_incident, work_order


@pytest.fixture
def both(customer_a, customer_b, staff, user_a, user_b):
    wo_a, contact_a = work_order(customer=customer_a, account_manager=staff)
    wo_b, contact_b = work_order(customer=customer_b, account_manager=staff)
    a = open_incident(wo_a, contact_a, by=user_a, title="Acme outage", external_reference="JIRA-1")
    b = open_incident(wo_b, contact_b, by=user_b, title="Globex question")
    return a, b


class TestScoping:
    def test_a_customer_sees_only_its_own_incidents(self, both, user_a, user_b, staff):
        a, b = both
        assert list(incident_list(actor=user_a)) == [a]
        assert list(incident_list(actor=user_b)) == [b]
        assert set(incident_list(actor=staff)) == {a, b}
        assert list(incident_list(actor=None)) == []

    def test_the_detail_of_another_customers_incident_does_not_exist_for_them(self, both, user_a):
        _, b = both
        with pytest.raises(Incident.DoesNotExist):
            incident_detail(actor=user_a, pk=b.pk)

    def test_the_detail_carries_the_timeline(self, both, user_a, staff):
        a, _ = both
        s.incident_comment(incident=a, body="Looking into it", by=staff)
        detail = incident_detail(actor=user_a, pk=a.pk)
        assert [e.kind for e in detail.timeline] == ["created", "comment"]
        assert [e.kind for e in incident_timeline(incident=a, actor=user_a)] == [
            "created",
            "comment",
        ]

    def test_customers_do_not_see_staff_internal_timeline_entries(self, both, user_a, staff):
        a, _ = both
        IncidentEvent.objects.create(
            incident=a, kind="comment", body="note", data={"internal": True}
        )
        IncidentEvent.objects.create(
            incident=a, kind="comment", body="open", data={"internal": False}
        )
        seen = [e.body for e in incident_detail(actor=user_a, pk=a.pk).timeline]
        assert "note" not in seen and "open" in seen and len(seen) == 2  # created + open
        assert len(incident_detail(actor=staff, pk=a.pk).timeline) == 3
        assert len(incident_timeline(incident=a, actor=user_a)) == 2


def test_the_list_reads_30_incidents_in_bounded_queries(
    customer_a, staff, user_a, django_assert_max_num_queries
):
    wo_, contact = work_order(customer=customer_a, account_manager=staff)
    for n in range(30):
        open_incident(wo_, contact, by=user_a, title=f"Incident {n}")
    with django_assert_max_num_queries(1):
        rows = [
            (
                i.number,
                i.work_order.number,
                i.work_order.customer.name,
                i.contact.name,
                i.work_order.support_location.name,
            )
            for i in incident_list(actor=user_a)
        ]
    assert len(rows) == 30


class TestFilters:
    def test_filters_by_status_severity_reference_customer_breach_and_search(self, both, staff):
        a, b = both
        s.incident_set_status(incident=b, status="in_progress", by=staff)

        def numbers(**params):
            return {i.number for i in incident_list(actor=staff, filters=params)}

        assert numbers(status="in_progress") == {b.number}
        assert numbers(external_reference="JIRA-1") == {a.number}
        assert numbers(customer="globex") == {b.number}
        assert numbers(work_order=str(a.work_order_id)) == {a.number}
        assert numbers(q="outage") == {a.number}
        assert numbers(breached="false") == {a.number, b.number}
        assert numbers(breached="true") == set()
        assert numbers(severity="critical") == set()

    def test_filters_by_opening_range(self, customer_a, staff, user_a):
        wo_, contact = work_order(customer=customer_a, account_manager=staff)
        with time_machine.travel(ams(2026, 3, 2, 10), tick=False):
            early = open_incident(wo_, contact, by=user_a)
        with time_machine.travel(ams(2026, 3, 5, 10), tick=False):
            late = open_incident(wo_, contact, by=user_a)
        after = incident_list(actor=staff, filters={"opened_after": "2026-03-04"})
        before = incident_list(actor=staff, filters={"opened_before": "2026-03-04T00:00:00+01:00"})
        assert list(after) == [late] and list(before) == [early]

    def test_a_customer_filtering_for_another_customer_still_sees_nothing_of_theirs(
        self, both, user_a
    ):
        assert list(incident_list(actor=user_a, filters={"customer": "globex"})) == []


def test_an_invalid_filter_is_a_rule_violation_not_a_silent_full_list(both, staff):
    from core.errors import RuleViolation

    with pytest.raises(RuleViolation) as err:
        incident_list(actor=staff, filters={"status": "exploded"})
    assert err.value.field == "status"
