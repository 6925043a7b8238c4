"""The entitlement sweep: term reminders, expiry notices, expiry at the end, low credit.

Daily (portal/schedule.py: credits.tasks.entitlement_sweep) and by hand
(`manage.py run_entitlement_sweep`).

- R15: Advanced/Performance work orders get reminders 90 and 75 days before the
  end and on the 60-day cut-off (proactive services and enhanced solutions must be
  requested at least 60 days before the end), to the account manager and the
  customer's lead contacts (NamedContact.is_lead).
- Every work order gets expiry notices 30 and 7 days before the end.
- After the last day of the term: unused credits and hours expire through the ledger
  (credits.services.credits_expire, R14), redemptions never marked delivered lapse
  (same transaction, no refund), DSE lines end with the work order (R13), and
  `entitlement.expired` is sent, counting the lapsed redemptions.
- A low-credit warning (`credits.low`) when the balance is under the work order's
  low_credit_threshold, once per crossing.

Each notice is claimed by inserting its notifications.WorkOrderNotice row (unique
work order, kind, end date, reference): a rerun, or a second sweep running at the
same time, sends nothing twice. A notice whose day was missed (the sweep did not
run) is sent on the next run within NOTICE_GRACE_DAYS. Reminders wait for the
recipient's business hours; the expiry at the end is not a reminder but is not
urgent either, so it follows the same rule.

It is credits' job because its writes are credits' (the expiry through the ledger,
the low-credit warning); it reads contracts' work orders and writes notices through
notifications' services. Dependencies point one way (docs/ARCHITECTURE.md): credits
imports contracts and notifications, neither imports credits.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from contracts.api.serializers import WorkOrderSerializer
from contracts.models import WorkOrder
from contracts.times import local_today_expression, work_order_today
from core.times import business_today
from credits.models import CreditEntry
from credits.services.hours import credits_expire
from notifications.calendars import customer_calendar, staff_calendar
from notifications.choices import Event, NoticeKind, Urgency
from notifications.localize import (
    Reader,
    Render,
    contact_reader,
    day,
    localized_notify,
    staff_reader,
)
from notifications.models import WorkOrderNotice
from notifications.selectors import ENTITLEMENT_SWEEP_JOB
from notifications.services import (
    sweep_run_finish,
    sweep_run_start,
    work_order_notice_claim,
    work_order_notice_record,
)
from services.choices import DSE, Package

logger = logging.getLogger(__name__)

#: (kind, days before the end, event, R15-only). A notice is due from that day on.
NOTICES = (
    (NoticeKind.CUTOFF_90, 90, Event.WORK_ORDER_CUTOFF, True),
    (NoticeKind.CUTOFF_75, 75, Event.WORK_ORDER_CUTOFF, True),
    (NoticeKind.CUTOFF_60, 60, Event.WORK_ORDER_CUTOFF, True),
    (NoticeKind.EXPIRING_30, 30, Event.WORK_ORDER_EXPIRING, False),
    (NoticeKind.EXPIRING_7, 7, Event.WORK_ORDER_EXPIRING, False),
)
#: A missed notice is still sent this many days late, never later (a 90-day reminder
#: a month late would only confuse).
NOTICE_GRACE_DAYS = 7
#: Work orders that ended longer ago than this are not expired by the sweep (data
#: from before the portal existed); staff can run credits_expire by hand.
EXPIRY_LOOKBACK_DAYS = 366
CUTOFF_PACKAGES = (Package.ADVANCED, Package.PERFORMANCE)


@dataclass
class EntitlementSweepResult:
    """What one entitlement sweep sent and expired."""

    notices: dict[str, int] = field(default_factory=dict)
    expired: int = 0
    low_credit: int = 0
    failed: list[dict] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return sum(self.notices.values()) + self.expired + self.low_credit

    def count(self, kind: str) -> None:
        kind = str(kind)  # a plain string: the run's detail is JSON
        self.notices[kind] = self.notices.get(kind, 0) + 1


def run_entitlement_sweep(*, today: dt.date | None = None) -> EntitlementSweepResult:
    """Send every notice that is due today (or missed within the grace), expire ended terms.

    "Today" is each work order's own (contracts.times.work_order_today: its support
    location's zone), unless `today` is given (tests, a catch-up run for one date)."""
    run = sweep_run_start(job=ENTITLEMENT_SWEEP_JOB)
    result = EntitlementSweepResult()

    def day(wo: WorkOrder) -> dt.date:
        return today or work_order_today(wo)

    for work_order in _candidates(today):
        _guarded(
            result,
            work_order,
            "notices",
            lambda wo=work_order: _term_notices(wo, day(wo), result),
        )
    for work_order in _ended(today):
        _guarded(result, work_order, "expiry", lambda wo=work_order: _expire(wo, day(wo), result))
    for work_order in _low_credit_candidates(today):
        _guarded(result, work_order, "credits_low", lambda wo=work_order: _low_credit(wo, result))
    sweep_run_finish(
        run=run,
        handled=result.handled,
        failed=len(result.failed),
        detail={
            "notices": result.notices,
            "expired": result.expired,
            "low_credit": result.low_credit,
            "failed": result.failed[:50],
        },
    )
    return result


def _guarded(result: EntitlementSweepResult, work_order: WorkOrder, stage: str, action) -> None:
    """One work order per savepoint: a poison row is logged and skipped, never fatal."""
    try:
        with transaction.atomic():
            action()
    except Exception as exc:
        logger.error(
            "entitlement sweep: work order %s skipped (%s): %r",
            work_order.number,
            stage,
            exc,
            exc_info=exc,
        )
        result.failed.append(
            {"work_order": work_order.number, "stage": stage, "error": repr(exc)[:300]}
        )


# --- selection ---------------------------------------------------------------------------


def _base():
    return WorkOrder.objects.select_related("customer", "account_manager", "support_location")


def _today_filter(today: dt.date | None):
    """(rows with `local_today` annotated, the date expression to compare with, a date
    range wide enough for every zone's today): one given date, or each row's own."""
    rows = _base()
    if today is not None:
        return rows, today, (today, today)
    center = business_today()
    # No zone's date is more than a day from another's; two is a safe margin for the
    # index range, the exact comparison is against each row's own date.
    span = (center - dt.timedelta(days=2), center + dt.timedelta(days=2))
    return rows.annotate(local_today=local_today_expression()), F("local_today"), span


def _candidates(today: dt.date | None):
    """Running work orders ending within the longest notice window (index
    work_order_end_date_idx); due_notice picks the exact window on each one's today."""
    longest = max(days for _, days, _, _ in NOTICES)
    rows, day, (low, high) = _today_filter(today)
    return rows.filter(
        terminated_at__isnull=True,
        end_date__gte=day,
        end_date__lte=high + dt.timedelta(days=longest),
    ).order_by("end_date", "id")


def _ended(today: dt.date | None):
    """Work orders whose term is over and whose expiry was not yet done for that end date."""
    done = WorkOrderNotice.objects.filter(
        work_order=OuterRef("pk"), kind=NoticeKind.EXPIRED, end_date=OuterRef("end_date")
    )
    rows, day, (low, high) = _today_filter(today)
    return (
        rows.filter(end_date__lt=day, end_date__gte=low - dt.timedelta(days=EXPIRY_LOOKBACK_DAYS))
        .exclude(Exists(done))
        .order_by("end_date", "id")
    )


def _low_credit_candidates(today: dt.date | None):
    rows, day, _span = _today_filter(today)
    return (
        rows.filter(start_date__lte=day, end_date__gte=day, terminated_at__isnull=True)
        .filter(
            low_credit_threshold__isnull=False,
            credit_account__balance__lt=F("low_credit_threshold"),
        )
        .order_by("id")
    )


# --- claiming and telling -------------------------------------------------------------------


def claim_notice(
    *,
    work_order: WorkOrder,
    kind: str,
    end_date: dt.date,
    reference: str = "",
    detail: dict | None = None,
) -> WorkOrderNotice | None:
    """Claim the notice (its unique notifications.WorkOrderNotice row): the row for the
    caller that inserted it, None when another run already did."""
    return work_order_notice_claim(
        work_order=work_order, kind=kind, end_date=end_date, reference=reference, detail=detail
    )


def recipients(work_order: WorkOrder) -> tuple[list[Reader], dict]:
    """The account manager and the customer's lead contacts, with their calendars.

    As notifications.localize Readers: each notice is written in its reader's
    language and time zone (issue #7)."""
    readers: list[Reader] = []
    calendars: dict = {}
    manager = work_order.account_manager
    if manager is not None and manager.email:
        readers.append(staff_reader(manager))
        calendars[manager.email] = staff_calendar(manager)
    leads = [
        c
        for c in work_order.contacts.filter(is_lead=True, active=True).select_related("user")
        if c.email
    ]
    if leads:
        calendar = customer_calendar(work_order)
        for contact in leads:
            readers.append(contact_reader(contact, work_order))
            calendars[contact.email] = calendar
    return readers, calendars


def _payload(work_order: WorkOrder, **extra) -> dict:
    """The webhook payload of a work-order event (API.md Revision 2): `data` is the work
    order as `GET /api/v1/work-orders/{id}/` returns it, the event's figures under
    `data.detail` (notifications.webhooks.envelope wraps it)."""
    with timezone.override(dt.UTC):
        data = dict(WorkOrderSerializer(work_order).data)
    detail = {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in extra.items()}
    detail["url"] = f"{settings.PORTAL_PUBLIC_URL}/work-orders/{work_order.pk}/"
    data["detail"] = detail
    return {"data": data}


def _send(
    work_order: WorkOrder,
    *,
    kind: str,
    event: str,
    render: Render,
    reference: str = "",
    **extra,
) -> None:
    readers, calendars = recipients(work_order)
    key = f"work_order:{work_order.pk}:{kind}:{work_order.end_date.isoformat()}" + (
        f":{reference}" if reference else ""
    )
    localized_notify(
        readers=readers,
        render=render,
        event=event,
        key=key,
        customer=work_order.customer,
        calendars=calendars,
        urgency=Urgency.BUSINESS_HOURS,
        payload=_payload(work_order, notice=kind, **extra),
    )


# --- the notices ---------------------------------------------------------------------------


def due_notice(work_order: WorkOrder, today: dt.date) -> tuple | None:
    """The one notice due for this work order today, if any (the latest window it is in)."""
    days_left = (work_order.end_date - today).days
    due = None
    for notice in NOTICES:
        kind, days, _event, r15_only = notice
        if r15_only and work_order.package not in CUTOFF_PACKAGES:
            continue
        if days - NOTICE_GRACE_DAYS < days_left <= days:
            due = notice
    return due


def _term_notices(work_order: WorkOrder, today: dt.date, result: EntitlementSweepResult) -> None:
    notice = due_notice(work_order, today)
    if notice is None:
        return
    kind, days, event, r15 = notice
    if not claim_notice(
        work_order=work_order,
        kind=kind,
        end_date=work_order.end_date,
        detail={"sent_on": today.isoformat()},
    ):
        return
    cutoff = work_order.end_date - dt.timedelta(days=60)

    def render() -> tuple[str, str]:
        # Called per reader language (notifications.localize): dates in that language.
        facts = {
            "number": work_order.number,
            "end": day(work_order.end_date),
            "cutoff": day(cutoff),
            "days": days,
        }
        if kind == NoticeKind.CUTOFF_60:
            subject = _("Work order %(number)s: today is the 60-day cut-off (R15)")
            body = _(
                "Work order %(number)s ends on %(end)s. From today, requests for proactive "
                "services and enhanced solutions can no longer be submitted under it (R15)."
            )
        elif r15:
            subject = _(
                "Work order %(number)s: %(days)s days until the end; requests close on %(cutoff)s"
            )
            body = _(
                "Work order %(number)s ends on %(end)s. Requests for proactive services and "
                "enhanced solutions must be submitted by %(cutoff)s, 60 days before the end "
                "(R15). Unused credits and hours expire at the end of the term (R14)."
            )
        else:
            subject = _("Work order %(number)s ends in %(days)s days (%(end)s)")
            body = _(
                "Work order %(number)s ends on %(end)s. Unused credits and hours expire at the "
                "end of the term (R14)."
            )
        return subject % facts, body % facts

    _send(
        work_order,
        kind=kind,
        event=event,
        render=render,
        days_before_end=days,
        cutoff_date=cutoff.isoformat(),
    )
    result.count(kind)


def _expire(work_order: WorkOrder, today: dt.date, result: EntitlementSweepResult) -> None:
    notice = claim_notice(
        work_order=work_order,
        kind=NoticeKind.EXPIRED,
        end_date=work_order.end_date,
        detail={"on": today.isoformat()},
    )
    if notice is None:
        return
    summary = credits_expire(work_order=work_order, by=None)
    # R13: DSE ends on the same date as the work order.
    work_order.lines.filter(service__code=DSE).filter(
        Q(ends_on__isnull=True) | Q(ends_on__gt=work_order.end_date)
    ).update(ends_on=work_order.end_date)
    work_order_notice_record(notice=notice, detail=_jsonable(summary))
    hours = summary.get("hours_expired", 0)
    credits = summary.get("credits_expired", 0)
    redemptions = summary.get("redemptions_lapsed", 0)

    def render() -> tuple[str, str]:
        # Called per reader language (notifications.localize).
        body = _(
            "Work order %(number)s ended on %(end)s. %(credits)s unused credits and "
            "%(hours)s unused hours expired (R14)."
        ) % {
            "number": work_order.number,
            "end": day(work_order.end_date),
            "credits": credits,
            "hours": hours,
        }
        if redemptions:
            body += " " + ngettext(
                "%(count)s scheduled redemption was never marked delivered and lapsed "
                "without a refund (R14).",
                "%(count)s scheduled redemptions were never marked delivered and lapsed "
                "without a refund (R14).",
                redemptions,
            ) % {"count": redemptions}
        subject = _("Work order %(number)s ended: unused entitlements expired") % {
            "number": work_order.number
        }
        return subject, body

    _send(
        work_order,
        kind=NoticeKind.EXPIRED,
        event=Event.ENTITLEMENT_EXPIRED,
        render=render,
        credits_expired=credits,
        hours_expired=str(hours),
        redemptions_lapsed=redemptions,
    )
    result.expired += 1


def low_credit_reference(work_order: WorkOrder) -> str | None:
    """The ledger entry where the balance last fell under the threshold (or None).

    One warning per crossing: the entry id keys the notice, so a top-up followed by
    a new fall warns again, and a change of threshold is a new crossing too.
    """
    threshold = work_order.low_credit_threshold
    if threshold is None:
        return None
    for entry in (
        CreditEntry.objects.filter(work_order=work_order)
        .order_by("-created_at", "-id")
        .only("id", "amount", "balance_after")
    ):
        before = entry.balance_after - entry.amount
        if entry.balance_after >= threshold:
            return None  # the latest state above the threshold: no crossing pending
        if before >= threshold or before <= 0:
            return f"{entry.pk}:{threshold}"
    return None


def _low_credit(work_order: WorkOrder, result: EntitlementSweepResult) -> None:
    reference = low_credit_reference(work_order)
    if reference is None:
        return
    if not claim_notice(
        work_order=work_order,
        kind=NoticeKind.CREDITS_LOW,
        end_date=work_order.end_date,
        reference=reference,
    ):
        return
    balance = work_order.credit_account.balance
    readers, calendars = recipients(work_order)
    facts = {
        "number": work_order.number,
        "balance": balance,
        "threshold": work_order.low_credit_threshold,
    }
    localized_notify(
        readers=readers,
        render=lambda: (
            _("Work order %(number)s: %(balance)s proactive credits left") % facts,
            _(
                "The proactive-credit balance of %(number)s is %(balance)s, under the "
                "threshold of %(threshold)s."
            )
            % facts,
        ),
        event=Event.CREDITS_LOW,
        key=f"work_order:{work_order.pk}:credits_low:{reference}",
        customer=work_order.customer,
        calendars=calendars,
        urgency=Urgency.BUSINESS_HOURS,
        payload=_payload(work_order, balance=balance, threshold=work_order.low_credit_threshold),
    )
    result.low_credit += 1


def check_low_credit(*, work_order_id: int) -> bool:
    """Warn about one work order's balance now (after a redemption), once per crossing."""
    work_order = _base().filter(pk=work_order_id).first()
    if work_order is None or work_order.low_credit_threshold is None:
        return False
    result = EntitlementSweepResult()
    with transaction.atomic():
        if not _low_credit_candidates(None).filter(pk=work_order_id).exists():
            return False
        _low_credit(work_order, result)
    return result.low_credit > 0


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return str(value)
