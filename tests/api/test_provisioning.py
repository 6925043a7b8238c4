"""API.md Revision 2, provisioning: customers PATCH, support locations, every editor field
of a work order, line endpoints, contact edits and invitations, renewal (#16, #18)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from contracts.models import ContactInvitation, NamedContact, WorkOrder
from tests import factories as f

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


# --- customers ------------------------------------------------------------------------------


def test_staff_patch_a_customer_with_a_version(api_staff, customer_a):
    url = f"/api/v1/customers/{customer_a.code}/"
    body = api_staff.get(url).json()
    assert body["version"] == 1 and body["updated_at"].endswith("Z")
    r = api_staff.patch(
        url, {"name": "Acme Holding", "country": "BE"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert r.status_code == 200, r.json()
    assert r.json()["name"] == "Acme Holding" and r.json()["version"] == 2
    # A stale version is 412; nothing changes.
    r = api_staff.patch(url, {"name": "Stale"}, format="json", HTTP_IF_MATCH='"1"')
    assert r.status_code == 412
    customer_a.refresh_from_db()
    assert customer_a.name == "Acme Holding"


@pytest.mark.parametrize(
    "body,field",
    [
        ({"country": "Netherlands"}, "country"),  # free text is never a country
        ({"country": "XX"}, "country"),
        ({"timezone": "Amsterdam"}, "timezone"),
        ({"code": "new"}, "code"),  # the code never changes
        ({"colour": "red"}, "colour"),  # unknown fields are named
    ],
)
def test_a_bad_customer_patch_is_a_400_naming_the_field(api_staff, customer_a, body, field):
    r = api_staff.patch(f"/api/v1/customers/{customer_a.code}/", body, format="json")
    assert r.status_code == 400 and field in r.json(), r.json()
    customer_a.refresh_from_db()
    assert customer_a.version == 1


def test_customer_keys_cannot_patch_customers(api_a, customer_a, customer_b):
    for code in (customer_a.code, customer_b.code):
        r = api_a.patch(f"/api/v1/customers/{code}/", {"name": "x"}, format="json")
        assert r.status_code in (403, 404)


# --- support locations -----------------------------------------------------------------------


def test_staff_create_and_edit_a_location_with_hours_and_closures(api_staff, customer_a):  # R5
    body = {
        "name": "Rotterdam",
        "country": "NL",
        "timezone": "Europe/Amsterdam",
        "business_hours": {d: {"open": "08:00", "close": "16:00"} for d in ("mon", "tue", "wed")},
        "closures": ["2027-03-01"],
    }
    r = api_staff.post(f"/api/v1/customers/{customer_a.code}/locations/", body, format="json")
    assert r.status_code == 201, r.json()
    loc = r.json()
    assert loc["business_hours"] == {
        d: {"open": "08:00", "close": "16:00"} for d in ("mon", "tue", "wed")
    }
    assert loc["closures"] == ["2027-03-01"]
    r = api_staff.patch(
        f"/api/v1/locations/{loc['id']}/",
        {
            "closures": ["2027-03-02"],
            "business_hours": {"fri": {"open": "09:00", "close": "17:00"}},
        },
        format="json",
    )
    assert r.status_code == 200, r.json()
    assert r.json()["closures"] == ["2027-03-02"]
    assert r.json()["business_hours"] == {"fri": {"open": "09:00", "close": "17:00"}}
    assert r.json()["calendar_version"] > loc["calendar_version"]
    listed = api_staff.get(f"/api/v1/customers/{customer_a.code}/locations/").json()
    assert loc["id"] in [x["id"] for x in listed["results"]]


def test_a_location_that_closes_before_it_opens_is_a_400(api_staff, customer_a):  # R5
    body = {
        "name": "X",
        "country": "NL",
        "timezone": "Europe/Amsterdam",
        "business_hours": {"mon": {"open": "17:00", "close": "09:00"}},
    }
    r = api_staff.post(f"/api/v1/customers/{customer_a.code}/locations/", body, format="json")
    assert r.status_code == 400 and "business_hours" in r.json()


def test_a_location_of_another_customer_cannot_serve_a_work_order(
    api_staff, work_order_a, customer_b
):
    other = f.SupportLocationFactory(customer=customer_b)
    r = api_staff.patch(
        f"/api/v1/work-orders/{work_order_a.pk}/", {"support_location": other.pk}, format="json"
    )
    assert r.status_code == 400 and "support_location" in r.json()
    work_order_a.refresh_from_db()
    assert work_order_a.support_location_id != other.pk


def test_customer_keys_do_not_reach_locations(api_a, api_b, work_order_a):
    loc = work_order_a.support_location
    assert api_b.get(f"/api/v1/locations/{loc.pk}/").status_code in (403, 404)
    assert (
        api_a.patch(f"/api/v1/locations/{loc.pk}/", {"name": "x"}, format="json").status_code == 403
    )
    assert api_b.get(f"/api/v1/customers/{work_order_a.customer.code}/locations/").status_code in (
        403,
        404,
    )


# --- work orders: every field of the editor, R9 by API alone -----------------------------


def test_a_patch_sets_every_editor_field(api_staff, work_order_a, staff):
    r = api_staff.patch(
        f"/api/v1/work-orders/{work_order_a.pk}/",
        {
            "deployment_docs_on_file": True,
            "cloud_subscription_active": True,
            "cancellation_fee_percent": "50.00",
            "products": ["Azure SQL", "Exchange Online"],
            "account_manager": staff.username,
        },
        format="json",
    )
    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["deployment_docs_on_file"] and body["cloud_subscription_active"]
    assert body["products"] == ["Azure SQL", "Exchange Online"]
    assert body["cancellation_fee_percent"] == "50.00"
    work_order_a.refresh_from_db()
    assert work_order_a.products == "Azure SQL\nExchange Online"


def test_a_work_order_provisioned_by_api_alone_gets_rapid_response(api_staff, staff):  # R9
    r = api_staff.post(
        "/api/v1/customers/",
        {"code": "initech", "name": "Initech", "country": "NL", "timezone": "Europe/Amsterdam"},
        format="json",
    )
    assert r.status_code == 201, r.json()
    r = api_staff.post(
        "/api/v1/customers/initech/locations/",
        {"name": "HQ", "country": "NL", "timezone": "Europe/Amsterdam"},
        format="json",
    )
    assert r.status_code == 201, r.json()
    location = r.json()["id"]
    r = api_staff.post(
        "/api/v1/work-orders/",
        {
            "number": "WO-INI-1",
            "customer": "initech",
            "package": "performance",
            "start_date": (TODAY - dt.timedelta(days=5)).isoformat(),
            "end_date": (TODAY + dt.timedelta(days=360)).isoformat(),
            "support_location": location,
            "deployment_docs_on_file": True,
            "products": ["Azure App Service"],
            "lines": [{"service": "proactive-credits", "quantity": "1000"}],
        },
        format="json",
    )
    assert r.status_code == 201, r.json()
    wo = r.json()["id"]
    r = api_staff.post(
        f"/api/v1/work-orders/{wo}/lines/",
        {"service": "rapid-response", "quantity": "1"},
        format="json",
    )
    assert r.status_code == 201, r.json()
    r = api_staff.post(
        f"/api/v1/work-orders/{wo}/contacts/",
        {"email": "ops@initech.example", "name": "Ops"},
        format="json",
    )
    assert r.status_code == 201, r.json()
    r = api_staff.post(
        "/api/v1/incidents/",
        {
            "work_order": wo,
            "contact": "ops@initech.example",
            "title": "Site down",
            "description": "All regions",
            "severity": "critical",
            "product": "Azure App Service",
            "is_cloud": True,
        },
        format="json",
    )
    assert r.status_code == 201, r.json()
    from incidents.models import Incident

    incident = Incident.objects.get(pk=r.json()["id"])
    assert incident.response_due_at - incident.opened_at == dt.timedelta(minutes=15)


# --- lines ------------------------------------------------------------------------------


def test_line_endpoints_add_change_and_remove_one_line(api_staff, work_order_a):
    url = f"/api/v1/work-orders/{work_order_a.pk}/lines/"
    r = api_staff.post(url, {"service": "dse", "quantity": "100"}, format="json")
    assert r.status_code == 201, r.json()
    line = r.json()
    assert line["ends_on"] == work_order_a.end_date.isoformat()  # R13
    r = api_staff.patch(f"{url}{line['id']}/", {"quantity": "150"}, format="json")
    assert r.status_code == 200 and r.json()["quantity"] == "150.00"
    assert [x["service"] for x in api_staff.get(url).json()["results"]] == ["dse"]
    assert api_staff.delete(f"{url}{line['id']}/").status_code == 204
    assert work_order_a.lines.count() == 0


def test_a_digital_advisory_line_of_137_hours_is_refused(api_staff, work_order_a):  # R26
    url = f"/api/v1/work-orders/{work_order_a.pk}/lines/"
    r = api_staff.post(url, {"service": "digital-advisory", "quantity": "137"}, format="json")
    assert r.status_code == 400 and "R26" in str(r.json())
    r = api_staff.post(url, {"service": "digital-advisory", "quantity": "400"}, format="json")
    assert r.status_code == 201, r.json()


def test_line_ids_of_another_work_order_are_404(api_staff, work_order_a, work_order_b):
    other = f.WorkOrderLineFactory(
        work_order=work_order_b, service=f.service("onsite-support"), quantity=Decimal(2)
    )
    url = f"/api/v1/work-orders/{work_order_a.pk}/lines/{other.pk}/"
    assert api_staff.patch(url, {"quantity": "3"}, format="json").status_code == 404
    assert api_staff.delete(url).status_code == 404


def test_customer_keys_cannot_write_lines(api_a, api_b, work_order_a):
    url = f"/api/v1/work-orders/{work_order_a.pk}/lines/"
    assert api_a.post(url, {"service": "dse", "quantity": "10"}, format="json").status_code == 403
    assert api_b.get(url).status_code == 404


# --- contacts: edit, deactivate (R25), invite --------------------------------------------


def test_deactivating_a_contact_keeps_its_history_and_twice_is_409(api_staff, contact_a):  # R25
    url = f"/api/v1/work-orders/{contact_a.work_order_id}/contacts/{contact_a.pk}/"
    r = api_staff.patch(url, {"active": False}, format="json")
    assert r.status_code == 200 and r.json()["active"] is False
    contact_a.refresh_from_db()
    assert NamedContact.objects.filter(pk=contact_a.pk).exists()
    assert contact_a.history.count() >= 2
    r = api_staff.patch(url, {"active": False}, format="json")
    assert r.status_code == 409 and "already deactivated" in str(r.json())


def test_a_contact_patch_refuses_unknown_fields_and_stale_versions(api_staff, contact_a):
    url = f"/api/v1/work-orders/{contact_a.work_order_id}/contacts/{contact_a.pk}/"
    assert api_staff.patch(url, {"shoe_size": 44}, format="json").status_code == 400
    r = api_staff.patch(url, {"phone": "+31 10"}, format="json", HTTP_IF_MATCH='"99"')
    assert r.status_code == 412


def test_contacts_of_another_customer_are_404(api_a, contact_b, work_order_a):
    assert (
        api_a.get(
            f"/api/v1/work-orders/{contact_b.work_order_id}/contacts/{contact_b.pk}/"
        ).status_code
        == 404
    )
    assert (
        api_a.get(f"/api/v1/work-orders/{work_order_a.pk}/contacts/{contact_b.pk}/").status_code
        == 404
    )
    r = api_a.post(f"/api/v1/work-orders/{contact_b.work_order_id}/contacts/{contact_b.pk}/invite/")
    assert r.status_code == 404


def test_an_invitation_mails_a_one_time_link_and_a_resend_replaces_it(api_staff, work_order_a):
    contact = f.NamedContactFactory(work_order=work_order_a, email="new@acme.example")
    url = f"/api/v1/work-orders/{work_order_a.pk}/contacts/{contact.pk}/invite/"
    r = api_staff.post(url)
    assert r.status_code == 201, r.json()
    assert r.json()["email"] == "new@acme.example"
    r = api_staff.post(url)
    assert r.status_code == 201
    invitations = ContactInvitation.objects.filter(contact=contact)
    assert invitations.count() == 2
    assert invitations.filter(revoked_at__isnull=True).count() == 1


def test_an_invitation_for_a_deactivated_contact_is_409(api_staff, contact_a):
    contact_a.active = False
    contact_a.save()
    r = api_staff.post(
        f"/api/v1/work-orders/{contact_a.work_order_id}/contacts/{contact_a.pk}/invite/"
    )
    assert r.status_code == 409
    assert not mail.outbox


# --- renewal --------------------------------------------------------------------------------


def test_renewal_by_api_copies_lines_contacts_and_location(api_staff, work_order_a, contact_a):
    f.WorkOrderLineFactory(
        work_order=work_order_a, service=f.service("onsite-support"), quantity=Decimal(2)
    )
    r = api_staff.post(
        f"/api/v1/work-orders/{work_order_a.pk}/renew/",
        {"quantities": {"onsite-support": "5"}},
        format="json",
    )
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["renewed_from"] == work_order_a.pk
    assert body["start_date"] == (work_order_a.end_date + dt.timedelta(days=1)).isoformat()
    assert [(x["service"], x["quantity"]) for x in body["lines"]] == [("onsite-support", "5.00")]
    new = WorkOrder.objects.get(pk=body["id"])
    assert new.support_location_id == work_order_a.support_location_id
    assert list(new.contacts.values_list("email", flat=True)) == [contact_a.email]
    # Renewed once.
    r = api_staff.post(f"/api/v1/work-orders/{work_order_a.pk}/renew/", {}, format="json")
    assert r.status_code == 409


def test_customer_keys_cannot_renew(api_a, api_b, work_order_a):
    assert (
        api_a.post(f"/api/v1/work-orders/{work_order_a.pk}/renew/", {}, format="json").status_code
        == 403
    )
    assert api_b.post(
        f"/api/v1/work-orders/{work_order_a.pk}/renew/", {}, format="json"
    ).status_code in (403, 404)
