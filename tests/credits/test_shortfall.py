"""R18: a Software Assurance shortfall invoiced within 30 days of the start or an anniversary.

The windows (credits.shortfall, pure), the service that records an invoice
(credits.services.shortfall_invoice_record), who may see them and the pages; voiding one
is test_shortfall_void.py.
"""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import IntegrityError, close_old_connections, connection, transaction
from django.urls import reverse
from django.utils import timezone, translation

from accounts.choices import Role
from core.errors import Conflict, NotAllowed, RuleViolation
from credits.choices import SHORTFALL_WINDOW_DAYS
from credits.models import ShortfallInvoice
from credits.selectors import shortfall_invoice_list, shortfall_summary, shortfall_window
from credits.services import shortfall_invoice_record
from credits.shortfall import ShortfallWindow, anniversary, shortfall_windows
from credits.shortfall import shortfall_window as window_on
from tests import factories as f
from tests.credits.conftest import today
from tests.credits.shortfall_support import D, dmy, record, term

# --- the windows (pure) ---------------------------------------------------------------------


def test_a_three_year_term_has_a_window_at_the_start_and_at_each_anniversary():  # R18
    windows = shortfall_windows(start_date=D(2025, 3, 1), end_date=D(2028, 3, 1))
    assert windows == [
        ShortfallWindow(0, D(2025, 3, 1), D(2025, 3, 31)),
        ShortfallWindow(1, D(2026, 3, 1), D(2026, 3, 31)),
        ShortfallWindow(2, D(2027, 3, 1), D(2027, 3, 31)),
    ]
    assert SHORTFALL_WINDOW_DAYS == 30  # day 0 is the start, day 30 its last day


def test_an_anniversary_on_the_end_date_opens_no_window_and_a_window_stops_at_the_end():  # R18
    assert [
        w.opens_on for w in shortfall_windows(start_date=D(2025, 1, 1), end_date=D(2026, 1, 1))
    ] == [D(2025, 1, 1)]
    (short,) = shortfall_windows(start_date=D(2025, 1, 1), end_date=D(2025, 1, 11))
    assert short.closes_on == D(2025, 1, 11)


def test_a_29_february_start_has_its_anniversary_on_28_february():  # R18
    windows = shortfall_windows(start_date=D(2024, 2, 29), end_date=D(2026, 2, 1))
    assert [w.opens_on for w in windows] == [D(2024, 2, 29), D(2025, 2, 28)]


def test_the_helper_gives_the_open_window_else_the_next_else_none():  # R18
    start, end = D(2025, 3, 1), D(2027, 3, 1)
    assert window_on(start_date=start, end_date=end, on=D(2025, 3, 31)).year == 0  # day 30
    assert window_on(start_date=start, end_date=end, on=D(2025, 4, 1)).year == 1  # day 31: next
    assert window_on(start_date=start, end_date=end, on=D(2024, 12, 1)).year == 0  # not started
    assert window_on(start_date=start, end_date=end, on=D(2026, 4, 1)) is None  # none left


# --- recording an invoice -------------------------------------------------------------------


@pytest.mark.django_db
class TestRecording:
    def test_staff_record_a_shortfall_on_the_start_date(self, customer_a, staff):  # R18
        wo = term(customer_a, started_days_ago=0)
        invoice = record(wo, staff, on=wo.start_date)
        invoice.refresh_from_db()
        assert (invoice.term_year, invoice.window_opens_on, invoice.invoiced_on) == (
            0,
            wo.start_date,
            wo.start_date,
        )
        assert invoice.window_closes_on == wo.start_date + dt.timedelta(days=30)
        assert (invoice.amount, invoice.currency, invoice.created_by) == (
            Decimal("1250.00"),
            "EUR",
            staff,
        )

    def test_staff_record_a_shortfall_on_an_anniversary(self, customer_a, staff):  # R18
        wo = term(customer_a, started_days_ago=400)
        first_anniversary = anniversary(wo.start_date, 1)
        invoice = record(wo, staff, on=first_anniversary)
        assert (invoice.term_year, invoice.window_opens_on) == (1, first_anniversary)

    @pytest.mark.midnight
    def test_day_30_after_an_anniversary_is_in_and_day_31_is_out(self, customer_a, staff):  # R18
        wo = term(customer_a, started_days_ago=420)
        opened = anniversary(wo.start_date, 1)
        with pytest.raises(RuleViolation) as refused:
            record(wo, staff, on=opened + dt.timedelta(days=31))
        assert refused.value.rule == "R18" and refused.value.field == "invoiced_on"
        second = anniversary(wo.start_date, 2)
        assert f"next window is {dmy(second)} to {dmy(second + dt.timedelta(days=30))}" in (
            refused.value.message
        )
        assert not ShortfallInvoice.objects.exists()
        invoice = record(wo, staff, on=opened + dt.timedelta(days=30))
        assert invoice.window_opens_on == opened

    def test_day_30_after_the_start_is_in_and_day_31_is_out(self, customer_a, staff):  # R18
        wo = term(customer_a, started_days_ago=31)
        with pytest.raises(RuleViolation, match="R18"):
            record(wo, staff, on=wo.start_date + dt.timedelta(days=31))
        assert record(wo, staff, on=wo.start_date + dt.timedelta(days=30)).term_year == 0

    def test_outside_every_window_it_is_refused_naming_r18_and_the_next_window(
        self, customer_a, staff
    ):  # R18
        wo = term(customer_a, started_days_ago=100)
        nxt = anniversary(wo.start_date, 1)
        with pytest.raises(RuleViolation) as refused:
            record(wo, staff, on=today())
        assert refused.value.rule == "R18"
        assert refused.value.message == (
            "R18: a shortfall may be invoiced only within 30 days of the start of the term "
            f"or of an anniversary; the next window is {dmy(nxt)} to "
            f"{dmy(nxt + dt.timedelta(days=30))}."
        )
        assert not ShortfallInvoice.objects.exists()

    def test_the_refusal_is_dutch_for_a_dutch_reader(self, customer_a, staff):  # R18
        wo = term(customer_a, started_days_ago=100)
        with translation.override("nl"), pytest.raises(RuleViolation) as refused:
            record(wo, staff, on=today())
        assert refused.value.message.startswith(
            "R18: een tekort mag alleen binnen 30 dagen na het begin van de looptijd"
        )

    def test_after_the_last_window_it_says_none_is_left(self, work_order_a, staff):  # R18
        # work_order_a: one year (its anniversary is the end date), started 100 days ago.
        with pytest.raises(RuleViolation, match="no window is left in this term"):
            record(work_order_a, staff, on=today())

    def test_a_second_invoice_in_the_same_window_is_a_conflict(self, customer_a, staff):  # R18
        wo = term(customer_a, started_days_ago=10)
        record(wo, staff, on=wo.start_date, reference="INV-1")
        with pytest.raises(Conflict) as clash:
            record(wo, staff, on=today(), reference="INV-2")
        assert clash.value.rule == "R18" and "INV-1" in clash.value.message
        assert list(ShortfallInvoice.objects.values_list("reference", flat=True)) == ["INV-1"]

    def test_the_database_refuses_a_second_invoice_in_a_window(self, customer_a, staff):  # R18
        wo = term(customer_a, started_days_ago=10)
        record(wo, staff, on=wo.start_date)
        with pytest.raises(IntegrityError), transaction.atomic():
            f.ShortfallInvoiceFactory(work_order=wo, reference="twin")

    def test_another_window_of_the_same_work_order_takes_its_own_invoice(
        self, customer_a, staff
    ):  # R18
        wo = term(customer_a, started_days_ago=380)
        record(wo, staff, on=wo.start_date, reference="Y0")
        record(wo, staff, on=anniversary(wo.start_date, 1), reference="Y1")
        assert ShortfallInvoice.objects.filter(work_order=wo).count() == 2

    def test_a_customer_contact_may_not_record_one(self, customer_a, user_a, contact_a):  # R18
        wo = term(customer_a, started_days_ago=0)
        with pytest.raises(NotAllowed) as refused:
            record(wo, user_a, on=today())
        assert (refused.value.rule, refused.value.code) == ("R18", "staff_only")
        assert not ShortfallInvoice.objects.exists()

    def test_read_only_staff_may_not_record_one(self, customer_a):  # R18
        reader = f.StaffFactory(role=Role.READ_ONLY)
        with pytest.raises(NotAllowed, match="R18: read-only staff"):
            record(term(customer_a, started_days_ago=0), reader, on=today())

    def test_a_terminated_work_order_takes_no_invoice(self, customer_a, staff):  # R18
        wo = term(customer_a, started_days_ago=5, terminated_at=timezone.now())
        with pytest.raises(RuleViolation, match="terminated"):
            record(wo, staff, on=today())
        assert shortfall_window(work_order=wo) is None

    @pytest.mark.parametrize(
        ("amount", "reference", "field"),
        [
            ("0", "INV-1", "amount"),
            ("-10", "INV-1", "amount"),
            ("10.005", "INV-1", "amount"),
            ("10", "  ", "reference"),
        ],
    )
    def test_bad_input_is_refused_naming_r18_and_nothing_is_written(
        self, customer_a, staff, amount, reference, field
    ):  # R18
        wo = term(customer_a, started_days_ago=0)
        with pytest.raises(RuleViolation) as refused:
            record(wo, staff, on=today(), amount=amount, reference=reference)
        assert (refused.value.rule, refused.value.field) == ("R18", field)
        assert not ShortfallInvoice.objects.exists()

    @pytest.mark.midnight
    def test_an_invoice_dated_in_the_future_is_refused(self, customer_a, staff):  # R18
        wo = term(customer_a, started_days_ago=0)
        with pytest.raises(RuleViolation, match="future"):
            record(wo, staff, on=today() + dt.timedelta(days=1))


@pytest.mark.django_db(transaction=True)
def test_simultaneous_records_in_one_window_write_one_invoice(customer_a, staff):  # R18
    wo = term(customer_a, started_days_ago=3)
    n = 6
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i):
        try:
            barrier.wait(timeout=30)
            results[i] = record(wo, staff, on=today(), reference=f"INV-{i}")
        except Exception as exc:  # noqa: BLE001 - asserted below
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    close_old_connections()
    assert sum(isinstance(r, ShortfallInvoice) for r in results) == 1
    assert all(isinstance(r, (ShortfallInvoice, Conflict)) for r in results), results
    assert ShortfallInvoice.objects.filter(work_order=wo).count() == 1


# --- who sees them --------------------------------------------------------------------------


@pytest.mark.django_db
class TestVisibility:
    def test_the_customer_sees_its_own_and_the_other_customer_sees_nothing(
        self, work_order_a, user_a, user_b, staff
    ):  # R18
        invoice = f.ShortfallInvoiceFactory(work_order=work_order_a, reference="INV-ACME")
        assert list(shortfall_invoice_list(actor=user_a, work_order=work_order_a)) == [invoice]
        assert list(shortfall_invoice_list(actor=user_b, work_order=work_order_a)) == []
        assert list(ShortfallInvoice.objects.visible_to(user_b)) == []
        assert shortfall_summary(work_order=work_order_a, actor=user_b)["invoices"] == []

    def test_the_summary_says_whether_the_window_is_open(self, customer_a, staff):  # R18
        open_now = shortfall_summary(work_order=term(customer_a, started_days_ago=2), actor=staff)
        later = shortfall_summary(work_order=term(customer_a, started_days_ago=200), actor=staff)
        assert open_now["open"] and open_now["window"].year == 0
        assert not later["open"] and later["window"].year == 1
        assert not open_now["invoiced"]

    def test_the_summary_says_when_the_window_shown_is_invoiced(self, customer_a, staff):  # R18
        wo = term(customer_a, started_days_ago=2)
        record(wo, staff, on=today())
        summary = shortfall_summary(work_order=wo, actor=staff)
        assert summary["open"] and summary["invoiced"]


# --- the pages ------------------------------------------------------------------------------


@pytest.mark.django_db
class TestPages:
    @staticmethod
    def post(client, wo, **data):
        payload = {
            "shortfall-invoiced_on": today().isoformat(),
            "shortfall-amount": "1250.00",
            "shortfall-currency": "EUR",
            "shortfall-reference": "INV-77",
            "shortfall-note": "SA benefits short by 3 incidents",
        }
        payload.update({f"shortfall-{k}": v for k, v in data.items()})
        return client.post(reverse("credits:shortfall", args=[wo.pk]), payload)

    def test_staff_record_an_invoice_from_the_form(self, client_staff, customer_a):  # R18
        wo = term(customer_a, started_days_ago=4)
        response = self.post(client_staff, wo)
        assert response.status_code == 302
        invoice = ShortfallInvoice.objects.get(work_order=wo)
        assert (invoice.reference, invoice.amount, invoice.note) == (
            "INV-77",
            Decimal("1250.00"),
            "SA benefits short by 3 incidents",
        )
        page = client_staff.get(response.url).content.decode()
        assert "INV-77" in page and "The shortfall invoice INV-77 is recorded (R18)." in page

    def test_a_day_outside_the_window_is_a_form_error_naming_r18_and_nothing_is_written(
        self, client_staff, customer_a
    ):  # R18
        wo = term(customer_a, started_days_ago=100)
        response = self.post(client_staff, wo)
        assert response.status_code == 200
        errors = response.context["shortfall_form"].errors["invoiced_on"]
        assert errors[0].startswith("R18: a shortfall may be invoiced only within 30 days")
        assert "R18: a shortfall may be invoiced only within 30 days" in response.content.decode()
        assert not ShortfallInvoice.objects.exists()

    def test_a_negative_amount_is_a_form_error_naming_r18(self, client_staff, customer_a):  # R18
        wo = term(customer_a, started_days_ago=4)
        response = self.post(client_staff, wo, amount="-5")
        assert response.status_code == 200
        assert response.context["shortfall_form"].errors["amount"] == [
            "R18: a shortfall invoice is a positive amount."
        ]
        assert not ShortfallInvoice.objects.exists()

    def test_the_overview_shows_staff_the_window_and_the_form(
        self, client_staff, customer_a
    ):  # R18
        wo = term(customer_a, started_days_ago=4)
        page = client_staff.get(reverse("work_order_overview", args=[wo.pk])).content.decode()
        assert "R18: a shortfall may be invoiced from" in page
        assert reverse("credits:shortfall", args=[wo.pk]) in page
        assert 'name="shortfall-amount"' in page

    def test_read_only_staff_see_the_page_but_cannot_post(self, client, customer_a):  # R18
        client.force_login(f.StaffFactory(role=Role.READ_ONLY))
        wo = term(customer_a, started_days_ago=4)
        page = client.get(reverse("credits:shortfall", args=[wo.pk]))
        assert page.status_code == 200 and 'name="shortfall-amount"' not in page.content.decode()
        assert self.post(client, wo).status_code == 403
        assert not ShortfallInvoice.objects.exists()

    def test_the_customer_sees_its_invoices_read_only_on_its_overview(
        self, client_a, work_order_a, contact_a
    ):  # R18
        f.ShortfallInvoiceFactory(work_order=work_order_a, reference="INV-ACME")
        page = client_a.get(reverse("work_order_overview", args=[work_order_a.pk]))
        body = page.content.decode()
        assert "INV-ACME" in body and 'name="shortfall-amount"' not in body
        assert client_a.get(reverse("credits:shortfall", args=[work_order_a.pk])).status_code == 403
        assert self.post(client_a, work_order_a).status_code == 403
        assert ShortfallInvoice.objects.count() == 1

    def test_the_other_customer_cannot_see_or_record_them(
        self, client_b, work_order_a, work_order_b, contact_b
    ):  # R18
        f.ShortfallInvoiceFactory(work_order=work_order_a, reference="INV-ACME")
        assert (
            client_b.get(reverse("work_order_overview", args=[work_order_a.pk])).status_code == 404
        )
        own = client_b.get(reverse("work_order_overview", args=[work_order_b.pk])).content.decode()
        assert "INV-ACME" not in own
        assert client_b.get(reverse("credits:shortfall", args=[work_order_a.pk])).status_code == 403
        assert self.post(client_b, work_order_a).status_code == 403
        assert ShortfallInvoice.objects.count() == 1

    def test_the_admin_lists_them_read_only(self, client, work_order_a):  # R18
        client.force_login(f.StaffFactory(username="root", is_superuser=True))
        invoice = f.ShortfallInvoiceFactory(work_order=work_order_a, reference="INV-ADMIN")
        assert "INV-ADMIN" in client.get("/admin/credits/shortfallinvoice/").content.decode()
        assert client.get("/admin/credits/shortfallinvoice/add/").status_code == 403
        deleted = client.post(
            f"/admin/credits/shortfallinvoice/{invoice.pk}/delete/", {"post": "yes"}
        )
        assert deleted.status_code == 403
        assert ShortfallInvoice.objects.filter(pk=invoice.pk).exists()


def test_the_currency_must_be_an_assigned_iso_4217_code(customer_a, staff):  # R18
    wo = term(customer_a, started_days_ago=0)
    with pytest.raises(RuleViolation) as exc:
        shortfall_invoice_record(
            work_order=wo, amount=Decimal("10"), reference="INV-9", currency="XYZ", by=staff
        )
    assert exc.value.field == "currency"
    assert not ShortfallInvoice.objects.exists()
