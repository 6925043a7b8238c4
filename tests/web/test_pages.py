"""More web pages: history diff, auth flows, preview partials, rates, customers,
status changes, and the CSP-friendliness of every template."""

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from contracts import services as contract_services
from contracts.models import Customer, WorkOrder
from credits.models import Rate
from incidents import services as incident_services
from tests import factories as f

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def test_no_template_has_inline_scripts_or_styles():
    # CSP is script-src 'self' and style-src 'self': inline code would be blocked.
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        if re.search(r"\sstyle=|<style|<script(?![^>]*\ssrc=)|\son[a-z]+=\"", text):
            offenders.append(str(path.relative_to(TEMPLATES)))
    assert offenders == []


@pytest.mark.django_db
def test_pages_send_a_csp_header_without_unsafe_inline(client_staff):
    response = client_staff.get(reverse("home"))
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy


@pytest.mark.django_db
def test_history_shows_who_changed_what_as_a_diff(client_staff, staff, work_order_a):
    contract_services.work_order_update(
        work_order=work_order_a, notes="Renewal talks in May", by=staff
    )
    contract_services.named_contact_add(
        work_order=work_order_a, name="Dana", email="dana@acme.example", by=staff
    )
    body = client_staff.get(
        reverse("contracts:work_order_history", args=[work_order_a.pk])
    ).content.decode()
    assert "Renewal talks in May" in body and "<ins>" in body
    assert "Contact: Dana" in body
    assert "Alice Manager" in body  # who


@pytest.mark.django_db
def test_customer_b_cannot_see_history_or_the_editor(client_b, work_order_a, contact_b):
    # Staff pages: a customer is refused outright (403), whoever's the work order.
    for name in ("contracts:work_order_history", "contracts:work_order_edit"):
        assert client_b.get(reverse(name, args=[work_order_a.pk])).status_code == 403


@pytest.mark.django_db
def test_password_reset_mail_is_written_by_the_mail_backend(client, user_a):
    from django.core.cache import cache

    cache.clear()  # the reset throttle (#22) counts per client in the shared cache
    response = client.post(reverse("password_reset"), {"email": user_a.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert "/accounts/reset/" in mail.outbox[0].body


@pytest.mark.django_db
def test_login_and_password_change_pages_render(client, client_a):
    assert client.get(reverse("login")).status_code == 200
    assert client_a.get(reverse("password_change")).status_code == 200


@pytest.mark.django_db
def test_language_switch_sets_dutch(client_a, work_order_a, contact_a):
    response = client_a.post(reverse("set_language"), {"language": "nl", "next": "/"})
    assert response.status_code == 302
    body = client_a.get(reverse("home")).content.decode()
    assert "Mijn werkopdrachten" in body and 'lang="nl"' in body


@pytest.mark.django_db
def test_customer_create_adds_a_location_with_holidays(client_staff):
    response = client_staff.post(
        reverse("contracts:customer_create"),
        {
            "code": "initech",
            "name": "Initech BV",
            "country": "nl",
            "timezone": "Europe/Amsterdam",
            "language": "nl",
            "location_name": "Utrecht",
        },
    )
    assert response.status_code == 302
    customer = Customer.objects.get(code="initech")
    location = customer.locations.get()
    assert (
        location.name == "Utrecht" and location.closure_days.exists()
    )  # R5: public holidays copied


@pytest.mark.django_db
def test_work_order_create_then_editor_shows_the_calendar(client_staff, customer_a, work_order_a):
    today = timezone.localdate()
    response = client_staff.post(
        reverse("contracts:work_order_create"),
        {
            "customer": customer_a.pk,
            "number": "WO-NEW",
            "package": "performance",
            "start_date": today.isoformat(),
            "end_date": (today + dt.timedelta(days=365)).isoformat(),
            "cancellation_fee_percent": "100",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    wo = WorkOrder.objects.get(number="WO-NEW")
    assert wo.named_contact_limit is None  # R1: Performance, as many as needed
    assert wo.support_location is not None
    body = client_staff.get(response["Location"]).content.decode()
    assert "Next openings" in body
    partial = client_staff.get(
        reverse("contracts:location_preview", args=[wo.pk]), HTTP_HX_REQUEST="true"
    )
    assert partial.status_code == 200 and "calendar-preview" in partial.content.decode()


@pytest.mark.django_db
def test_a_core_limit_above_ten_is_shown_next_to_the_field(client_staff, customer_a):
    today = timezone.localdate()
    response = client_staff.post(
        reverse("contracts:work_order_create"),
        {
            "customer": customer_a.pk,
            "number": "WO-C11",
            "package": "core",
            "named_contact_limit": 11,
            "start_date": today.isoformat(),
            "end_date": (today + dt.timedelta(days=365)).isoformat(),
            "cancellation_fee_percent": "100",
        },
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_named_contact_limit_error"' in body and "R1" in body  # R1, next to the field
    assert not WorkOrder.objects.filter(number="WO-C11").exists()


@pytest.mark.django_db
def test_rates_partial_and_adding_a_customer_rate(client_staff, customer_a):
    partial = client_staff.get(
        reverse("credits:rates", args=[customer_a.pk]), HTTP_HX_REQUEST="true"
    )
    assert partial.status_code == 200 and "<html" not in partial.content.decode()
    response = client_staff.post(
        reverse("credits:rate_add", args=[customer_a.pk]),
        {
            "rate-service": f.service("workshops").pk,
            "rate-credits_per_unit": "8",
            "rate-valid_from": timezone.localdate().isoformat(),
        },
    )
    assert response.status_code == 302
    assert Rate.objects.get(customer=customer_a).credits_per_unit == Decimal("8")


@pytest.mark.django_db
def test_redeem_quote_partial_for_htmx(client_a, work_order_a, contact_a, staff):
    contract_services.work_order_line_add(
        work_order=work_order_a, service=f.service("proactive-credits"), quantity=50, by=staff
    )
    f.RateFactory(service=f.service("workshops"), credits_per_unit=Decimal("10"))
    response = client_a.post(
        reverse("credits:redeem", args=[work_order_a.pk]),
        {
            "service": f.service("workshops").pk,
            "quantity": "3",
            "delivery_mode": "per_participant",
            "scheduled_for": (timezone.localdate() + dt.timedelta(days=5)).isoformat(),
            "action": "preview",
        },
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert "<html" not in body and "30 credits" in body
    assert "less than 14 days away" in body  # R16 warned before booking


@pytest.mark.django_db
def test_staff_set_status_and_a_stale_status_form_is_refused(
    client_staff, work_order_a, contact_a, user_a
):
    incident = incident_services.incident_open(
        work_order=work_order_a, contact=contact_a, title="x", severity="normal", by=user_a
    )
    url = reverse("incidents:status", args=[incident.pk])
    assert (
        client_staff.post(url, {"status": "in_progress", "version": incident.version}).status_code
        == 302
    )
    incident.refresh_from_db()
    assert incident.status == "in_progress"
    stale = client_staff.post(url, {"status": "resolved", "version": incident.version - 1})
    assert stale.status_code == 400
    assert "changed by someone else" in stale.content.decode()


@pytest.mark.django_db
def test_customer_sees_deadline_in_own_time_zone(client_a, user_a, work_order_a, contact_a):
    user_a.time_zone = "Asia/Tokyo"
    user_a.save()
    response = client_a.get(
        reverse("incidents:preview"), {"work_order": work_order_a.pk, "severity": "normal"}
    )
    assert "Asia/Tokyo" in response.content.decode()


@pytest.mark.django_db
def test_incident_detail_explains_the_deadline(client_a, work_order_a, contact_a, user_a):
    incident = incident_services.incident_open(
        work_order=work_order_a, contact=contact_a, title="x", severity="normal", by=user_a
    )
    body = client_a.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    assert "Why this deadline" in body and "R4" not in body and "business hours" in body.lower()


@pytest.mark.django_db
def test_read_only_staff_read_the_editor_but_cannot_save(client, work_order_a):
    reader = f.StaffFactory(username="reader", role="read_only")
    client.force_login(reader)
    url = reverse("contracts:work_order_edit", args=[work_order_a.pk])
    page = client.get(url)
    assert page.status_code == 200 and "Save header" not in page.content.decode()
    assert client.post(url, {"number": "X"}).status_code == 403
    assert (
        client.post(reverse("contracts:contact_add", args=[work_order_a.pk]), {}).status_code == 403
    )
