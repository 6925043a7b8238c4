"""Read-only staff see balances and hours but change none of them: every credits write
that staff may make refuses them at the service, whatever view or admin is in front."""

from decimal import Decimal

import pytest

from accounts.choices import Role
from core.errors import NotAllowed
from credits.services import (
    credits_adjust,
    credits_sa_conversion,
    redemption_cancel,
    time_entry_record,
)
from tests import factories as f
from tests.credits.conftest import days, snapshot, today
from tests.credits.test_redemptions import redeem


@pytest.fixture
def reader(db):
    return f.StaffFactory(role=Role.READ_ONLY)


def test_read_only_staff_may_not_adjust_a_balance(funded, reader):  # R10
    before = snapshot(funded)
    with pytest.raises(NotAllowed) as exc:
        credits_adjust(work_order=funded, amount=10, reason="goodwill", by=reader)
    assert (exc.value.rule, exc.value.code) == ("R10", "staff_only")
    assert snapshot(funded) == before


def test_read_only_staff_may_not_record_a_software_assurance_conversion(funded, reader):  # R18
    before = snapshot(funded)
    with pytest.raises(NotAllowed) as exc:
        credits_sa_conversion(work_order=funded, amount=50, reference="SA-1", by=reader)
    assert (exc.value.rule, exc.value.code) == ("R18", "staff_only")
    assert snapshot(funded) == before


def test_read_only_staff_may_not_correct_recorded_hours(work_order_a, staff, reader):  # R11
    line = f.WorkOrderLineFactory(
        work_order=work_order_a, service=f.service("dse"), quantity=Decimal("40")
    )
    time_entry_record(line=line, hours=3, worked_on=today(), by=staff)
    with pytest.raises(NotAllowed) as exc:
        time_entry_record(
            line=line, hours=-1, worked_on=today(), description="booked twice", by=reader
        )
    assert (exc.value.rule, exc.value.code) == ("R11", "staff_only")
    line.refresh_from_db()
    assert line.used == 3


def test_read_only_staff_may_not_cancel_a_workshop_for_its_enrolment(funded, reader):  # R20
    r = redeem(funded, "workshops", 4, delivery_mode="per_participant", when=days(3))
    before = snapshot(funded)
    with pytest.raises(NotAllowed) as exc:
        redemption_cancel(redemption=r, by=reader, minimum_enrolment_not_reached=True)
    assert (exc.value.rule, exc.value.code) == ("R20", "staff_only")
    assert snapshot(funded) == before
