"""A hand-computed March 2026 for the service-review tests.

Customer A ("acme") has a support location in Dublin (Europe/Dublin, Irish public
holidays): St Patrick's Day is Tuesday 17 March 2026, and summer time starts on Sunday
29 March 2026 (01:00 UTC: GMT -> IST). Work order WO-R-1 is Advanced, term 2026.
Periods are counted in settings.TIME_ZONE (Europe/Amsterdam).

Incidents (Advanced: normal 4 business hours 09:00-17:30 Dublin, critical 1 hour 24x7):
- INC D normal "SQL Server", opened Mon 2 Mar 09:00 UTC, answered 09:30: met, 30 min.
- INC C critical "Exchange", opened Tue 10 Mar 10:00 UTC, due 11:00, answered 10:20: met,
  20 min; R8 escalation starts with it.
- INC A normal "Exchange", opened Mon 16 Mar 15:00 UTC (15:00 GMT): 2.5 h that day, the
  17th is St Patrick's Day (closed), 1.5 h on Wed 18 Mar: due 10:30 UTC; answered 10:00:
  met, 43 h = 2580 min.
- INC B normal "Exchange", opened Fri 27 Mar 16:00 UTC (16:00 GMT): 1.5 h that day, the
  weekend (and the DST change), Mon 30 Mar opens 09:00 IST = 08:00 UTC, 2.5 h more: due
  10:30 UTC; answered 11:00 UTC: missed by 30 min, 67 h = 4020 min.
- INC E normal, opened Tue 31 Mar 22:30 UTC = Wed 1 Apr 00:30 in Amsterdam: April's.

So March: 4 incidents (3 normal, 1 critical); met 3, missed 1: 75.0 %; normal 2/3 =
66.7 %, critical 100.0 %. Times [20, 30, 2580, 4020]: median (30 + 2580) / 2 = 1305,
p90 (nearest rank ceil(0.9 x 4) = 4th) 4020; normal [30, 2580, 4020]: median 2580,
p90 4020.

Credits (WO-R-1, workshops at 25 credits per participant, cancellation fee 50 %):
- 1 Mar: 400 granted.
- 5 Mar: 2 participants for 20 Mar: -50.
- 12 Mar: that one cancelled 8 days before (< 14, R16): +50 refund, -25 fee.
- 13 Mar: 1 participant for 20 Apr: -25.
Balance 31 Mar: 350. Spent in the term to 31 Mar: 50 + 25 - 50 + 25 = 50 over 89 days
(1 Jan - 31 Mar); 275 days left: 350 - 50 x 275 / 89 = 195.51 -> 196 forecast to expire.
R15: request by 1 Nov 2026 (31 Dec - 60 days).

Hours (WO-R-1, DSE 40 h): 6 h on 20 Feb, 4 h on 10 Mar: March used 4, before 6, left 30.

WO-R-2 (Advanced, 1 Apr 2025 - 15 Mar 2026): 40 credits granted 2 Apr 2025, expired on
16 Mar 2026 (R14): 40 expired in March.
"""

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
import time_machine

from contracts import services as contract_services
from credits import services as credit_services
from incidents import services as incident_services
from tests import factories as f

UTC = dt.UTC


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


@pytest.fixture
def march(db, staff, customer_a, user_a):
    # The location copies public holidays for "this year" and the next two (R5): made in
    # 2026, whenever the tests run.
    with time_machine.travel(at(2026, 1, 1, 9), tick=False):
        location = contract_services.support_location_create(
            customer=customer_a, name="Dublin", country="IE", timezone="Europe/Dublin"
        )
    f.RateFactory(
        service=f.service("workshops"),
        credits_per_unit=Decimal("25"),
        valid_from=dt.date(2025, 1, 1),
    )
    with time_machine.travel(at(2025, 4, 2, 9), tick=False):
        wo2 = f.WorkOrderFactory(
            number="WO-R-2",
            customer=customer_a,
            package="advanced",
            start_date=dt.date(2025, 4, 1),
            end_date=dt.date(2026, 3, 15),
            support_location=location,
            account_manager=staff,
        )
        contract_services.work_order_line_add(
            work_order=wo2, service=f.service("proactive-credits"), quantity=40, by=staff
        )
    with time_machine.travel(at(2026, 1, 1, 9), tick=False):
        wo = f.WorkOrderFactory(
            number="WO-R-1",
            customer=customer_a,
            package="advanced",
            start_date=dt.date(2026, 1, 1),
            end_date=dt.date(2026, 12, 31),
            support_location=location,
            account_manager=staff,
            cancellation_fee_percent=Decimal("50"),
        )
        contact = f.NamedContactFactory(
            work_order=wo, user=user_a, name="Bob", email=user_a.email, is_lead=True
        )
        dse = contract_services.work_order_line_add(
            work_order=wo, service=f.service("dse"), quantity=40, by=staff
        )
    with time_machine.travel(at(2026, 2, 20, 12), tick=False):
        credit_services.time_entry_record(
            line=dse, hours=Decimal("6"), worked_on=dt.date(2026, 2, 20), by=staff
        )
    with time_machine.travel(at(2026, 3, 1, 9), tick=False):
        contract_services.work_order_line_add(
            work_order=wo, service=f.service("proactive-credits"), quantity=400, by=staff
        )
    with time_machine.travel(at(2026, 3, 5, 10), tick=False):
        cancelled = credit_services.credits_redeem(
            work_order=wo,
            service=f.service("workshops"),
            quantity=2,
            scheduled_for=dt.date(2026, 3, 20),
            delivery_mode="per_participant",
            by=user_a,
        )
    with time_machine.travel(at(2026, 3, 10, 12), tick=False):
        credit_services.time_entry_record(
            line=dse, hours=Decimal("4"), worked_on=dt.date(2026, 3, 10), by=staff
        )
    with time_machine.travel(at(2026, 3, 12, 10), tick=False):
        credit_services.redemption_cancel(redemption=cancelled, by=user_a, reason="moved")
    with time_machine.travel(at(2026, 3, 13, 10), tick=False):
        kept = credit_services.credits_redeem(
            work_order=wo,
            service=f.service("workshops"),
            quantity=1,
            scheduled_for=dt.date(2026, 4, 20),
            delivery_mode="per_participant",
            by=user_a,
        )
    with time_machine.travel(at(2026, 3, 16, 3), tick=False):
        credit_services.credits_expire(work_order=wo2)

    def incident(title, severity, product, opened, responded=None):
        inc = incident_services.incident_open(
            work_order=wo,
            contact=contact,
            title=title,
            severity=severity,
            product=product,
            opened_at=opened,
            channel="phone",
            by=staff,
        )
        if responded is not None:
            incident_services.incident_respond(incident=inc, responded_at=responded, by=staff)
            inc.refresh_from_db()
        return inc

    # Entered by staff on 6 December 2026 (backdated, phone): the term covers that day (R2).
    with time_machine.travel(at(2026, 12, 6, 9), tick=False):
        d = incident(
            "Slow queries", "normal", "SQL Server", at(2026, 3, 2, 9), at(2026, 3, 2, 9, 30)
        )
        c = incident(
            "Mail down", "critical", "Exchange", at(2026, 3, 10, 10), at(2026, 3, 10, 10, 20)
        )
        a = incident(
            "Calendar sync", "normal", "Exchange", at(2026, 3, 16, 15), at(2026, 3, 18, 10)
        )
        b = incident("Mailbox move", "normal", "Exchange", at(2026, 3, 27, 16), at(2026, 3, 30, 11))
        e = incident("After midnight", "normal", "Exchange", at(2026, 3, 31, 22, 30))
    return SimpleNamespace(
        wo=wo,
        wo2=wo2,
        contact=contact,
        dse=dse,
        cancelled=cancelled,
        kept=kept,
        a=a,
        b=b,
        c=c,
        d=d,
        e=e,
        location=location,
    )
