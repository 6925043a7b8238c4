"""The incident page's R7 staff actions (onsite, product team) and the R8 request for
Reactive Support Management, by persona: staff, read-only staff, customer A, customer B."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from incidents.choices import EventKind
from tests import factories as f

pytestmark = pytest.mark.django_db


def _incident(work_order, contact, user, *, package, severity):
    work_order.package = package
    work_order.save(update_fields=["package"])
    return f.open_incident(
        work_order=work_order, contact=contact, title="Orders fail", severity=severity, by=user
    )


@pytest.fixture
def perf_a(work_order_a, contact_a, user_a):
    return _incident(work_order_a, contact_a, user_a, package="performance", severity="critical")


@pytest.fixture
def core_a(work_order_a, contact_a, user_a):
    return _incident(work_order_a, contact_a, user_a, package="core", severity="normal")


@pytest.fixture
def client_reader(client):
    client.force_login(f.StaffFactory(username="reader", role="read_only"))
    return client


def _page(client, incident):
    return client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()


def _later(hours):
    return time_machine.travel(timezone.now() + dt.timedelta(hours=hours), tick=False)


class TestStaffR7Actions:
    def test_staff_see_both_actions_on_a_performance_critical_incident(
        self, client_staff, perf_a
    ):  # R7
        page = _page(client_staff, perf_a)
        assert "Record onsite request" in page and "Escalate to a product team" in page

    def test_staff_do_not_see_them_elsewhere(self, client_staff, core_a):  # R7
        page = _page(client_staff, core_a)
        assert "Record onsite request" not in page and "Escalate to a product team" not in page

    def test_customers_do_not_see_them(self, client_a, perf_a):  # R7
        page = _page(client_a, perf_a)
        assert "Record onsite request" not in page and "Escalate to a product team" not in page

    def test_staff_record_onsite_after_24_hours(self, client_staff, perf_a):  # R7
        url = reverse("incidents:onsite", args=[perf_a.pk])
        with _later(25):
            r = client_staff.post(url, {"agreed_by": "Bob", "note": ""})
            assert r.status_code == 302
            assert perf_a.events.filter(kind=EventKind.ONSITE_REQUEST).count() == 1
            assert "Record onsite request" not in _page(client_staff, perf_a)  # once only
            assert "Onsite resources requested, agreed by Bob (R7)." in _page(client_staff, perf_a)

    def test_onsite_too_early_shows_a_form_error_naming_the_rule(self, client_staff, perf_a):  # R7
        r = client_staff.post(reverse("incidents:onsite", args=[perf_a.pk]), {"agreed_by": "Bob"})
        assert r.status_code == 400
        assert "24 hours after the opening" in r.content.decode() and "(R7)" in r.content.decode()
        assert not perf_a.events.filter(kind=EventKind.ONSITE_REQUEST).exists()

    def test_staff_escalate_to_a_product_team(self, client_staff, perf_a):  # R7
        url = reverse("incidents:product_team", args=[perf_a.pk])
        assert client_staff.post(url, {"team": "Exchange Online"}).status_code == 302
        r = client_staff.post(url, {"team": "Exchange Online"})
        assert r.status_code == 400 and "already escalated" in r.content.decode()
        assert perf_a.events.filter(kind=EventKind.PRODUCT_ESCALATION).count() == 1

    def test_escalation_outside_performance_critical_is_a_form_error(
        self, client_staff, core_a
    ):  # R7
        r = client_staff.post(reverse("incidents:product_team", args=[core_a.pk]), {"team": "X"})
        assert r.status_code == 400 and "(R7)" in r.content.decode()

    def test_read_only_staff_get_403(self, client_reader, perf_a):  # R7
        with _later(25):
            for name, data in (("onsite", {"agreed_by": "Bob"}), ("product_team", {"team": "X"})):
                r = client_reader.post(reverse(f"incidents:{name}", args=[perf_a.pk]), data)
                assert r.status_code == 403
        assert not perf_a.events.filter(
            kind__in=[EventKind.ONSITE_REQUEST, EventKind.PRODUCT_ESCALATION]
        ).exists()

    def test_customers_get_403(self, client_a, perf_a):  # R7
        with _later(25):
            r = client_a.post(reverse("incidents:onsite", args=[perf_a.pk]), {"agreed_by": "Bob"})
            assert r.status_code == 403
            r = client_a.post(reverse("incidents:product_team", args=[perf_a.pk]), {"team": "X"})
            assert r.status_code == 403


class TestRequestRsm:
    def test_the_customer_sees_the_button_on_core_only(self, client_a, core_a, work_order_b):  # R8
        assert "Request Reactive Support Management" in _page(client_a, core_a)

    def test_no_button_on_advanced(self, client_a, work_order_a, contact_a, user_a):  # R8
        incident = f.open_incident(
            work_order=work_order_a, contact=contact_a, title="x", severity="normal", by=user_a
        )
        assert "Request Reactive Support Management" not in _page(client_a, incident)

    def test_the_customer_requests_rsm_once(self, client_a, core_a):  # R8
        url = reverse("incidents:rsm", args=[core_a.pk])
        assert client_a.post(url, {"reason": "Need a coordinator"}).status_code == 302
        assert core_a.events.filter(kind=EventKind.RSM_REQUEST).count() == 1
        page = _page(client_a, core_a)
        assert "Request Reactive Support Management" not in page
        r = client_a.post(url, {"reason": "Again"})
        assert r.status_code == 400 and "already requested" in r.content.decode()

    def test_a_request_on_advanced_is_a_form_error_naming_the_rule(
        self, client_a, work_order_a, contact_a, user_a
    ):  # R8
        incident = f.open_incident(
            work_order=work_order_a, contact=contact_a, title="x", severity="normal", by=user_a
        )
        r = client_a.post(reverse("incidents:rsm", args=[incident.pk]), {"reason": "Please"})
        body = r.content.decode()
        # Plain words for the customer (issue #19): what the rule says, not its number.
        assert r.status_code == 400 and "automatically" in body and "(R8)" not in body

    def test_another_customer_cannot_reach_it(self, client_b, core_a, contact_b):  # R8
        r = client_b.post(reverse("incidents:rsm", args=[core_a.pk]), {"reason": "Please"})
        assert r.status_code == 404
        assert not core_a.events.filter(kind=EventKind.RSM_REQUEST).exists()

    def test_read_only_staff_get_403(self, client_reader, core_a):  # R8
        r = client_reader.post(reverse("incidents:rsm", args=[core_a.pk]), {"reason": "Please"})
        assert r.status_code == 403
        assert "Request Reactive Support Management" not in _page(client_reader, core_a)

    def test_the_page_reads_dutch(self, client_a, core_a, user_a):  # R8
        user_a.language = "nl"
        user_a.save(update_fields=["language"])
        page = _page(client_a, core_a)
        assert "Reactive Support Management aanvragen" in page
