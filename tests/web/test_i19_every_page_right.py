"""Issue #19: numbers, words and quotes that agree with the confirmation."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override

from contracts import services as contract_services
from core import formatting
from credits import selectors as credit_selectors
from credits import services as credit_services
from tests import factories as f


class TestFormattingLayer:
    def test_decimals_never_show_e_notation(self):
        assert formatting.plain_decimal(Decimal("1E+2")) == "100"
        assert formatting.plain_decimal(Decimal("12.50")) == "12.5"
        with override("en"):
            assert formatting.number(Decimal("1E+1")) == "10"
            assert formatting.number(Decimal("2.5E+2")) == "250"
            assert formatting.number(Decimal("1200.00")) == "1,200"
        with override("nl"):
            assert formatting.number(Decimal("14.61")) == "14,61"
            assert formatting.number(Decimal("1200")) == "1.200"

    def test_units_are_singular_or_plural_in_both_languages(self):
        with override("en"):
            assert formatting.quantity(Decimal("1"), "units") == "1 unit"
            assert formatting.quantity(Decimal("2.00"), "units") == "2 units"
            assert formatting.quantity(1, "days") == "1 day"
            assert formatting.quantity(Decimal("1E+1"), "participants") == "10 participants"
            assert formatting.unit_name("participants", 1) == "participant"
        with override("nl"):
            assert formatting.quantity(Decimal("1.5"), "hours") == "1,5 uur"
            assert formatting.quantity(2, "days") == "2 dagen"
            assert formatting.quantity(1, "units") == "1 eenheid"

    def test_money_and_percentages(self):
        with override("nl"):
            assert formatting.money(Decimal("1250"), "EUR") == "EUR 1.250,00"
            assert formatting.percent(Decimal("1E+2")) == "100%"
        with override("en"):
            assert formatting.percent(Decimal("12.50")) == "12.5%"

    def test_dutch_months_are_lower_case_one_format_per_kind(self):
        day = dt.date(2026, 5, 20)
        with override("nl"):
            assert formatting.fmt_date(day, "day") == "20 mei 2026"
        with override("en"):
            assert formatting.fmt_date(day, "day") == "20 May 2026"

    def test_plain_words_take_rule_numbers_out(self):
        assert formatting.plain_words("R16: less than 14 days before") == "Less than 14 days before"
        assert formatting.plain_words("Hour blocks (R11)") == "Hour blocks"
        assert (
            formatting.plain_words("last day (60-day cut-off, R15)") == "last day (60-day cut-off)"
        )
        assert formatting.plain_words("R4 Advanced normal: 4 h") == "Advanced normal: 4 h"


@pytest.fixture
def credits_500(work_order_a, staff):
    contract_services.work_order_line_add(
        work_order=work_order_a, service=f.service("proactive-credits"), quantity=500, by=staff
    )
    f.RateFactory(service=f.service("workshops"), credits_per_unit=Decimal("12"))
    return work_order_a


@pytest.mark.django_db
class TestQuoteRunsTheConfirmationsChecks:
    def _post(self, client, wo, **changes):
        data = {
            "service": f.service("workshops").pk,
            "quantity": "8",
            "scheduled_for": (timezone.localdate() + dt.timedelta(days=30)).isoformat(),
            "delivery_mode": "per_participant",
            "idempotency_key": "k19",
            "action": "preview",
            **changes,
        }
        return client.post(reverse("credits:redeem", args=[wo.pk]), data).content.decode()

    def test_a_valid_quote_offers_the_redemption(self, client_a, credits_500):
        body = self._post(client_a, credits_500)
        assert 'value="confirm"' in body and "would be refused" not in body

    def test_a_workshop_in_the_default_mode_is_shown_refused(self, client_a, credits_500):
        # R20: the same refusal the confirmation gives, before confirming.
        body = self._post(client_a, credits_500, delivery_mode="standard")
        assert "would be refused" in body and 'value="confirm"' not in body
        assert "R20" not in body  # plain words for the customer

    def test_a_past_date_and_a_date_after_the_term_are_refused(self, client_a, credits_500):
        past = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
        assert "would be refused" in self._post(client_a, credits_500, scheduled_for=past)
        after = (credits_500.end_date + dt.timedelta(days=1)).isoformat()
        assert "would be refused" in self._post(client_a, credits_500, scheduled_for=after)

    def test_the_date_input_carries_the_terms_bounds(self, client_a, credits_500):
        body = client_a.get(reverse("credits:redeem", args=[credits_500.pk])).content.decode()
        assert f'max="{credits_500.end_date.isoformat()}"' in body
        assert "min=" in body and "data-modes=" in body

    def test_delivery_modes_only_where_the_service_has_them(self):
        assert credit_services.delivery_modes_for(f.service("workshops")) == [
            "per_participant",
            "dedicated",
        ]
        assert "per_participant" not in credit_services.delivery_modes_for(f.service("dse"))


@pytest.mark.django_db
class TestOneFigurePerThing:
    def test_available_and_remaining_agree(self, client_a, credits_500, user_a):
        credit_services.credits_redeem(
            work_order=credits_500,
            service=f.service("workshops"),
            quantity=8,
            scheduled_for=timezone.localdate() + dt.timedelta(days=30),
            delivery_mode="per_participant",
            by=user_a,
        )
        figures = credit_selectors.credit_figures(work_order=credits_500)
        assert figures == {"available": 404, "spent": 96, "added": 500}
        body = client_a.get(reverse("work_order_overview", args=[credits_500.pk])).content.decode()
        assert "remaining 500" not in body
        assert '<td class="num">404</td>' in body  # the credits line's remaining = the balance
        assert "8 participants Workshops on" in body  # ledger text, not "8 participants ... 2026-"

    def test_the_burn_down_has_one_point_per_day(self, credits_500, user_a):
        credit_services.credits_redeem(
            work_order=credits_500,
            service=f.service("workshops"),
            quantity=8,
            scheduled_for=timezone.localdate() + dt.timedelta(days=30),
            delivery_mode="per_participant",
            by=user_a,
        )
        entries = list(credit_selectors.ledger(work_order=credits_500))
        assert len(entries) == 2
        assert credit_selectors.balance_history(entries) == [(timezone.localdate(), 404)]


@pytest.mark.django_db
class TestErrorPagesAndFilters:
    def test_404_is_styled_with_a_way_back(self, client_a):
        r = client_a.get("/no-such-page/")
        assert r.status_code == 404
        body = r.content.decode()
        assert "Page not found" in body and 'class="main-nav"' in body

    def test_breached_filter_defaults_to_any(self, client_staff):
        body = client_staff.get(reverse("incidents:list")).content.decode()
        assert "Unknown" not in body and ">Any<" in body

    def test_ends_between_inputs_are_labelled(self, client_staff):
        body = client_staff.get(reverse("contracts:work_order_list")).content.decode()
        assert 'aria-label="Ends on or after"' in body


@pytest.mark.django_db
def test_customer_emails_say_plain_words_staff_emails_keep_the_rule():
    """E-mails: customers read what the rule means, staff the rule number too (issue #19)."""
    from notifications.localize import Reader, localized_outbox_rows

    rows = localized_outbox_rows(
        readers=[
            Reader("c@acme.example", "nl", "Europe/Amsterdam"),
            Reader("am@vendor.example", "en", "Europe/Amsterdam", staff=True),
        ],
        render=lambda: (
            "Work order WO-1: today is the 60-day cut-off (R15)",
            "R14: unused credits lapse.",
        ),
        webhook=False,
        event="work_order.cutoff",
        key="i19-test",
    )
    by = {r.recipient: r for r in rows}
    assert by["c@acme.example"].subject == "Work order WO-1: today is the 60-day cut-off"
    assert "R14" not in by["c@acme.example"].body
    assert "(R15)" in by["am@vendor.example"].subject
