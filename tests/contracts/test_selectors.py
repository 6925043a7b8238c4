"""contracts.selectors and filtersets: scoped through visible_to, filtered, no N+1."""

import datetime as dt

import pytest
from django.http import QueryDict
from django.utils import timezone

from accounts.authentication import ApiKeyActor
from contracts import selectors
from contracts import services as s
from contracts.filtersets import WorkOrderFilterSet
from contracts.models import WorkOrder
from core.errors import RuleViolation
from tests import factories as f

TODAY = timezone.localdate()


@pytest.fixture
def orders(customer_a, customer_b, work_order_a, work_order_b):
    expired = s.work_order_create(
        customer=customer_a,
        number="WO-A-OLD",
        package="core",
        start_date=TODAY - dt.timedelta(days=400),
        end_date=TODAY - dt.timedelta(days=30),
    )
    future = s.work_order_create(
        customer=customer_b,
        number="WO-B-NEXT",
        package="performance",
        start_date=TODAY + dt.timedelta(days=30),
        end_date=TODAY + dt.timedelta(days=400),
        products="Azure SQL",
    )
    return {"a": work_order_a, "b": work_order_b, "expired": expired, "future": future}


def numbers(qs):
    return sorted(wo.number for wo in qs)


def test_customer_sees_only_its_own_work_orders(orders, user_a, key_b):
    assert numbers(selectors.work_order_list(actor=user_a)) == ["WO-A-1", "WO-A-OLD"]
    assert numbers(selectors.work_order_list(actor=ApiKeyActor(key_b))) == ["WO-B-1", "WO-B-NEXT"]


def test_staff_sees_all_and_anonymous_nothing(orders, staff):
    from django.contrib.auth.models import AnonymousUser

    assert len(selectors.work_order_list(actor=staff)) == 4
    assert list(selectors.work_order_list(actor=AnonymousUser())) == []
    assert list(selectors.work_order_list(actor=None)) == []


def test_work_order_detail_of_another_customer_is_not_found(orders, user_a):
    assert selectors.work_order_detail(actor=user_a, pk=orders["a"].pk).number == "WO-A-1"
    with pytest.raises(WorkOrder.DoesNotExist):
        selectors.work_order_detail(actor=user_a, pk=orders["b"].pk)


@pytest.mark.parametrize(
    "filters, expected",
    [
        ({"customer": "acme"}, ["WO-A-1", "WO-A-OLD"]),
        ({"package": "performance"}, ["WO-B-NEXT"]),
        ({"status": "expired"}, ["WO-A-OLD"]),
        ({"status": "draft"}, ["WO-B-NEXT"]),
        ({"status": ["active", "draft"]}, ["WO-A-1", "WO-B-1", "WO-B-NEXT"]),
        ({"number": "wo-b-1"}, ["WO-B-1"]),
        ({"start_date_after": (TODAY + dt.timedelta(days=1)).isoformat()}, ["WO-B-NEXT"]),
        ({"end_date_before": TODAY.isoformat()}, ["WO-A-OLD"]),
        ({"q": "azure"}, ["WO-B-NEXT"]),
        ({"q": "globex"}, ["WO-B-1", "WO-B-NEXT"]),
    ],
)
def test_work_order_filters(orders, staff, filters, expected):
    assert numbers(selectors.work_order_list(actor=staff, filters=filters)) == expected


def test_status_filter_works_without_the_annotation(orders):
    # The API may hand the FilterSet a plain queryset: it annotates what it needs.
    fs = WorkOrderFilterSet(QueryDict("status=expired"), queryset=WorkOrder.objects.all())
    assert numbers(fs.qs) == ["WO-A-OLD"]


def test_invalid_filter_is_a_rule_violation(orders, staff):
    with pytest.raises(RuleViolation) as exc:
        list(selectors.work_order_list(actor=staff, filters={"status": "sleeping"}))
    assert exc.value.field == "status"


def test_work_order_list_has_no_n_plus_one(staff, django_assert_max_num_queries):
    for i in range(6):
        wo = f.WorkOrderFactory(package="advanced")
        s.work_order_line_add(work_order=wo, service="dse", quantity=10)
        s.named_contact_add(work_order=wo, name=f"P{i}", email=f"p{i}@x.example")
    # Two, plus one for the zones in use (each row's own today, contracts.times).
    with django_assert_max_num_queries(3):
        rows = [
            (
                wo.customer.name,
                wo.support_location.name,
                wo.status_code,
                wo.active_contacts,
                [li.service.code for li in wo.lines.all()],
            )
            for wo in selectors.work_order_list(actor=staff)
        ]
    assert len(rows) == 6 and all(r[3] == 1 and r[4] == ["dse"] for r in rows)


def test_customer_list_is_scoped_and_searchable(
    customer_a, customer_b, staff, user_a, work_order_a
):
    assert [c.code for c in selectors.customer_list(actor=user_a)] == ["acme"]
    assert [c.code for c in selectors.customer_list(actor=staff, filters={"q": "glob"})] == [
        "globex"
    ]
    assert {c.code: c.work_order_count for c in selectors.customer_list(actor=staff)} == {
        "acme": 1,
        "globex": 0,
    }
