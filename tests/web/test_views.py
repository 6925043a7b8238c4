"""Web pages by persona: staff, customer A, customer B, anonymous (login redirect).

Customer B must get a 404 for anything of customer A's; list pages have bounded
query counts.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from contracts import services as contract_services
from contracts.models import NamedContact, WorkOrder
from credits import services as credit_services
from tests import factories as f


@pytest.fixture
def incident_a(work_order_a, contact_a, user_a):
    return f.open_incident(
        work_order=work_order_a, contact=contact_a, title="Mail is down", by=user_a
    )


@pytest.fixture
def credits_a(work_order_a, staff):
    line = contract_services.work_order_line_add(
        work_order=work_order_a, service=f.service("proactive-credits"), quantity=100, by=staff
    )
    f.RateFactory(service=f.service("workshops"), credits_per_unit=Decimal("10"))
    return line


def a_pages(work_order_a, incident_a):
    return [
        reverse("work_order_overview", args=[work_order_a.pk]),
        reverse("incidents:detail", args=[incident_a.pk]),
        reverse("credits:redeem", args=[work_order_a.pk]),
    ]


STAFF_PAGES = [
    "home",
    "contracts:customer_list",
    "contracts:customer_create",
    "contracts:work_order_list",
    "contracts:work_order_create",
    "incidents:list",
]


@pytest.mark.django_db
class TestAnonymous:
    @pytest.mark.parametrize("name", STAFF_PAGES + ["preferences", "incidents:create"])
    def test_every_page_redirects_to_login(self, client, name):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))

    def test_the_login_page_renders_in_dutch(self, client):
        response = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="nl")
        assert response.status_code == 200
        assert "Inloggen" in response.content.decode()


@pytest.mark.django_db
class TestStaffPages:
    @pytest.mark.parametrize("name", STAFF_PAGES)
    def test_staff_pages_render(self, client_staff, work_order_a, incident_a, name):
        response = client_staff.get(reverse(name))
        assert response.status_code == 200

    def test_the_dashboard_lists_a_deadline_due_soon(self, client_staff, incident_a):
        incident_a.response_due_at = timezone.now() + dt.timedelta(hours=2)
        incident_a.save(update_fields=["response_due_at"])
        response = client_staff.get(reverse("home"))
        assert incident_a.number in response.content.decode()

    def test_editor_history_and_overview_render(
        self, client_staff, work_order_a, incident_a, credits_a
    ):
        for url in [
            reverse("contracts:work_order_edit", args=[work_order_a.pk]),
            reverse("contracts:work_order_history", args=[work_order_a.pk]),
            reverse("work_order_overview", args=[work_order_a.pk]),
            reverse("incidents:detail", args=[incident_a.pk]),
            reverse("contracts:customer_detail", args=[work_order_a.customer_id]),
            reverse("credits:rates", args=[work_order_a.customer_id]),
        ]:
            assert client_staff.get(url).status_code == 200, url

    def test_a_stale_header_save_is_refused_and_keeps_the_input(self, client_staff, work_order_a):
        url = reverse("contracts:work_order_edit", args=[work_order_a.pk])
        data = {
            "number": work_order_a.number,
            "package": "advanced",
            "start_date": work_order_a.start_date.isoformat(),
            "end_date": work_order_a.end_date.isoformat(),
            "named_contact_limit": 50,
            "cancellation_fee_percent": "100",
            "notes": "my careful notes",
            "version": work_order_a.version,
        }
        contract_services.work_order_update(work_order=work_order_a, notes="someone else", by=None)
        response = client_staff.post(url, data)
        assert response.status_code == 409
        body = response.content.decode()
        assert "my careful notes" in body  # nothing lost
        assert "while you were editing" in body
        work_order_a.refresh_from_db()
        assert work_order_a.notes == "someone else"

    def test_the_eleventh_core_contact_is_refused_with_the_r1_reason(
        self, client_staff, customer_a, staff
    ):
        # R1: Core allows at most 10 named contacts.
        wo = contract_services.work_order_create(
            customer=customer_a,
            number="WO-CORE",
            package="core",
            start_date=timezone.localdate(),
            end_date=timezone.localdate() + dt.timedelta(days=300),
            by=staff,
        )
        for i in range(10):
            contract_services.named_contact_add(
                work_order=wo, name=f"C{i}", email=f"c{i}@acme.example", by=staff
            )
        response = client_staff.post(
            reverse("contracts:contact_add", args=[wo.pk]),
            {
                "contact-name": "Eleven",
                "contact-email": "eleven@acme.example",
                "contact-active": "on",
            },
        )
        assert response.status_code == 200
        assert "at most 10 named contacts" in response.content.decode()
        assert NamedContact.objects.filter(work_order=wo).count() == 10

    def test_adding_a_line_goes_through_the_service(self, client_staff, work_order_a):
        response = client_staff.post(
            reverse("contracts:line_add", args=[work_order_a.pk]),
            {"line-service": f.service("workshops").pk, "line-quantity": "3"},
        )
        assert response.status_code == 302
        assert work_order_a.lines.filter(service__code="workshops").exists()

    def test_an_included_service_cannot_be_added_and_the_rule_is_named(
        self, client_staff, work_order_a
    ):
        response = client_staff.post(
            reverse("contracts:line_add", args=[work_order_a.pk]),
            {"line-service": f.service("webcasts").pk, "line-quantity": "1"},
        )
        # R12: included services are not offered as lines at all.
        assert response.status_code == 200
        assert "line-service" in response.content.decode()
        assert not work_order_a.lines.exists()

    def test_staff_respond_and_change_severity(self, client_staff, incident_a):
        r = client_staff.post(reverse("incidents:respond", args=[incident_a.pk]))
        assert r.status_code == 302
        r = client_staff.post(
            reverse("incidents:severity", args=[incident_a.pk]),
            {"severity": "critical", "reason": "Outage"},
        )
        assert r.status_code == 302
        incident_a.refresh_from_db()
        assert incident_a.severity == "critical" and incident_a.responded_at is not None  # R3

    def test_work_order_list_queries_are_bounded(self, client_staff, django_assert_max_num_queries):
        def rows(n):
            for _i in range(n):
                wo = f.WorkOrderFactory()
                f.NamedContactFactory(work_order=wo)

        rows(5)
        with django_assert_max_num_queries(15):
            client_staff.get(reverse("contracts:work_order_list"))
        rows(35)
        with django_assert_max_num_queries(15):
            assert client_staff.get(reverse("contracts:work_order_list")).status_code == 200

    def test_incident_queue_queries_are_bounded(self, client_staff, django_assert_max_num_queries):
        for _i in range(5):
            f.IncidentFactory()
        with django_assert_max_num_queries(15):
            client_staff.get(reverse("incidents:list"))
        for _i in range(35):
            f.IncidentFactory()
        with django_assert_max_num_queries(15):
            assert client_staff.get(reverse("incidents:list")).status_code == 200

    def test_customer_list_queries_are_bounded(self, client_staff, django_assert_max_num_queries):
        for _i in range(40):
            f.WorkOrderFactory()
        with django_assert_max_num_queries(10):
            assert client_staff.get(reverse("contracts:customer_list")).status_code == 200


@pytest.mark.django_db
class TestCustomerA:
    def test_home_shows_own_work_orders_only(self, client_a, work_order_a, work_order_b, contact_a):
        body = client_a.get(reverse("home")).content.decode()
        assert work_order_a.number in body and work_order_b.number not in body

    def test_own_pages_render(self, client_a, work_order_a, incident_a, credits_a):
        for url in a_pages(work_order_a, incident_a) + [
            reverse("incidents:list"),
            reverse("incidents:create"),
        ]:
            assert client_a.get(url).status_code == 200, url

    @pytest.mark.parametrize(
        "name",
        ["contracts:customer_list", "contracts:work_order_list", "contracts:work_order_create"],
    )
    def test_staff_pages_are_forbidden(self, client_a, name):
        assert client_a.get(reverse(name)).status_code == 403

    def test_files_an_incident_and_sees_the_due_time(self, client_a, work_order_a, contact_a):
        response = client_a.post(
            reverse("incidents:create"),
            {
                "work_order": work_order_a.pk,
                "title": "VPN broken",
                "severity": "normal",
                "description": "x",
            },
        )
        assert response.status_code == 302
        page = client_a.get(response["Location"]).content.decode()
        assert "VPN broken" in page and "first response is due" in page

    def test_a_user_who_is_no_longer_a_named_contact_cannot_file(
        self, client_a, work_order_a, contact_a
    ):  # R2: named contacts file incidents
        contract_services.named_contact_update(contact=contact_a, active=False)
        response = client_a.post(
            reverse("incidents:create"),
            {"work_order": work_order_a.pk, "title": "VPN broken", "severity": "normal"},
        )
        assert response.status_code == 200  # the form refuses: not a work order of theirs
        assert "work_order" in response.context["form"].errors
        assert not work_order_a.incidents.exists()

    def test_the_preview_names_the_target(self, client_a, work_order_a, contact_a):
        response = client_a.get(
            reverse("incidents:preview"),
            {"work_order": work_order_a.pk, "severity": "critical"},
            HTTP_HX_REQUEST="true",
        )
        body = response.content.decode()
        assert response.status_code == 200
        assert "R4" not in body  # the rule applies in plain words (issue #19)
        assert "preview-due" in body

    def test_comments_and_asks_for_a_severity_change(self, client_a, incident_a):
        assert (
            client_a.post(
                reverse("incidents:comment", args=[incident_a.pk]), {"body": "Any news?"}
            ).status_code
            == 302
        )
        r = client_a.post(
            reverse("incidents:severity", args=[incident_a.pk]),
            {"severity": "critical", "reason": "All down"},
        )
        assert r.status_code == 302
        incident_a.refresh_from_db()
        assert incident_a.severity == "normal"  # R3: support assigns, the customer only asks
        assert incident_a.events.filter(kind="severity_request").exists()

    def test_cannot_respond_or_set_status(self, client_a, incident_a):
        assert client_a.post(reverse("incidents:respond", args=[incident_a.pk])).status_code == 403
        assert (
            client_a.post(
                reverse("incidents:status", args=[incident_a.pk]), {"status": "closed"}
            ).status_code
            == 403
        )

    def test_redeems_after_seeing_the_cost_then_cancels(self, client_a, work_order_a, credits_a):
        url = reverse("credits:redeem", args=[work_order_a.pk])
        when = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
        data = {
            "service": f.service("workshops").pk,
            "quantity": "2",
            "scheduled_for": when,
            "delivery_mode": "per_participant",
            "idempotency_key": "k1",
        }
        preview = client_a.post(url, {**data, "action": "preview"})
        body = preview.content.decode()
        assert "20 credits" in body and "Free cancellation until" in body  # R10, R16 shown first
        assert not work_order_a.redemptions.exists()
        done = client_a.post(url, {**data, "action": "confirm"})
        assert done.status_code == 302
        redemption = work_order_a.redemptions.get()
        assert redemption.credits == 20
        r = client_a.post(reverse("credits:cancel", args=[redemption.pk]), {"reason": "moved"})
        assert r.status_code == 302
        redemption.refresh_from_db()
        assert redemption.status == "cancelled"


@pytest.mark.django_db
class TestCustomerBIsolation:
    def test_b_gets_404_for_everything_of_a(
        self, client_b, work_order_a, incident_a, credits_a, contact_b
    ):
        for url in a_pages(work_order_a, incident_a):
            assert client_b.get(url).status_code == 404, url
        assert (
            client_b.post(
                reverse("incidents:comment", args=[incident_a.pk]), {"body": "x"}
            ).status_code
            == 404
        )
        assert (
            client_b.post(
                reverse("incidents:severity", args=[incident_a.pk]),
                {"severity": "critical", "reason": "x"},
            ).status_code
            == 404
        )

    def test_b_cannot_cancel_a_redemption_of_a(
        self, client_b, client_a, work_order_a, credits_a, contact_b
    ):
        redemption = credit_services.credits_redeem(
            work_order=work_order_a,
            service=f.service("workshops"),
            quantity=1,
            scheduled_for=timezone.localdate() + dt.timedelta(days=30),
            delivery_mode="per_participant",
        )
        assert client_b.get(reverse("credits:cancel", args=[redemption.pk])).status_code == 404
        assert client_b.post(reverse("credits:cancel", args=[redemption.pk])).status_code == 404

    def test_b_cannot_file_on_a_work_order_of_a(self, client_b, work_order_a, contact_b):
        response = client_b.post(
            reverse("incidents:create"),
            {"work_order": work_order_a.pk, "title": "x", "severity": "normal"},
        )
        assert response.status_code == 200  # the form refuses: not a valid choice
        assert not work_order_a.incidents.exists()

    def test_b_sees_no_incident_of_a_in_lists(self, client_b, incident_a, contact_b):
        assert incident_a.number not in client_b.get(reverse("incidents:list")).content.decode()
        assert WorkOrder.objects.count() == 2


@pytest.mark.django_db
def test_preferences_set_language_and_time_zone(client_a, user_a):
    response = client_a.post(
        reverse("preferences"), {"language": "nl", "time_zone": "America/New_York"}
    )
    assert response.status_code == 302
    user_a.refresh_from_db()
    assert (user_a.language, user_a.time_zone) == ("nl", "America/New_York")
    page = client_a.get(reverse("preferences")).content.decode()
    assert "Voorkeuren" in page and "America/New_York" in page


@pytest.mark.django_db
def test_dashboard_and_customer_home_queries_do_not_grow_with_rows(
    client_staff, client_a, work_order_a, contact_a, django_assert_max_num_queries
):
    def rows(n):
        for _i in range(n):
            wo = f.WorkOrderFactory(customer=work_order_a.customer)
            f.IncidentFactory(work_order=wo, response_due_at=timezone.now() + dt.timedelta(hours=1))

    rows(5)
    with django_assert_max_num_queries(12):
        assert client_staff.get(reverse("home")).status_code == 200
    with django_assert_max_num_queries(8):
        assert client_a.get(reverse("home")).status_code == 200
    rows(35)
    with django_assert_max_num_queries(12):
        assert client_staff.get(reverse("home")).status_code == 200
    with django_assert_max_num_queries(8):
        assert client_a.get(reverse("home")).status_code == 200


@pytest.mark.django_db
class TestMovingARedemption:
    """The customer moves a redemption next to cancelling it; the R16 fee is shown first."""

    @staticmethod
    def booked(work_order, days_ahead):
        return credit_services.credits_redeem(
            work_order=work_order,
            service=f.service("workshops"),
            quantity=2,
            scheduled_for=timezone.localdate() + dt.timedelta(days=days_ahead),
            delivery_mode="per_participant",
        )

    def test_the_overview_offers_move_next_to_cancel(self, client_a, work_order_a, credits_a):
        redemption = self.booked(work_order_a, 30)
        body = client_a.get(reverse("work_order_overview", args=[work_order_a.pk])).content.decode()
        assert reverse("credits:reschedule", args=[redemption.pk]) in body
        assert reverse("credits:cancel", args=[redemption.pk]) in body

    def test_a_late_move_shows_the_fee_before_confirming_then_charges_it(
        self, client_a, work_order_a, credits_a
    ):  # R16
        redemption = self.booked(work_order_a, 5)  # 20 credits
        url = reverse("credits:reschedule", args=[redemption.pk])
        page = client_a.get(url).content.decode()
        assert "less than 14 days" in page.lower() and "R16" not in page and "20 credits" in page
        assert redemption.entries.count() == 1  # looking costs nothing
        when = timezone.localdate() + dt.timedelta(days=40)
        done = client_a.post(url, {"scheduled_for": when.isoformat(), "reason": "venue"})
        assert done.status_code == 302
        redemption.refresh_from_db()
        assert redemption.scheduled_for == when
        assert redemption.entries.get(kind="cancellation_fee").amount == -20

    def test_an_early_move_is_free_and_a_date_outside_the_term_is_refused_on_the_form(
        self, client_a, work_order_a, credits_a
    ):  # R14, R16
        redemption = self.booked(work_order_a, 30)
        url = reverse("credits:reschedule", args=[redemption.pk])
        assert "moving is free" in client_a.get(url).content.decode()
        outside = work_order_a.end_date + dt.timedelta(days=1)
        refused = client_a.post(url, {"scheduled_for": outside.isoformat()})
        assert (
            refused.status_code == 200 and "must fall within the term" in refused.content.decode()
        )
        redemption.refresh_from_db()
        assert redemption.version == 1
        when = timezone.localdate() + dt.timedelta(days=20)
        assert client_a.post(url, {"scheduled_for": when.isoformat()}).status_code == 302
        redemption.refresh_from_db()
        assert (redemption.scheduled_for, redemption.entries.count()) == (when, 1)

    def test_b_gets_404_moving_a_redemption_of_a(
        self, client_b, work_order_a, credits_a, contact_b
    ):
        redemption = self.booked(work_order_a, 30)
        url = reverse("credits:reschedule", args=[redemption.pk])
        assert client_b.get(url).status_code == 404
        when = timezone.localdate() + dt.timedelta(days=40)
        assert client_b.post(url, {"scheduled_for": when.isoformat()}).status_code == 404
        redemption.refresh_from_db()
        assert redemption.version == 1
