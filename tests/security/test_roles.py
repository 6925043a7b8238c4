"""Staff roles: administrators and account managers edit, read-only staff only read,
in the UI and the API alike (accounts.permissions, portal.middleware)."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts import permissions as perms
from accounts.authentication import ApiKeyActor
from accounts.choices import Role
from tests import factories as f


@pytest.fixture
def read_only_staff(db):
    return f.StaffFactory(username="rita", role=Role.READ_ONLY)


@pytest.fixture
def administrator(db):
    return f.StaffFactory(username="ada", role=Role.ADMINISTRATOR)


@pytest.fixture
def client_read_only(read_only_staff):
    c = Client()
    c.force_login(read_only_staff)
    return c


@pytest.fixture
def api_read_only(read_only_staff):
    c = APIClient()
    c.force_login(read_only_staff)
    return c


def test_only_administrators_and_account_managers_may_edit(
    staff, administrator, read_only_staff, user_a
):
    assert perms.can_edit(staff) and perms.can_edit(administrator)
    assert not perms.can_edit(read_only_staff)
    assert not perms.can_edit(user_a)  # customers act for themselves, they do not edit contracts
    assert perms.can_act_for_customer(user_a) and not perms.can_act_for_customer(read_only_staff)
    assert perms.can_administer(administrator) and not perms.can_administer(staff)
    assert not perms.can_edit(None)


def test_staff_api_keys_edit_and_customer_keys_do_not(key_staff, key_a):
    assert perms.can_edit(ApiKeyActor(key_staff))
    assert not perms.can_edit(ApiKeyActor(key_a)) and perms.can_act_for_customer(ApiKeyActor(key_a))


def test_a_superuser_without_a_role_may_edit(db):
    boss = f.StaffFactory(username="root", is_superuser=True, role=Role.READ_ONLY)
    assert perms.can_edit(boss)


def test_read_only_staff_can_read_pages_and_the_api(client_read_only, api_read_only, work_order_a):
    assert client_read_only.get("/").status_code == 200
    assert client_read_only.get("/ops/").status_code == 200
    response = api_read_only.get("/api/v1/work-orders/")
    assert response.status_code == 200
    assert work_order_a.number in response.content.decode()


def test_read_only_staff_cannot_post_anything_in_the_ui(client_read_only, work_order_a, contact_a):
    from django.urls import reverse

    incident = f.IncidentFactory(work_order=work_order_a, contact=contact_a)
    paths = [
        "/",
        f"/work-orders/{work_order_a.pk}/",
        "/incidents/",
        reverse("contracts:work_order_edit", args=[work_order_a.pk]),
        reverse("contracts:line_add", args=[work_order_a.pk]),
        reverse("credits:redeem", args=[work_order_a.pk]),
        reverse("incidents:comment", args=[incident.pk]),
        reverse("incidents:severity", args=[incident.pk]),
        reverse("incidents:respond", args=[incident.pk]),
    ]
    for path in paths:
        assert (
            client_read_only.post(path, {"title": "x", "body": "x", "notes": "x"}).status_code
            == 403
        ), path
    assert not incident.events.exists()


def test_read_only_staff_cannot_write_through_the_api(api_read_only, work_order_a, contact_a):
    attempts = [
        (
            "post",
            "/api/v1/incidents/",
            {
                "work_order": work_order_a.pk,
                "contact": contact_a.email,
                "title": "x",
                "severity": "normal",
            },
        ),
        ("patch", f"/api/v1/work-orders/{work_order_a.pk}/", {"low_credit_threshold": 1}),
        (
            "post",
            f"/api/v1/work-orders/{work_order_a.pk}/redemptions/",
            {"service": "workshops", "quantity": "1"},
        ),
        (
            "post",
            "/api/v1/customers/",
            {"code": "newco", "name": "New Co", "country": "NL", "timezone": "Europe/Amsterdam"},
        ),
    ]
    for method, path, body in attempts:
        response = getattr(api_read_only, method)(path, body, format="json")
        assert response.status_code == 403, (path, response.status_code, response.content[:200])
    work_order_a.refresh_from_db()
    assert work_order_a.low_credit_threshold is None


def test_read_only_staff_may_still_log_out_and_change_language(client_read_only):
    assert client_read_only.post("/i18n/setlang/", {"language": "nl"}).status_code == 302
    assert client_read_only.post("/accounts/logout/").status_code == 302


def test_the_drf_permission_class_refuses_read_only_staff_writes_only(
    rf, read_only_staff, staff, user_a
):
    permission = perms.IsStaffEditorOrReadOnly()
    for user, method, allowed in [
        (read_only_staff, "get", True),
        (read_only_staff, "post", False),
        (staff, "post", True),
        (user_a, "post", True),
    ]:
        request = getattr(rf, method)("/api/v1/x/")
        request.user = user
        assert permission.has_permission(request, None) is allowed, (user, method)
