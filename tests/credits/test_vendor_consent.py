"""Seed §4.2.1: workshops are scheduled only with the vendor's written consent, recorded
by staff (who, when, where the written consent is) and kept on every redemption.

The factories give every work order a recorded consent (tests/factories.py,
WorkOrderFactory.workshop_consent); these tests take it away."""

import datetime as dt

import pytest
from django.urls import reverse

from core.errors import NotAllowed, RuleViolation
from credits.models import Redemption, VendorConsent
from credits.services import (
    credits_redeem,
    redemption_exchange,
    vendor_consent_record,
)
from services.models import Service
from tests import factories as f
from tests.credits.conftest import days, snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def unconsented(funded):
    """Customer A's funded work order with no consent recorded."""
    funded.vendor_consents.all().delete()
    return funded


def book(work_order, by, **extra):
    return credits_redeem(
        work_order=work_order,
        service=f.service("workshops"),
        quantity=5,
        scheduled_for=days(30),
        delivery_mode="per_participant",
        by=by,
        **extra,
    )


def test_the_catalogue_marks_workshops_as_needing_the_vendors_consent():
    # Switched on by services 0005_i18_workshops_need_vendor_consent.
    assert list(
        Service.objects.filter(needs_vendor_consent=True).values_list("code", flat=True)
    ) == ["workshops"]


def test_a_customer_cannot_book_a_workshop_without_a_recorded_consent(unconsented, user_a):
    before = snapshot(unconsented)
    with pytest.raises(RuleViolation) as exc:
        book(unconsented, user_a)
    assert exc.value.code == "vendor_consent_required"
    assert "vendor's written consent" in exc.value.message and "R1" not in exc.value.message
    assert snapshot(unconsented) == before


def test_a_customer_cannot_claim_the_consent_themselves(unconsented, user_a):
    with pytest.raises(NotAllowed):
        book(unconsented, user_a, vendor_consent="They said yes")
    assert not VendorConsent.objects.filter(work_order=unconsented).exists()


def test_staff_book_with_a_reference_and_who_and_when_are_recorded(unconsented, staff):
    r = book(unconsented, staff, vendor_consent="Vendor mail 2026-11-30, ref MS-4711")
    consent = Redemption.objects.select_related("consent__recorded_by").get(pk=r.pk).consent
    assert consent.reference == "Vendor mail 2026-11-30, ref MS-4711"
    assert consent.recorded_by == staff and consent.recorded_at is not None
    assert consent.work_order == unconsented and consent.service.code == "workshops"


def test_a_recorded_consent_lets_the_customer_book_and_is_kept_on_the_redemption(
    unconsented, staff, user_a
):
    consent = vendor_consent_record(
        work_order=unconsented,
        service=f.service("workshops"),
        reference="Vendor letter 12 Nov",
        by=staff,
    )
    r = book(unconsented, user_a)
    assert r.consent == consent


def test_only_editors_record_a_consent_and_it_needs_a_reference(unconsented, user_a, staff):
    workshops = f.service("workshops")
    with pytest.raises(NotAllowed):
        vendor_consent_record(work_order=unconsented, service=workshops, reference="x", by=user_a)
    with pytest.raises(RuleViolation):
        vendor_consent_record(work_order=unconsented, service=workshops, reference="  ", by=staff)
    with pytest.raises(RuleViolation):  # a chalk talk needs none
        vendor_consent_record(
            work_order=unconsented, service=f.service("chalk-talks"), reference="x", by=staff
        )
    assert not unconsented.vendor_consents.exists()


def test_services_without_the_flag_ignore_a_reference(funded, staff):
    r = credits_redeem(
        work_order=funded,
        service=f.service("chalk-talks"),
        quantity=1,
        scheduled_for=days(30),
        vendor_consent="not needed",
        by=staff,
    )
    assert r.consent is None


def test_an_exchange_into_a_workshop_needs_the_consent(unconsented, staff):  # R17
    chalk = credits_redeem(
        work_order=unconsented,
        service=f.service("chalk-talks"),
        quantity=1,
        scheduled_for=days(30),
        by=staff,
    )
    with pytest.raises(RuleViolation) as exc:
        redemption_exchange(
            redemption=chalk,
            service=f.service("workshops"),
            quantity=5,
            approved_by=staff,
            by=staff,
            delivery_mode="per_participant",
        )
    assert exc.value.code == "vendor_consent_required"


# --- the doors: web quote/confirm, the consent page, the API, the admin --------------------


def _redeem_data(**extra):
    return {
        "service": f.service("workshops").pk,
        "quantity": "2",
        "scheduled_for": (dt.date.today() + dt.timedelta(days=30)).isoformat(),
        "delivery_mode": "per_participant",
        "idempotency_key": "k-consent",
        **extra,
    }


def test_the_quote_shows_the_refusal_in_plain_words_to_the_customer(unconsented, client_a):
    url = reverse("credits:redeem", args=[unconsented.pk])
    body = client_a.post(url, {**_redeem_data(), "action": "preview"}).content.decode()
    assert "none recorded" in body and "written consent" in body
    assert 'name="vendor_consent"' not in body  # only staff record it
    r = client_a.post(url, {**_redeem_data(), "action": "confirm"})
    assert r.status_code == 200 and "written consent" in r.content.decode()
    assert not unconsented.redemptions.exists()


def test_staff_give_the_reference_on_the_form_and_the_quote_shows_it(unconsented, client_staff):
    url = reverse("credits:redeem", args=[unconsented.pk])
    data = _redeem_data(vendor_consent="Vendor mail 30 Nov")
    body = client_staff.post(url, {**data, "action": "preview"}).content.decode()
    assert "Vendor mail 30 Nov (recorded when you confirm)" in body
    assert client_staff.post(url, {**data, "action": "confirm"}).status_code == 302
    assert unconsented.redemptions.get().consent.reference == "Vendor mail 30 Nov"


def test_the_consent_page_records_after_a_preview_and_b_gets_404(
    unconsented, client_staff, client_b, staff
):
    url = reverse("credits:vendor_consent", args=[unconsented.pk])
    data = {"service": f.service("workshops").pk, "reference": "Vendor letter 1 Dec"}
    preview = client_staff.post(url, {**data, "action": "preview"})
    assert "Workshops on this work order can be scheduled." in preview.content.decode()
    assert not unconsented.vendor_consents.exists()
    assert client_staff.post(url, {**data, "action": "confirm"}).status_code == 302
    consent = unconsented.vendor_consents.get()
    assert consent.reference == "Vendor letter 1 Dec" and consent.recorded_by == staff
    assert "Vendor letter 1 Dec" in client_staff.get(url).content.decode()
    assert client_b.get(url).status_code in (403, 404)


def test_the_api_refuses_without_consent_and_records_it_from_a_staff_key(
    unconsented, api_a, api_staff
):
    url = f"/api/v1/work-orders/{unconsented.pk}/redemptions/"
    body = {
        "service": "workshops",
        "quantity": "5",
        "scheduled_for": days(30).isoformat(),
        "delivery_mode": "per_participant",
    }
    r = api_a.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="c1")
    assert r.status_code == 400 and "written consent" in r.content.decode()
    r = api_a.post(
        url, {**body, "vendor_consent": "mine"}, format="json", HTTP_IDEMPOTENCY_KEY="c2"
    )
    assert r.status_code == 403
    r = api_staff.post(
        url,
        {**body, "vendor_consent": "Vendor mail MS-4711"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="c3",
    )
    assert r.status_code == 201, r.content
    assert r.json()["consent"]["reference"] == "Vendor mail MS-4711"
    assert r.json()["consent"]["recorded_at"]
    # Then the customer's key books under it.
    r = api_a.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="c4")
    assert r.status_code == 201 and r.json()["consent"]["reference"] == "Vendor mail MS-4711"


def test_the_admin_records_a_consent_through_the_service(unconsented, client, staff):
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    r = client.post(
        reverse("admin:credits_vendorconsent_add"),
        {
            "work_order": unconsented.pk,
            "service": f.service("workshops").pk,
            "reference": "Vendor mail in admin",
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    consent = unconsented.vendor_consents.get()
    assert consent.recorded_by == staff
    r = client.post(
        reverse("admin:credits_vendorconsent_add"),
        {"work_order": unconsented.pk, "service": f.service("chalk-talks").pk, "reference": "x"},
    )
    assert r.status_code == 200 and "without the vendor" in r.content.decode()
    assert unconsented.vendor_consents.count() == 1
