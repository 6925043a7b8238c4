"""R18: voiding a wrong shortfall invoice (credits.services.shortfall_invoice_void): the
reason it needs, who may void, the pages, and the window it frees for a corrected one."""

import threading

import pytest
from django.db import IntegrityError, close_old_connections, connection, transaction
from django.urls import reverse
from django.utils import timezone, translation

from accounts.choices import Role
from core.errors import Conflict, NotAllowed, RuleViolation
from credits.models import ShortfallInvoice
from credits.selectors import shortfall_summary
from credits.services import shortfall_invoice_void
from tests import factories as f
from tests.credits.conftest import today
from tests.credits.shortfall_support import record, term

# --- voiding a wrong invoice ----------------------------------------------------------------


def void_state(invoice) -> tuple:
    """The void columns as stored."""
    return tuple(
        ShortfallInvoice.objects.filter(pk=invoice.pk).values_list(
            "voided_at", "voided_by", "void_reason"
        )[0]
    )


@pytest.mark.django_db
class TestVoiding:
    def test_a_voided_invoice_frees_its_window_for_a_corrected_one(self, customer_a, staff):  # R18
        wo = term(customer_a, started_days_ago=5)
        wrong = record(wo, staff, on=wo.start_date, reference="INV-WRONG", amount="125.00")
        before = ShortfallInvoice.objects.filter(pk=wrong.pk).values().get()
        voided = shortfall_invoice_void(invoice=wrong, reason="  amount typed wrong  ", by=staff)
        assert voided.voided_at is not None and voided.voided_by == staff
        assert voided.void_reason == "amount typed wrong"
        after = ShortfallInvoice.objects.filter(pk=wrong.pk).values().get()
        # Nothing else on the row changes.
        for column in ("voided_at", "voided_by_id", "void_reason"):
            before.pop(column), after.pop(column)
        assert after == before
        assert not shortfall_summary(work_order=wo, actor=staff)["invoiced"]
        corrected = record(wo, staff, on=today(), reference="INV-RIGHT", amount="1250.00")
        assert corrected.window_opens_on == wrong.window_opens_on
        summary = shortfall_summary(work_order=wo, actor=staff)
        assert summary["invoiced"]
        assert [(i.reference, i.is_voided) for i in summary["invoices"]] == [
            ("INV-RIGHT", False),
            ("INV-WRONG", True),
        ]
        # The correction holds the window again: a third is a Conflict naming it.
        with pytest.raises(Conflict, match="INV-RIGHT"):
            record(wo, staff, on=today(), reference="INV-THIRD")

    def test_voiding_twice_is_a_conflict_and_the_first_void_stands(self, customer_a, staff):  # R18
        wo = term(customer_a, started_days_ago=5)
        invoice = record(wo, staff, on=today())
        shortfall_invoice_void(invoice=invoice, reason="first", by=staff)
        first = void_state(invoice)
        other = f.StaffFactory(role=Role.ACCOUNT_MANAGER)
        with pytest.raises(Conflict) as clash:
            shortfall_invoice_void(invoice=invoice, reason="second", by=other)
        assert (clash.value.rule, clash.value.code) == ("R18", "shortfall_already_voided")
        assert void_state(invoice) == first

    def test_a_stale_copy_cannot_void_it_again(self, customer_a, staff):  # R18
        # Two clicks load the same live row; the conditional UPDATE lets only one win.
        wo = term(customer_a, started_days_ago=5)
        invoice = record(wo, staff, on=today())
        stale = ShortfallInvoice.objects.get(pk=invoice.pk)
        shortfall_invoice_void(invoice=invoice, reason="first click", by=staff)
        with pytest.raises(Conflict, match="R18"):
            shortfall_invoice_void(invoice=stale, reason="second click", by=staff)
        assert void_state(invoice)[2] == "first click"

    @pytest.mark.parametrize("who", ["read_only", "customer"])
    def test_read_only_staff_and_customers_are_refused_and_nothing_is_written(
        self, customer_a, staff, user_a, contact_a, who
    ):  # R18
        wo = term(customer_a, started_days_ago=5)
        invoice = record(wo, staff, on=today())
        actor = f.StaffFactory(role=Role.READ_ONLY) if who == "read_only" else user_a
        with pytest.raises(NotAllowed) as refused:
            shortfall_invoice_void(invoice=invoice, reason="wrong", by=actor)
        assert (refused.value.rule, refused.value.code) == ("R18", "staff_only")
        assert void_state(invoice) == (None, None, "")

    @pytest.mark.parametrize("reason", ["", "   ", None, "x" * 501])
    def test_a_reason_is_required_and_bounded(self, customer_a, staff, reason):  # R18
        wo = term(customer_a, started_days_ago=5)
        invoice = record(wo, staff, on=today())
        with pytest.raises(RuleViolation) as refused:
            shortfall_invoice_void(invoice=invoice, reason=reason, by=staff)
        assert (refused.value.rule, refused.value.field) == ("R18", "reason")
        assert void_state(invoice) == (None, None, "")

    def test_the_database_still_refuses_two_live_invoices_in_a_window(
        self, customer_a, staff
    ):  # R18
        wo = term(customer_a, started_days_ago=5)
        first = record(wo, staff, on=wo.start_date, reference="INV-1")
        shortfall_invoice_void(invoice=first, reason="wrong", by=staff)
        f.ShortfallInvoiceFactory(work_order=wo, reference="INV-2")  # voided one frees the window
        with pytest.raises(IntegrityError), transaction.atomic():
            f.ShortfallInvoiceFactory(work_order=wo, reference="INV-3")
        assert ShortfallInvoice.objects.filter(work_order=wo, voided_at__isnull=True).count() == 1

    def test_the_database_refuses_a_void_without_a_reason(self, customer_a, staff):  # R18
        wo = term(customer_a, started_days_ago=5)
        invoice = record(wo, staff, on=today())
        with pytest.raises(IntegrityError), transaction.atomic():
            ShortfallInvoice.objects.filter(pk=invoice.pk).update(voided_at=timezone.now())

    def test_the_refusal_is_dutch_for_a_dutch_reader(self, customer_a, staff):  # R18
        wo = term(customer_a, started_days_ago=5)
        invoice = record(wo, staff, on=today())
        with translation.override("nl"), pytest.raises(RuleViolation) as refused:
            shortfall_invoice_void(invoice=invoice, reason="", by=staff)
        assert refused.value.message.startswith("R18: ") and "vervallen" in refused.value.message


@pytest.mark.django_db(transaction=True)
def test_simultaneous_voids_of_one_invoice_write_one_void(customer_a, staff):  # R18
    wo = term(customer_a, started_days_ago=3)
    invoice = record(wo, staff, on=today())
    n = 4
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i):
        try:
            barrier.wait(timeout=30)
            results[i] = shortfall_invoice_void(
                invoice=ShortfallInvoice.objects.get(pk=invoice.pk), reason=f"click {i}", by=staff
            )
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
    (winner,) = [r for r in results if isinstance(r, ShortfallInvoice)]
    assert void_state(invoice)[2] == winner.void_reason


@pytest.mark.django_db
class TestVoidPages:
    @staticmethod
    def void(client, invoice, reason="amount typed wrong"):
        return client.post(
            reverse("credits:shortfall_void", args=[invoice.work_order_id]),
            {"void-invoice": invoice.pk, "void-reason": reason},
        )

    def test_staff_void_from_the_form_and_the_page_shows_the_label(
        self, client_staff, customer_a, staff
    ):  # R18
        wo = term(customer_a, started_days_ago=4)
        invoice = record(wo, staff, on=today(), reference="INV-55")
        page = client_staff.get(reverse("credits:shortfall", args=[wo.pk])).content.decode()
        assert reverse("credits:shortfall_void", args=[wo.pk]) in page
        assert f'name="void-invoice" value="{invoice.pk}"' in page
        response = self.void(client_staff, invoice)
        assert response.status_code == 302
        assert void_state(invoice)[2] == "amount typed wrong"
        page = client_staff.get(response.url).content.decode()
        assert "The shortfall invoice INV-55 is voided (R18)." in page
        assert "Voided (amount typed wrong)" in page and "<s>INV-55</s>" in page
        # No void form for a voided invoice; the window is open for a corrected one.
        assert 'name="void-reason"' not in page
        assert "R18: a shortfall may be invoiced from" in page
        overview = client_staff.get(reverse("work_order_overview", args=[wo.pk])).content.decode()
        assert "Voided (amount typed wrong)" in overview

    def test_an_empty_reason_is_a_form_error_naming_r18(self, client_staff, customer_a, staff):
        # R18
        wo = term(customer_a, started_days_ago=4)
        invoice = record(wo, staff, on=today())
        response = self.void(client_staff, invoice, reason=" ")
        assert response.status_code == 200
        assert response.context["void_form"].errors["reason"] == [
            "R18: say why the shortfall invoice is voided."
        ]
        assert "R18: say why the shortfall invoice is voided." in response.content.decode()
        assert void_state(invoice) == (None, None, "")

    def test_a_second_void_is_an_error_naming_r18(self, client_staff, customer_a, staff):  # R18
        wo = term(customer_a, started_days_ago=4)
        invoice = record(wo, staff, on=today(), reference="INV-56")
        shortfall_invoice_void(invoice=invoice, reason="first", by=staff)
        response = self.void(client_staff, invoice, reason="again")
        assert response.status_code == 200
        assert "R18: the shortfall invoice INV-56 is already voided." in response.content.decode()
        assert void_state(invoice)[2] == "first"

    def test_read_only_staff_see_no_void_form_and_cannot_post(
        self, client, customer_a, staff
    ):  # R18
        client.force_login(f.StaffFactory(role=Role.READ_ONLY))
        wo = term(customer_a, started_days_ago=4)
        invoice = record(wo, staff, on=today())
        page = client.get(reverse("credits:shortfall", args=[wo.pk])).content.decode()
        assert 'name="void-reason"' not in page
        assert self.void(client, invoice).status_code == 403
        assert void_state(invoice) == (None, None, "")

    def test_the_customer_sees_the_label_read_only_and_cannot_void(
        self, client_a, client_b, work_order_a, contact_a, contact_b, staff
    ):  # R18
        invoice = f.ShortfallInvoiceFactory(work_order=work_order_a, reference="INV-ACME")
        shortfall_invoice_void(invoice=invoice, reason="sent twice", by=staff)
        live = f.ShortfallInvoiceFactory(work_order=work_order_a, reference="INV-ACME-2")
        body = client_a.get(reverse("work_order_overview", args=[work_order_a.pk])).content
        body = body.decode()
        assert "Voided (sent twice)" in body and "<s>INV-ACME</s>" in body
        assert 'name="void-reason"' not in body
        for client in (client_a, client_b):
            assert self.void(client, live).status_code == 403
        assert void_state(live) == (None, None, "")

    def test_an_invoice_of_another_work_order_or_a_bad_id_is_not_found(
        self, client_staff, customer_a, staff
    ):  # R18
        wo = term(customer_a, started_days_ago=4)
        other = term(customer_a, started_days_ago=4)
        invoice = record(other, staff, on=today())
        url = reverse("credits:shortfall_void", args=[wo.pk])
        assert (
            client_staff.post(url, {"void-invoice": invoice.pk, "void-reason": "x"}).status_code
            == 404
        )
        assert (
            client_staff.post(url, {"void-invoice": "abc", "void-reason": "x"}).status_code == 404
        )
        assert void_state(invoice) == (None, None, "")

    def test_a_dutch_reader_sees_the_label_in_dutch(self, client_staff, customer_a, staff):  # R18
        wo = term(customer_a, started_days_ago=4)
        invoice = record(wo, staff, on=today())
        shortfall_invoice_void(invoice=invoice, reason="dubbel", by=staff)
        staff.language = "nl"
        staff.save(update_fields=["language"])
        page = client_staff.get(reverse("credits:shortfall", args=[wo.pk])).content.decode()
        assert "Vervallen (dubbel)" in page
