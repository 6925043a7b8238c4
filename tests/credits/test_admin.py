"""The admin shows the ledger read-only and changes things only through credits.services."""

from decimal import Decimal

import pytest
from django.contrib.admin.sites import site

from credits.models import CreditEntry, Rate, Redemption
from credits.services import credits_redeem
from tests import factories as f
from tests.credits.conftest import days, today


@pytest.fixture
def admin_client(client):
    root = f.StaffFactory(username="root", is_superuser=True)
    client.force_login(root)
    return client


def test_ledger_entries_cannot_be_added_changed_or_deleted_in_the_admin(funded, admin_client, rf):
    entry = CreditEntry.objects.get(work_order=funded)
    model_admin = site._registry[CreditEntry]
    request = rf.get("/")
    request.user = f.StaffFactory(username="root2", is_superuser=True)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, entry)
    assert not model_admin.has_delete_permission(request, entry)
    assert admin_client.get("/admin/credits/creditentry/").status_code == 200
    response = admin_client.post(f"/admin/credits/creditentry/{entry.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert CreditEntry.objects.filter(pk=entry.pk).exists()


def test_the_cancel_action_refunds_through_the_service(funded, admin_client):  # R16
    r = credits_redeem(
        work_order=funded, service=f.service("chalk-talks"), quantity=1, scheduled_for=days(30)
    )
    response = admin_client.post(
        "/admin/credits/redemption/", {"action": "cancel_redemptions", "_selected_action": [r.pk]}
    )
    assert response.status_code == 302
    assert Redemption.objects.get(pk=r.pk).status == "cancelled"
    assert r.entries.filter(kind="refund", amount=50).exists()


def test_adding_a_duplicate_rate_in_the_admin_shows_the_r10_error(rates, admin_client):  # R10
    workshops = f.service("workshops")
    data = {
        "service": workshops.pk,
        "customer": "",
        "credits_per_unit": "12",
        "valid_from": str(rates["workshops"].valid_from),
    }
    response = admin_client.post("/admin/credits/rate/add/", data)
    assert response.status_code == 200 and b"R10" in response.content
    data["valid_from"] = str(today())
    assert admin_client.post("/admin/credits/rate/add/", data).status_code == 302
    assert Rate.objects.get(service=workshops, valid_from=today()).credits_per_unit == Decimal("12")
