"""contracts.services: the rules R1, R12, R13, the term, versions and history (R25)."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from accounts.authentication import ApiKeyActor
from contracts import services as s
from contracts import signals
from contracts.models import (
    NamedContact,
    WorkOrder,
    WorkOrderLine,
)
from core.errors import Conflict, RuleViolation, StaleVersion
from tests import factories as f

TODAY = timezone.localdate()


def make_work_order(customer, package, number=None, **kwargs):
    # R13: DSE needs the work order's one support location.
    kwargs.setdefault("support_location", f.SupportLocationFactory(customer=customer))
    return s.work_order_create(
        customer=customer,
        number=number or f"WO-{package}-{WorkOrder.objects.count() + 1}",
        package=package,
        start_date=kwargs.pop("start_date", TODAY - dt.timedelta(days=10)),
        end_date=kwargs.pop("end_date", TODAY + dt.timedelta(days=355)),
        **kwargs,
    )


def add_contacts(work_order, n, start=0):
    for i in range(start, start + n):
        s.named_contact_add(work_order=work_order, name=f"Person {i}", email=f"p{i}@acme.example")


# --- R1 named contacts -------------------------------------------------------------------


def test_core_work_order_defaults_to_ten_contacts(customer_a):  # R1
    wo = make_work_order(customer_a, "core")
    assert wo.named_contact_limit == 10


def test_it_rejects_an_eleventh_core_contact(customer_a):  # R1
    wo = make_work_order(customer_a, "core")
    add_contacts(wo, 10)
    with pytest.raises(Conflict) as exc:
        s.named_contact_add(work_order=wo, name="Eleven", email="eleven@acme.example")
    assert exc.value.rule == "R1"
    assert "at most 10" in exc.value.message
    assert NamedContact.objects.filter(work_order=wo).count() == 10  # nothing written


def test_an_inactive_contact_does_not_count_but_reactivating_it_does(customer_a):  # R1
    wo = make_work_order(customer_a, "core")
    add_contacts(wo, 10)
    spare = s.named_contact_add(
        work_order=wo, name="Spare", email="spare@acme.example", active=False
    )
    with pytest.raises(Conflict) as exc:
        s.named_contact_update(contact=spare, active=True)
    assert exc.value.rule == "R1"
    spare.refresh_from_db()
    assert spare.active is False and spare.version == 1


def test_core_limit_cannot_be_raised_above_ten(customer_a, staff):  # R1
    wo = make_work_order(customer_a, "core")
    with pytest.raises(RuleViolation) as exc:
        s.work_order_update(work_order=wo, named_contact_limit=11, by=staff)
    assert exc.value.rule == "R1" and exc.value.field == "named_contact_limit"
    wo.refresh_from_db()
    assert wo.named_contact_limit == 10 and wo.version == 1


def test_advanced_limit_can_be_raised(customer_a, staff):  # R1
    wo = make_work_order(customer_a, "advanced")
    assert wo.named_contact_limit == 50
    add_contacts(wo, 50)
    with pytest.raises(Conflict):
        s.named_contact_add(work_order=wo, name="Fifty-one", email="p51@acme.example")
    s.work_order_update(work_order=wo, named_contact_limit=60, by=staff)
    s.named_contact_add(work_order=wo, name="Fifty-one", email="p51@acme.example")
    assert wo.contacts.filter(active=True).count() == 51


def test_advanced_limit_cannot_go_below_fifty(customer_a, staff):  # R1
    wo = make_work_order(customer_a, "advanced")
    with pytest.raises(RuleViolation) as exc:
        s.work_order_update(work_order=wo, named_contact_limit=40, by=staff)
    assert exc.value.rule == "R1"


def test_limit_cannot_be_lowered_below_the_active_contacts(customer_a, staff):  # R1
    wo = make_work_order(customer_a, "advanced", named_contact_limit=60)
    add_contacts(wo, 55)
    with pytest.raises(Conflict) as exc:
        s.work_order_update(work_order=wo, named_contact_limit=50, by=staff)
    assert exc.value.rule == "R1"
    wo.refresh_from_db()
    assert wo.named_contact_limit == 60


def test_a_customer_cannot_raise_its_own_limit(work_order_a, user_a):  # R1
    with pytest.raises(RuleViolation):
        s.work_order_update(work_order=work_order_a, named_contact_limit=80, by=user_a)


def test_performance_has_no_contact_limit(customer_a):  # R1
    wo = make_work_order(customer_a, "performance")
    assert wo.named_contact_limit is None
    add_contacts(wo, 60)
    assert wo.contacts.count() == 60


def test_downgrading_to_core_with_too_many_contacts_is_refused(customer_a, staff):  # R1
    wo = make_work_order(customer_a, "advanced")
    add_contacts(wo, 11)
    with pytest.raises(Conflict) as exc:
        s.work_order_update(work_order=wo, package="core", by=staff)
    assert exc.value.rule == "R1"
    wo.refresh_from_db()
    assert wo.package == "advanced"


def test_contact_email_is_normalised_and_unique_per_work_order(work_order_a):
    c = s.named_contact_add(work_order=work_order_a, name="Dana", email="  Dana@Acme.Example ")
    assert c.email == "dana@acme.example"
    with pytest.raises(RuleViolation) as exc:
        s.named_contact_add(work_order=work_order_a, name="Dana again", email="DANA@acme.example")
    assert exc.value.field == "email"


def test_contact_is_linked_to_the_customers_user_with_that_email(work_order_a, user_a, user_b):
    c = s.named_contact_add(work_order=work_order_a, name="Bob", email="BOB@acme.example")
    assert c.user == user_a
    # A user of another customer with the same address is never linked.
    other = s.named_contact_add(work_order=work_order_a, name="Charlie", email=user_b.email)
    assert other.user is None


# --- R12 lines -----------------------------------------------------------------------------


def test_included_service_needs_no_line(customer_a):  # R12
    wo = make_work_order(customer_a, "performance")
    with pytest.raises(RuleViolation) as exc:
        s.work_order_line_add(work_order=wo, service=f.service("sta"), quantity=1)
    assert exc.value.rule == "R12"
    assert "included in the Performance package" in exc.value.message
    assert wo.lines.count() == 0


def test_sta_is_an_add_on_in_advanced(customer_a):  # R12
    wo = make_work_order(customer_a, "advanced")
    line = s.work_order_line_add(work_order=wo, service="sta", quantity=1)
    assert line.unit == "units"


def test_developer_advanced_is_not_available_in_core(customer_a):  # R12
    wo = make_work_order(customer_a, "core")
    with pytest.raises(RuleViolation) as exc:
        s.work_order_line_add(work_order=wo, service=f.service("developer-advanced"), quantity=400)
    assert "not available with the Core package" in exc.value.message


@pytest.mark.parametrize("hours, ok", [(319, False), (320, True), (800, True), (801, False)])
def test_developer_advanced_needs_320_to_800_hours(customer_a, hours, ok):  # R12
    wo = make_work_order(customer_a, "advanced")
    if ok:
        line = s.work_order_line_add(
            work_order=wo, service=f.service("developer-advanced"), quantity=hours
        )
        assert line.quantity == hours and line.unit == "hours"
    else:
        with pytest.raises(RuleViolation) as exc:
            s.work_order_line_add(
                work_order=wo, service=f.service("developer-advanced"), quantity=hours
            )
        assert exc.value.rule == "R12" and exc.value.field == "quantity"
        assert wo.lines.count() == 0


def test_developer_performance_needs_performance_and_800_hours(customer_a):  # R12
    adv = make_work_order(customer_a, "advanced")
    with pytest.raises(RuleViolation):
        s.work_order_line_add(work_order=adv, service="developer-performance", quantity=900)
    perf = make_work_order(customer_a, "performance")
    with pytest.raises(RuleViolation):
        s.work_order_line_add(work_order=perf, service="developer-performance", quantity=799)
    assert (
        s.work_order_line_add(
            work_order=perf, service="developer-performance", quantity=2000
        ).quantity
        == 2000
    )


def test_override_below_bounds_is_recorded(customer_a, staff):  # R12
    wo = make_work_order(customer_a, "advanced")
    line = s.work_order_line_add(
        work_order=wo,
        service="developer-advanced",
        quantity=200,
        bounds_override=True,
        override_reason="Pilot agreed with the customer's CTO",
        by=staff,
    )
    line.refresh_from_db()
    assert line.bounds_override is True
    assert line.override_by == staff
    assert line.override_reason == "Pilot agreed with the customer's CTO"


@pytest.mark.parametrize("hours", [801, 2000])
def test_no_override_goes_beyond_the_maximum(customer_a, staff, hours):  # R12
    # Only smaller custom agreements are made on special request; past 800 ADM hours
    # the service is Developer Performance.
    wo = make_work_order(customer_a, "performance")
    with pytest.raises(RuleViolation) as exc:
        s.work_order_line_add(
            work_order=wo,
            service="developer-advanced",
            quantity=hours,
            bounds_override=True,
            override_reason="Big programme",
            by=staff,
        )
    assert exc.value.rule == "R12" and exc.value.field == "quantity"
    assert "at most 800" in exc.value.message and "No override" in exc.value.message
    assert wo.lines.count() == 0
    line = s.work_order_line_add(
        work_order=wo, service="developer-advanced", quantity=800, by=staff
    )
    with pytest.raises(RuleViolation):
        s.work_order_line_update(
            line=line, quantity=hours, bounds_override=True, override_reason="More", by=staff
        )
    line.refresh_from_db()
    assert line.quantity == 800 and not line.bounds_override


def test_override_needs_a_reason_and_staff(customer_a, staff, user_a):  # R12
    wo = make_work_order(customer_a, "advanced")
    with pytest.raises(RuleViolation) as exc:
        s.work_order_line_add(
            work_order=wo,
            service="developer-advanced",
            quantity=200,
            bounds_override=True,
            by=staff,
        )
    assert exc.value.field == "override_reason"
    with pytest.raises(RuleViolation) as exc:
        s.work_order_line_add(
            work_order=wo,
            service="developer-advanced",
            quantity=200,
            bounds_override=True,
            override_reason="x",
            by=user_a,
        )
    assert exc.value.field == "bounds_override"
    assert wo.lines.count() == 0


def test_package_change_revalidates_lines(customer_a, staff):  # R12
    wo = make_work_order(customer_a, "advanced")
    s.work_order_line_add(work_order=wo, service="developer-advanced", quantity=400)
    with pytest.raises(RuleViolation) as exc:
        s.work_order_update(work_order=wo, package="core", by=staff)
    assert exc.value.rule == "R12"
    wo.refresh_from_db()
    assert wo.package == "advanced"


def test_line_update_checks_bounds_and_used(customer_a):  # R12, R11
    wo = make_work_order(customer_a, "advanced")
    line = s.work_order_line_add(work_order=wo, service="developer-advanced", quantity=400)
    with pytest.raises(RuleViolation):
        s.work_order_line_update(line=line, quantity=900)
    WorkOrderLine.objects.filter(pk=line.pk).update(used=350)
    with pytest.raises(Conflict):
        s.work_order_line_update(line=line, quantity=340)
    assert s.work_order_line_update(line=line, quantity=500).quantity == 500


def test_line_add_and_update_send_line_changed_inside_the_transaction(customer_a, staff):
    seen = []

    def receiver(sender, line, created, by, **kwargs):
        seen.append((line.service.code, created, by, connection.in_atomic_block))

    signals.line_changed.connect(receiver)
    try:
        wo = make_work_order(customer_a, "advanced")
        line = s.work_order_line_add(
            work_order=wo, service="proactive-credits", quantity=100, by=staff
        )
        s.work_order_line_update(line=line, quantity=150, by=staff)
    finally:
        signals.line_changed.disconnect(receiver)
    assert [x[:3] for x in seen] == [
        ("proactive-credits", True, staff),
        ("proactive-credits", False, staff),
    ]
    assert all(x[3] for x in seen)


def test_a_failing_receiver_rolls_the_line_back(customer_a):
    def receiver(**kwargs):
        raise Conflict("boom")

    signals.line_changed.connect(receiver)
    wo = make_work_order(customer_a, "advanced")
    try:
        with pytest.raises(Conflict):
            s.work_order_line_add(work_order=wo, service="proactive-credits", quantity=100)
    finally:
        signals.line_changed.disconnect(receiver)
    assert wo.lines.count() == 0


# --- R13 DSE --------------------------------------------------------------------------------


def test_dse_line_ends_with_the_work_order(customer_a, staff):  # R13
    wo = make_work_order(customer_a, "advanced")
    line = s.work_order_line_add(work_order=wo, service="dse", quantity=100)
    assert line.ends_on == wo.end_date
    new_end = wo.end_date + dt.timedelta(days=90)
    s.work_order_extend(work_order=wo, end_date=new_end, unused="keep", reason="agreed", by=staff)
    line.refresh_from_db()
    assert line.ends_on == new_end


def test_dse_needs_a_current_work_order(customer_a):  # R13
    expired = make_work_order(
        customer_a,
        "advanced",
        start_date=TODAY - dt.timedelta(days=400),
        end_date=TODAY - dt.timedelta(days=35),
    )
    with pytest.raises(Conflict) as exc:
        s.work_order_line_add(work_order=expired, service="dse", quantity=100)
    assert exc.value.rule == "R13"
    assert expired.lines.count() == 0


def test_terminated_work_order_takes_no_lines(customer_a, staff):
    wo = make_work_order(customer_a, "advanced")
    s.work_order_terminate(work_order=wo, by=staff)
    with pytest.raises(Conflict):
        s.work_order_line_add(work_order=wo, service="proactive-credits", quantity=10)


# --- term and versions ------------------------------------------------------------------------


def test_term_end_must_follow_start(customer_a, staff):
    with pytest.raises(RuleViolation) as exc:
        make_work_order(customer_a, "core", start_date=TODAY, end_date=TODAY)
    assert exc.value.field == "end_date"
    assert WorkOrder.objects.count() == 0
    wo = make_work_order(customer_a, "core")
    with pytest.raises(RuleViolation) as exc:
        s.work_order_update(work_order=wo, end_date=wo.start_date - dt.timedelta(days=1), by=staff)
    assert exc.value.field == "end_date"


def test_work_order_create_with_a_bad_line_writes_nothing(customer_a):  # R12
    with pytest.raises(RuleViolation):
        make_work_order(
            customer_a,
            "advanced",
            lines=[
                {"service": "proactive-credits", "quantity": 100},
                {"service": "developer-advanced", "quantity": 10},
            ],
        )
    assert WorkOrder.objects.count() == 0 and WorkOrderLine.objects.count() == 0


def test_the_cloud_subscription_is_recorded_on_the_work_order(customer_a, staff):  # R21
    wo = make_work_order(customer_a, "core", cloud_subscription_active=True, by=staff)
    assert wo.cloud_subscription_active is True
    s.work_order_update(work_order=wo, cloud_subscription_active=False, by=staff)
    wo.refresh_from_db()
    assert wo.cloud_subscription_active is False
    assert [h.cloud_subscription_active for h in wo.history.order_by("history_date")] == [
        True,
        False,
    ]


# --- R16 late-cancellation fee ----------------------------------------------------------------


@pytest.mark.parametrize("percent", ["-1", "100.01", "250", "abc"])
def test_the_late_cancellation_fee_is_a_percentage_from_0_to_100(
    customer_a, work_order_a, staff, percent
):  # R16
    with pytest.raises(RuleViolation) as exc:
        make_work_order(customer_a, "advanced", cancellation_fee_percent=percent)
    assert exc.value.rule == "R16" and exc.value.field == "cancellation_fee_percent"
    with pytest.raises(RuleViolation) as exc:
        s.work_order_update(work_order=work_order_a, cancellation_fee_percent=percent, by=staff)
    assert exc.value.rule == "R16"
    work_order_a.refresh_from_db()
    assert work_order_a.cancellation_fee_percent == Decimal("100")
    assert WorkOrder.objects.count() == 1


def test_the_late_cancellation_fee_is_set_per_work_order(customer_a, work_order_a, staff):  # R16
    free = make_work_order(customer_a, "advanced", cancellation_fee_percent=Decimal("0"))
    s.work_order_update(work_order=work_order_a, cancellation_fee_percent="25", by=staff)
    work_order_a.refresh_from_db()
    assert (free.cancellation_fee_percent, work_order_a.cancellation_fee_percent) == (0, 25)


def test_stale_version_is_refused(work_order_a, staff):
    assert work_order_a.version == 1
    s.work_order_update(work_order=work_order_a, expected_version=1, notes="first", by=staff)
    with pytest.raises(StaleVersion):
        s.work_order_update(work_order=work_order_a, expected_version=1, notes="second", by=staff)
    work_order_a.refresh_from_db()
    assert work_order_a.notes == "first" and work_order_a.version == 2


def test_stale_contact_version_is_refused(contact_a, staff):
    s.named_contact_update(contact=contact_a, expected_version=1, phone="+31 20 1234567", by=staff)
    with pytest.raises(StaleVersion):
        s.named_contact_update(
            contact=contact_a, expected_version=1, phone="+31 20 7654321", by=staff
        )
    contact_a.refresh_from_db()
    assert contact_a.phone == "+31 20 1234567" and contact_a.version == 2


# Real commits from two connections (the conftest re-seeds the catalogue after the flush).
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_saves_of_one_version_cannot_both_win():
    staff = f.StaffFactory()
    wo = f.WorkOrderFactory(package="advanced")
    barrier = threading.Barrier(2)
    results = []

    def save(note):
        try:
            barrier.wait()
            s.work_order_update(work_order=wo, expected_version=1, notes=note, by=staff)
            results.append("ok")
        except StaleVersion:
            results.append("stale")
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(n,)) for n in ("one", "two")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["ok", "stale"]
    wo.refresh_from_db()
    assert wo.version == 2


# Real commits from two connections (the conftest re-seeds the catalogue after the flush).
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_adds_cannot_both_take_the_last_core_place():  # R1
    wo = f.WorkOrderFactory(package="core", named_contact_limit=10)
    for _ in range(9):
        f.NamedContactFactory(work_order=wo)
    barrier = threading.Barrier(2)
    results = []

    def add(i):
        try:
            barrier.wait()
            s.named_contact_add(work_order=wo, name=f"Racer {i}", email=f"racer{i}@acme.example")
            results.append("ok")
        except Conflict:
            results.append("R1")
        finally:
            connection.close()

    threads = [threading.Thread(target=add, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["R1", "ok"]
    assert wo.contacts.filter(active=True).count() == 10


# --- history (R25) --------------------------------------------------------------------------


def test_history_records_who_changed_a_line(customer_a, staff):  # R25
    wo = make_work_order(customer_a, "advanced", by=staff)
    line = s.work_order_line_add(work_order=wo, service="dse", quantity=100, by=staff)
    s.work_order_line_update(line=line, quantity=150, by=staff)
    history = list(line.history.order_by("history_date"))
    assert [h.history_type for h in history] == ["+", "~"]
    assert all(h.history_user == staff for h in history)
    delta = history[1].diff_against(history[0])
    assert [(c.field, c.old, c.new) for c in delta.changes] == [
        ("quantity", Decimal("100"), Decimal("150"))
    ]
    assert history[1].history_date >= history[0].history_date


def test_history_records_contact_changes_by_an_api_key_as_its_creator(
    work_order_a, key_a, staff
):  # R25
    actor = ApiKeyActor(key_a)
    c = s.named_contact_add(work_order=work_order_a, name="Eve", email="eve@acme.example", by=actor)
    s.named_contact_update(contact=c, active=False, by=actor)
    history = list(c.history.order_by("history_date"))
    assert [h.history_type for h in history] == ["+", "~"]
    assert {h.history_user for h in history} == {staff}
    assert history[0].active is True and history[1].active is False


def test_removing_a_line_is_recorded(customer_a, staff):  # R25
    wo = make_work_order(customer_a, "advanced")
    line = s.work_order_line_add(work_order=wo, service="onsite-support", quantity=2, by=staff)
    s.work_order_line_remove(line=line, by=staff)
    last = WorkOrderLine.history.filter(id=line.pk).order_by("history_date").last()
    assert last.history_type == "-" and last.history_user == staff


def test_oversized_input_is_a_rule_violation_not_a_database_error(customer_a, work_order_a, staff):
    with pytest.raises(RuleViolation) as exc:
        make_work_order(customer_a, "core", number="N" * 40)
    assert exc.value.field == "number"
    with pytest.raises(RuleViolation) as exc:
        s.work_order_line_add(work_order=work_order_a, service="onsite-support", quantity="0.001")
    assert exc.value.field == "quantity"
    with pytest.raises(RuleViolation) as exc:
        s.work_order_line_add(work_order=work_order_a, service="onsite-support", quantity="1e12")
    assert exc.value.field == "quantity"
    with pytest.raises(RuleViolation) as exc:
        s.work_order_update(work_order=work_order_a, named_contact_limit=2**40, by=staff)
    assert exc.value.field == "named_contact_limit"
    with pytest.raises(RuleViolation) as exc:
        s.named_contact_add(work_order=work_order_a, name="x" * 300, email="x@acme.example")
    assert exc.value.field == "name"
    assert work_order_a.lines.count() == 0 and work_order_a.contacts.count() == 0


# --- no-op updates (versions, R25) -----------------------------------------------------------


def test_an_update_that_changes_nothing_bumps_no_version_and_writes_no_history(work_order_a, staff):
    wo = WorkOrder.objects.get(pk=work_order_a.pk)
    version, rows = wo.version, wo.history.count()
    same = s.work_order_update(
        work_order=wo,
        notes=wo.notes,
        end_date=wo.end_date.isoformat(),  # the same date as text is no change either
        package=wo.package,
        expected_version=version,
        by=staff,
    )
    wo.refresh_from_db()
    assert (same.version, wo.version, wo.history.count()) == (version, version, rows)
    changed = s.work_order_update(work_order=wo, notes="new", by=staff)
    assert changed.version == version + 1 and wo.history.count() == rows + 1


def test_a_no_op_update_with_a_stale_version_is_still_refused(work_order_a, staff):
    wo = WorkOrder.objects.get(pk=work_order_a.pk)
    with pytest.raises(StaleVersion):
        s.work_order_update(
            work_order=wo, notes=wo.notes, expected_version=wo.version - 1, by=staff
        )
