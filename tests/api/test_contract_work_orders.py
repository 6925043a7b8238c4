"""API.md's work orders: `lines` writable on POST and PATCH; a `proactive-credits` line
of quantity N grants N credits, hour lines hold hours; R1, R12 and R13 are checked on
every write (400 or 409 naming the rule, and nothing written)."""

import datetime as dt

import pytest
from django.utils import timezone

from contracts.models import WorkOrder
from core.times import business_today
from tests import factories as f


def term(**extra):
    today = timezone.localdate()
    return {
        "customer": "acme",
        "start_date": str(today),
        "end_date": str(today + dt.timedelta(days=365)),
        **extra,
    }


def test_a_proactive_credits_line_of_n_grants_n_credits_on_patch_too(
    api_staff, work_order_a
):  # R10
    url = f"/api/v1/work-orders/{work_order_a.pk}/"
    credits = f"{url}credits/"
    api_staff.patch(
        url, {"lines": [{"service": "proactive-credits", "quantity": "120"}]}, format="json"
    )
    assert api_staff.get(credits).json()["balance"] == 120
    raised = api_staff.patch(
        url, {"lines": [{"service": "proactive-credits", "quantity": "150"}]}, format="json"
    )
    assert raised.status_code == 200, raised.content
    assert api_staff.get(credits).json()["balance"] == 150
    (line,) = raised.json()["lines"]
    assert (line["unit"], line["quantity"], line["remaining"]) == ("credits", "150.00", "150.00")


def test_hour_based_lines_hold_hours(api_staff, work_order_a):  # R11
    response = api_staff.patch(
        f"/api/v1/work-orders/{work_order_a.pk}/",
        {
            "lines": [
                {"service": "dse", "quantity": "40"},
                {"service": "developer-advanced", "quantity": "400"},
            ]
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    lines = {line["service"]: line for line in response.json()["lines"]}
    assert {line["unit"] for line in lines.values()} == {"hours"}
    assert (lines["dse"]["used"], lines["dse"]["remaining"]) == ("0.00", "40.00")


def test_r12_is_checked_when_a_work_order_is_created_with_lines(api_staff, customer_a):  # R12
    response = api_staff.post(
        "/api/v1/work-orders/",
        term(
            number="WO-DEV",
            package="core",
            lines=[{"service": "developer-advanced", "quantity": "400"}],
        ),
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["service"][0].startswith("R12")
    assert not WorkOrder.objects.filter(number="WO-DEV").exists()


def test_r12_is_checked_when_lines_are_patched(api_staff, work_order_a):  # R12
    response = api_staff.patch(
        f"/api/v1/work-orders/{work_order_a.pk}/",
        {"lines": [{"service": "developer-performance", "quantity": "900"}]},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["service"][0].startswith("R12")
    assert not work_order_a.lines.exists()


def test_r12_is_checked_when_the_package_is_patched(api_staff, work_order_a, staff):  # R12
    from contracts import services

    services.work_order_line_add(
        work_order=work_order_a, service=f.service("developer-advanced"), quantity=400, by=staff
    )
    response = api_staff.patch(
        f"/api/v1/work-orders/{work_order_a.pk}/", {"package": "core"}, format="json"
    )
    assert response.status_code == 400
    assert "R12" in str(response.json())
    assert WorkOrder.objects.get(pk=work_order_a.pk).package == "advanced"


@pytest.mark.midnight
def test_r13_dse_is_refused_on_a_work_order_that_is_not_current(api_staff, customer_a):  # R13
    today = business_today()
    ended = f.WorkOrderFactory(
        customer=customer_a,
        number="WO-ENDED",
        package="advanced",
        start_date=today - dt.timedelta(days=400),
        end_date=today - dt.timedelta(days=1),
    )
    response = api_staff.patch(
        f"/api/v1/work-orders/{ended.pk}/",
        {"lines": [{"service": "dse", "quantity": "10"}]},
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["rule"] == "R13"
    assert not ended.lines.exists()


def test_r1_is_checked_when_the_limit_is_patched(api_staff, customer_a):  # R1
    core = f.WorkOrderFactory(customer=customer_a, number="WO-CORE", package="core")
    response = api_staff.patch(
        f"/api/v1/work-orders/{core.pk}/", {"named_contact_limit": 11}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["named_contact_limit"][0].startswith("R1")


def test_r1_is_checked_when_the_package_is_patched(api_staff, work_order_a):  # R1
    for i in range(11):
        f.NamedContactFactory(work_order=work_order_a, email=f"c{i}@acme.example")
    response = api_staff.patch(
        f"/api/v1/work-orders/{work_order_a.pk}/", {"package": "core"}, format="json"
    )
    assert response.status_code == 409  # 11 active contacts, Core's limit is 10
    assert response.json()["rule"] == "R1"
    assert WorkOrder.objects.get(pk=work_order_a.pk).package == "advanced"


def test_a_customer_key_reads_its_work_orders_but_cannot_write_them(
    api_a, api_b, work_order_a, work_order_b
):
    assert [w["number"] for w in api_a.get("/api/v1/work-orders/").json()["results"]] == ["WO-A-1"]
    patch = api_a.patch(
        f"/api/v1/work-orders/{work_order_a.pk}/", {"named_contact_limit": 80}, format="json"
    )
    assert patch.status_code == 403
    post = api_a.post("/api/v1/work-orders/", term(number="WO-X", package="core"), format="json")
    assert post.status_code == 403
    assert api_b.get(f"/api/v1/work-orders/{work_order_a.pk}/").status_code == 404
