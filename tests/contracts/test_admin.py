"""Django admin for account managers: pages load with bounded queries, and saves keep the rules."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import ApiKey, User
from contracts import services as s
from contracts.models import NamedContact, WorkOrder, WorkOrderLine
from tests import factories as f

TODAY = timezone.localdate()


@pytest.fixture
def admin_staff(db):
    return f.StaffFactory(username="root-am", is_superuser=True)


@pytest.fixture
def admin_client(client, admin_staff):
    client.force_login(admin_staff)
    return client


def form_data(response) -> dict:
    """The POST body a browser would send back for an admin change form, as rendered."""
    data = {}

    def add(form):
        for bound in form:
            value = bound.value()
            if value is None:
                value = ""
            if isinstance(value, bool):
                if value:
                    data[bound.html_name] = "on"
                continue
            if isinstance(value, list | tuple):
                value = [str(v) for v in value]
            data[bound.html_name] = value if isinstance(value, list) else str(value)

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        add(formset.management_form)
        for form in formset.forms:
            add(form)
    return data


def make_busy_data(n=8):
    # Users made without a password: hashing one costs ~0.5 s, and the list needs none.
    staff = User.objects.create(username="busy-am", is_staff=True)
    for i in range(n):
        customer = f.CustomerFactory(code=f"c{i}")
        wo = s.work_order_create(
            customer=customer,
            number=f"WO-{i}",
            package="advanced",
            start_date=TODAY - dt.timedelta(days=5),
            end_date=TODAY + dt.timedelta(days=300),
            account_manager=staff,
            support_location=f.SupportLocationFactory(customer=customer),
        )
        s.work_order_line_add(work_order=wo, service="dse", quantity=100)
        s.work_order_line_add(work_order=wo, service="onsite-support", quantity=3)
        for j in range(3):
            s.named_contact_add(work_order=wo, name=f"P{i}{j}", email=f"p{i}{j}@x.example")
        f.ApiKeyFactory(customer=customer, created_by=staff)
        User.objects.create(username=f"user-c{i}", email=f"u{i}@x.example", customer=customer)


CHANGELISTS = [
    "admin:contracts_customer_changelist",
    "admin:contracts_supportlocation_changelist",
    "admin:contracts_workorder_changelist",
    "admin:contracts_namedcontact_changelist",
    "admin:contracts_workorderline_changelist",
    "admin:services_service_changelist",
    "admin:accounts_user_changelist",
    "admin:accounts_apikey_changelist",
]


@pytest.mark.parametrize("name", CHANGELISTS)
def test_changelists_load_for_staff_with_bounded_queries(
    admin_client, django_assert_max_num_queries, name
):
    make_busy_data()
    url = reverse(name)
    with django_assert_max_num_queries(8):  # measured 5-7 with 8 work orders
        response = admin_client.get(url)
    assert response.status_code == 200
    # The search box works too.
    assert admin_client.get(url, {"q": "c1"}).status_code == 200


def test_work_order_change_page_loads_with_bounded_queries(
    admin_client, django_assert_max_num_queries
):
    make_busy_data(1)
    wo = WorkOrder.objects.get()
    with django_assert_max_num_queries(40):
        response = admin_client.get(reverse("admin:contracts_workorder_change", args=[wo.pk]))
    assert response.status_code == 200
    assert (
        admin_client.get(reverse("admin:contracts_workorder_history", args=[wo.pk])).status_code
        == 200
    )


def test_work_order_status_filter(admin_client, customer_a):
    s.work_order_create(
        customer=customer_a,
        number="OLD",
        package="core",
        start_date=TODAY - dt.timedelta(days=400),
        end_date=TODAY - dt.timedelta(days=20),
    )
    s.work_order_create(
        customer=customer_a,
        number="NOW",
        package="core",
        start_date=TODAY - dt.timedelta(days=10),
        end_date=TODAY + dt.timedelta(days=20),
    )
    response = admin_client.get(
        reverse("admin:contracts_workorder_changelist"), {"status": "expired"}
    )
    assert [wo.number for wo in response.context["cl"].result_list] == ["OLD"]


def core_work_order_with_ten_contacts(customer):
    wo = s.work_order_create(
        customer=customer,
        number="WO-CORE",
        package="core",
        start_date=TODAY - dt.timedelta(days=5),
        end_date=TODAY + dt.timedelta(days=300),
    )
    for i in range(10):
        s.named_contact_add(work_order=wo, name=f"P{i}", email=f"p{i}@acme.example")
    return wo


def test_admin_add_of_an_eleventh_core_contact_is_refused(admin_client, customer_a):  # R1
    wo = core_work_order_with_ten_contacts(customer_a)
    response = admin_client.post(
        reverse("admin:contracts_namedcontact_add"),
        {
            "work_order": wo.pk,
            "name": "Eleven",
            "email": "eleven@acme.example",
            "phone": "",
            "active": "on",
        },
    )
    assert response.status_code == 200
    assert "R1" in str(response.context["adminform"].form.errors)
    assert NamedContact.objects.filter(work_order=wo).count() == 10


def test_admin_inline_eleventh_core_contact_is_refused(admin_client, customer_a):  # R1
    wo = core_work_order_with_ten_contacts(customer_a)
    url = reverse("admin:contracts_workorder_change", args=[wo.pk])
    data = form_data(admin_client.get(url))
    data["contacts-TOTAL_FORMS"] = "11"
    data.update(
        {
            "contacts-10-name": "Eleven",
            "contacts-10-email": "eleven@acme.example",
            "contacts-10-active": "on",
        }
    )
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "R1" in str(response.context["inline_admin_formsets"][1].formset.non_form_errors())
    assert NamedContact.objects.filter(work_order=wo).count() == 10


def test_admin_can_add_an_inactive_contact_beyond_the_limit(admin_client, customer_a):  # R1
    wo = core_work_order_with_ten_contacts(customer_a)
    response = admin_client.post(
        reverse("admin:contracts_namedcontact_add"),
        {"work_order": wo.pk, "name": "Spare", "email": "Spare@Acme.example", "phone": ""},
    )
    assert response.status_code == 302
    spare = NamedContact.objects.get(work_order=wo, name="Spare")
    assert spare.email == "spare@acme.example" and not spare.active


def test_admin_line_below_bounds_needs_an_override(admin_client, admin_staff, work_order_a):  # R12
    url = reverse("admin:contracts_workorder_change", args=[work_order_a.pk])
    data = form_data(admin_client.get(url))
    data["lines-TOTAL_FORMS"] = "1"
    dev = f.service("developer-advanced")
    data.update(
        {"lines-0-service": str(dev.pk), "lines-0-quantity": "200", "lines-0-override_reason": ""}
    )
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "320" in str(response.context["inline_admin_formsets"][0].formset.errors)
    assert WorkOrderLine.objects.filter(work_order=work_order_a).count() == 0

    data.update({"lines-0-bounds_override": "on", "lines-0-override_reason": "Pilot"})
    response = admin_client.post(url, data)
    assert response.status_code == 302, (
        response.context and response.context["inline_admin_formsets"][0].formset.errors
    )
    line = WorkOrderLine.objects.get(work_order=work_order_a)
    assert (
        line.quantity == Decimal("200") and line.bounds_override and line.override_by == admin_staff
    )
    assert line.history.first().history_user == admin_staff


def test_admin_refuses_an_included_service_line(admin_client, work_order_a):  # R12
    url = reverse("admin:contracts_workorder_change", args=[work_order_a.pk])
    data = form_data(admin_client.get(url))
    data["lines-TOTAL_FORMS"] = "1"
    data.update({"lines-0-service": str(f.service("advisory-support").pk), "lines-0-quantity": "1"})
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "included" in str(response.context["inline_admin_formsets"][0].formset.errors)
    assert work_order_a.lines.count() == 0


def test_admin_term_change_moves_dse_and_records_the_user(
    admin_client, admin_staff, work_order_a
):  # R13, R25
    line = s.work_order_line_add(work_order=work_order_a, service="dse", quantity=100)
    url = reverse("admin:contracts_workorder_change", args=[work_order_a.pk])
    data = form_data(admin_client.get(url))
    new_end = work_order_a.end_date + dt.timedelta(days=30)
    data["end_date"] = new_end.isoformat()
    # R14: an extension with unused hours asks what happens to them first.
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "unused_entitlements" in response.context["adminform"].form.errors
    data["unused_entitlements"] = "keep"
    data["extension_reason"] = "agreed with the customer"
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    work_order_a.refresh_from_db()
    line.refresh_from_db()
    assert work_order_a.end_date == new_end and line.ends_on == new_end
    assert work_order_a.history.first().history_user == admin_staff


def test_admin_term_end_before_start_is_a_form_error(admin_client, work_order_a):
    url = reverse("admin:contracts_workorder_change", args=[work_order_a.pk])
    data = form_data(admin_client.get(url))
    data["end_date"] = (work_order_a.start_date - dt.timedelta(days=1)).isoformat()
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "end_date" in response.context["adminform"].form.errors


def test_admin_stale_work_order_form_is_refused(admin_client, staff, work_order_a):
    url = reverse("admin:contracts_workorder_change", args=[work_order_a.pk])
    data = form_data(admin_client.get(url))
    s.work_order_update(work_order=work_order_a, notes="someone else", by=staff)
    data["notes"] = "mine"
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "changed by someone else" in str(response.context["adminform"].form.errors)
    work_order_a.refresh_from_db()
    assert work_order_a.notes == "someone else"


def test_admin_core_limit_cannot_be_raised(admin_client, customer_a):  # R1
    wo = core_work_order_with_ten_contacts(customer_a)
    url = reverse("admin:contracts_workorder_change", args=[wo.pk])
    data = form_data(admin_client.get(url))
    data["named_contact_limit"] = "20"
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "named_contact_limit" in response.context["adminform"].form.errors


def test_admin_api_key_add_shows_the_key_once_and_stores_the_hash(
    admin_client, admin_staff, customer_a
):
    response = admin_client.post(
        reverse("admin:accounts_apikey_add"),
        {"name": "Jira", "customer": customer_a.pk},
        follow=True,
    )
    assert response.status_code == 200
    text = " ".join(str(m) for m in response.context["messages"])
    raw = next(word for word in text.split() if word.startswith("sp_"))
    assert raw in response.content.decode()  # shown once, on the page after saving
    key = ApiKey.objects.get()
    assert key.key_hash == ApiKey.hash_key(raw) and key.created_by == admin_staff
    follow = admin_client.get(reverse("admin:accounts_apikey_change", args=[key.pk]))
    assert raw not in follow.content.decode()


def test_admin_revoke_action(admin_client, key_a):
    response = admin_client.post(
        reverse("admin:accounts_apikey_changelist"),
        {"action": "revoke", "_selected_action": [key_a.pk]},
    )
    assert response.status_code == 302
    key_a.refresh_from_db()
    assert key_a.revoked_at is not None


def test_admin_service_code_is_read_only(admin_client, admin_staff):
    dse = f.service("dse")
    url = reverse("admin:services_service_change", args=[dse.pk])
    data = form_data(admin_client.get(url))
    data["code"] = "renamed"
    data["notes"] = "Edited"
    response = admin_client.post(url, data)
    assert response.status_code == 302
    dse.refresh_from_db()
    assert dse.code == "dse" and dse.notes == "Edited"
    assert dse.history.first().history_user == admin_staff


def test_admin_location_add_copies_holidays(admin_client, customer_a):  # R5
    response = admin_client.post(
        reverse("admin:contracts_supportlocation_add"),
        {
            "customer": customer_a.pk,
            "name": "Antwerp",
            "country": "BE",
            "subdivision": "",
            "timezone": "Europe/Brussels",
            "opens_at": "09:00",
            "closes_at": "17:30",
            "weekdays": "0,1,2,3,4",
            "closure_days-TOTAL_FORMS": "0",
            "closure_days-INITIAL_FORMS": "0",
            "closure_days-MIN_NUM_FORMS": "0",
            "closure_days-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 302, (
        response.context and response.context["adminform"].form.errors
    )
    location = customer_a.locations.get(name="Antwerp")
    assert location.closure_days.filter(
        date=dt.date(TODAY.year, 7, 21)
    ).exists()  # Belgian national day


@pytest.mark.parametrize(
    "name",
    [
        "admin:contracts_customer_add",
        "admin:contracts_supportlocation_add",
        "admin:contracts_workorder_add",
        "admin:contracts_namedcontact_add",
        "admin:services_service_add",
        "admin:accounts_user_add",
        "admin:accounts_apikey_add",
    ],
)
def test_add_pages_load(admin_client, name):
    assert admin_client.get(reverse(name)).status_code == 200


def test_a_rule_failing_at_save_time_writes_nothing_and_says_why(admin_client, work_order_a):  # R11
    line = s.work_order_line_add(work_order=work_order_a, service="dse", quantity=100)
    WorkOrderLine.objects.filter(pk=line.pk).update(used=5)
    url = reverse("admin:contracts_workorder_change", args=[work_order_a.pk])
    data = form_data(admin_client.get(url))
    data["notes"] = "changed in the same submit"
    data["lines-0-DELETE"] = "on"
    response = admin_client.post(url, data, follow=True)
    assert "cannot be removed" in " ".join(str(m) for m in response.context["messages"])
    work_order_a.refresh_from_db()
    assert (
        work_order_a.lines.count() == 1 and work_order_a.notes == ""
    )  # the whole submit rolled back


def test_admin_add_work_order_takes_the_package_default_limit(
    admin_client, customer_a, admin_staff
):  # R1
    response = admin_client.post(
        reverse("admin:contracts_workorder_add"),
        {
            "number": "WO-NEW",
            "customer": customer_a.pk,
            "package": "core",
            "start_date": TODAY.isoformat(),
            "end_date": (TODAY + dt.timedelta(days=365)).isoformat(),
            "named_contact_limit": "",
            "cancellation_fee_percent": "100",
            "version": "1",
            "lines-TOTAL_FORMS": "1",
            "lines-INITIAL_FORMS": "0",
            "lines-MIN_NUM_FORMS": "0",
            "lines-MAX_NUM_FORMS": "1000",
            "lines-0-service": str(f.service("proactive-credits").pk),
            "lines-0-quantity": "500",
            "contacts-TOTAL_FORMS": "1",
            "contacts-INITIAL_FORMS": "0",
            "contacts-MIN_NUM_FORMS": "0",
            "contacts-MAX_NUM_FORMS": "1000",
            "contacts-0-name": "Lead",
            "contacts-0-email": "Lead@Acme.example",
            "contacts-0-active": "on",
            "contacts-0-is_lead": "on",
        },
    )
    assert response.status_code == 302, response.context and [
        response.context["adminform"].form.errors,
        *[i.formset.errors for i in response.context["inline_admin_formsets"]],
    ]
    wo = WorkOrder.objects.get(number="WO-NEW")
    assert wo.named_contact_limit == 10
    assert wo.lines.get().quantity == 500
    assert wo.contacts.get().email == "lead@acme.example"
    assert wo.history.first().history_user == admin_staff
