"""The Django admin honours staff roles through groups that follow User.role."""

import pytest
from django.contrib.auth.models import Group

from accounts.choices import Role
from tests import factories as f


@pytest.fixture
def manager_client(client, db):
    manager = f.StaffFactory(username="am-admin", role=Role.ACCOUNT_MANAGER)
    client.force_login(manager)
    return client


def test_an_account_manager_works_in_the_admin_without_being_superuser(
    manager_client, work_order_a
):
    assert manager_client.get("/admin/contracts/workorder/").status_code == 200
    assert (
        manager_client.get(f"/admin/contracts/workorder/{work_order_a.pk}/change/").status_code
        == 200
    )
    assert manager_client.get("/admin/contracts/workorder/add/").status_code == 200
    assert manager_client.get("/admin/incidents/incident/").status_code == 200


def test_an_account_manager_cannot_delete_work_orders_or_edit_the_ledger(
    manager_client, work_order_a
):
    assert (
        manager_client.get(f"/admin/contracts/workorder/{work_order_a.pk}/delete/").status_code
        == 403
    )
    assert manager_client.get("/admin/credits/creditentry/add/").status_code == 403


def test_read_only_staff_can_look_but_not_change(client, db, work_order_a):
    auditor = f.StaffFactory(username="auditor-x", role=Role.READ_ONLY)
    client.force_login(auditor)
    assert client.get("/admin/contracts/workorder/").status_code == 200
    assert client.get("/admin/contracts/workorder/add/").status_code == 403


def test_the_group_follows_a_role_change(db):
    user = f.StaffFactory(username="mover", role=Role.READ_ONLY)
    assert list(user.groups.values_list("name", flat=True)) == ["Read-only staff"]
    user.role = Role.ACCOUNT_MANAGER
    user.save()
    assert list(user.groups.values_list("name", flat=True)) == ["Account managers"]


def test_customer_contacts_belong_to_no_role_group(user_a):
    assert not user_a.groups.exists()
    assert Group.objects.filter(name="Account managers").exists()
