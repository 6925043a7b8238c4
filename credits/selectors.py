"""Reads of the credits app: the rate card, the ledger, balances, the forecast, R18 shortfalls."""

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import F, Q, Sum, Window
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from contracts.times import work_order_today
from credits.choices import EntryKind
from credits.models import (
    CreditAccount,
    CreditEntry,
    HourBlockLapse,
    Rate,
    Redemption,
    ShortfallInvoice,
    TimeEntry,
)
from credits.shortfall import ShortfallWindow, work_order_shortfall_window

#: Average month length, for per-month rates on dashboards.
DAYS_PER_MONTH = Decimal("30.4375")
#: Entry kinds that are spending (net of refunds): what the burn rate measures.
SPENDING_KINDS = (
    EntryKind.REDEMPTION,
    EntryKind.REFUND,
    EntryKind.CANCELLATION_FEE,
    EntryKind.EXCHANGE,
)


def rate_for(*, service, customer, on: dt.date) -> Rate | None:
    """The rate valid on `on` (R10): the customer's own if it has one by then, else the default.

    A customer rate valid from a later date does not apply yet; the latest `valid_from`
    on or before `on` wins. None when there is no rate at all (callers raise R10).
    """
    candidates = Rate.objects.filter(service=service, valid_from__lte=on).select_related(
        "service", "customer"
    )
    if customer is None:
        return candidates.filter(customer__isnull=True).order_by("-valid_from").first()
    # One query: the customer's own rows sort before the defaults (NULL last), newest first.
    return (
        candidates.filter(Q(customer=customer) | Q(customer__isnull=True))
        .order_by(F("customer_id").asc(nulls_last=True), "-valid_from")
        .first()
    )


def rate_card(*, actor, on: dt.date | None = None):
    """Rates visible to the actor (defaults are public: every customer redeems at them)."""
    qs = Rate.objects.select_related("service", "customer")
    if (
        actor is not None
        and getattr(actor, "is_authenticated", False)
        and not getattr(actor, "is_staff", False)
    ):
        qs = qs.filter(
            Q(customer__isnull=True) | Q(customer_id=getattr(actor, "customer_id", None))
        )
    elif not getattr(actor, "is_staff", False):
        qs = qs.none()
    if on is not None:
        qs = qs.filter(valid_from__lte=on)
    return qs.order_by("service__code", "customer__code", "-valid_from")


def balance(*, work_order) -> int:
    """The work order's proactive-credit balance (0 before the first grant)."""
    return (
        CreditAccount.objects.filter(work_order=work_order)
        .values_list("balance", flat=True)
        .first()
        or 0
    )


SPENDING_KINDS = (
    EntryKind.REDEMPTION,
    EntryKind.REFUND,
    EntryKind.CANCELLATION_FEE,
    EntryKind.EXCHANGE,
)


def credit_figures(*, work_order) -> dict:
    """The credit figures a page shows, all from the ledger so they cannot disagree:
    `available` (the balance), `spent` (redemptions, refunds, fees and exchanges, net) and
    `added` (everything else: grants, adjustments, conversions, expiry)."""
    spent = -(
        CreditEntry.objects.filter(work_order=work_order, kind__in=SPENDING_KINDS).aggregate(
            s=Coalesce(Sum("amount"), 0)
        )["s"]
    )
    available = balance(work_order=work_order)
    return {"available": available, "spent": spent, "added": available + spent}


def balance_history(entries) -> list[tuple[dt.date, int]]:
    """The balance at the end of each day that has ledger entries, oldest first (the
    burn-down's points: several entries on one day are one step, never a spike)."""
    by_day: dict[dt.date, int] = {}
    for entry in entries:
        by_day[timezone.localdate(entry.created_at)] = entry.balance_after
    return sorted(by_day.items())


def daily_balances(*, work_order) -> list[tuple[dt.date, int]]:
    """balance_history read by the database: the last balance of each day with entries,
    oldest first (one row per day, never the whole ledger; issue #20)."""
    return list(
        CreditEntry.objects.filter(work_order=work_order)
        .annotate(day=TruncDate("created_at"))
        .order_by("day", "-created_at", "-id")
        .distinct("day")
        .values_list("day", "balance_after")
    )


def ledger(*, work_order, actor=None):
    """The work order's entries, oldest first, each with `running_balance` recomputed by the database.

    `running_balance` (a window sum of amounts) equals the stored `balance_after` on
    every row as long as the ledger is consistent: the selector that proves it.
    """
    qs = CreditEntry.objects.all() if actor is None else CreditEntry.objects.visible_to(actor)
    return (
        qs.filter(work_order=work_order)
        .select_related("created_by", "redemption__service", "line__service")
        .annotate(running_balance=Window(Sum("amount"), order_by=["created_at", "id"]))
        .order_by("created_at", "id")
    )


def entry_list(*, actor):
    """Ledger entries visible to the actor, for lists and the API."""
    return CreditEntry.objects.visible_to(actor).select_related(
        "work_order__customer", "created_by", "redemption__service", "line__service"
    )


def redemption_list(*, actor, work_order=None):
    """Redemptions visible to the actor, newest first, with what lists show pre-joined."""
    qs = Redemption.objects.visible_to(actor).select_related(
        "work_order__customer",
        "service",
        "rate",
        "created_by",
        "approved_by",
        "cancelled_by",
        "exchanged_for__service",
        "consent__recorded_by",
    )
    if work_order is not None:
        qs = qs.filter(work_order=work_order)
    return qs.order_by("-created_at", "-id")


def time_entry_list(*, actor, line=None):
    """Time entries visible to the actor (R11)."""
    qs = TimeEntry.objects.visible_to(actor).select_related(
        "line__service", "line__work_order", "created_by"
    )
    if line is not None:
        qs = qs.filter(line=line)
    return qs


def hour_lapse_list(*, actor, work_order):
    """Hours of the work order's hour blocks lapsed at anniversaries (R14 per year),
    newest first, with the block's service pre-joined."""
    return (
        HourBlockLapse.objects.visible_to(actor)
        .filter(line__work_order=work_order)
        .select_related("line__service")
        .order_by("-anniversary", "-id")
    )


def shortfall_invoice_list(*, actor, work_order=None):
    """R18 shortfall invoices visible to the actor, the latest window first (voided ones too)."""
    qs = ShortfallInvoice.objects.visible_to(actor).select_related(
        "work_order__customer", "created_by", "voided_by"
    )
    if work_order is not None:
        qs = qs.filter(work_order=work_order)
    return qs.order_by("-window_opens_on", "-id")


def shortfall_window(*, work_order, today: dt.date | None = None) -> ShortfallWindow | None:
    """R18: the shortfall window open today, else the next one; None when none is left.

    Today is the work order's own (contracts.times.work_order_today), as credits.services
    uses; a terminated work order has no window.
    """
    if work_order.terminated_at is not None:
        return None
    today = today or work_order_today(work_order)
    return work_order_shortfall_window(work_order, today)


def shortfall_summary(*, work_order, actor, today: dt.date | None = None) -> dict:
    """R18 for a work order page: the current or next window, whether it is open and
    already invoiced, and the invoices the actor may see."""
    today = today or work_order_today(work_order)
    window = shortfall_window(work_order=work_order, today=today)
    invoices = list(shortfall_invoice_list(actor=actor, work_order=work_order))
    return {
        "window": window,
        "open": window is not None and window.contains(today),
        # The window shown already has its one live invoice (staff read `invoices` in
        # full); a voided invoice does not count: it freed the window for a correction.
        "invoiced": window is not None
        and any(i.window_opens_on == window.opens_on and not i.is_voided for i in invoices),
        "invoices": invoices,
    }


def _per_month(amount: Decimal, days: int) -> Decimal:
    return (Decimal(amount) * DAYS_PER_MONTH / days).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )


def credits_forecast(*, work_order, today: dt.date | None = None) -> dict:
    """Dashboard forecast: burn rate so far, projected balance at term end, credits at risk (R14).

    The burn rate is the net spending (redemptions, fees and exchanges less refunds)
    from the start of the term to `today`, per average month; projecting it linearly to
    the end date gives the balance left then, which is what would expire unused
    (`at_risk`). Hour lines get the same treatment from their `used` counters.
    """
    today = today or work_order_today(work_order)  # its location's zone
    start, end = work_order.start_date, work_order.end_date
    as_of = min(max(today, start), end)
    elapsed_days = max((as_of - start).days, 1)
    remaining_days = max((end - max(today, start)).days, 0) if today <= end else 0

    current = balance(work_order=work_order)
    spent = -(
        CreditEntry.objects.filter(
            work_order=work_order, kind__in=SPENDING_KINDS, created_at__date__lte=today
        ).aggregate(s=Coalesce(Sum("amount"), 0))["s"]
    )
    spent = max(spent, 0)
    projected_spend = Decimal(spent) * remaining_days / elapsed_days
    projected = max(Decimal(current) - projected_spend, Decimal(0)).quantize(
        Decimal("1"), rounding=ROUND_HALF_UP
    )
    # The term's own expiry (R14), not an anniversary's or an extension's.
    expired = CreditEntry.objects.filter(
        work_order=work_order, kind=EntryKind.EXPIRY, reference=f"work_order:{work_order.number}"
    ).exists()

    hours = []
    for line in (
        work_order.lines.filter(service__is_hour_block=True)
        .select_related("service")
        .order_by("id")
    ):
        projected_use = line.used * remaining_days / elapsed_days
        unused = (
            max(line.remaining - projected_use, Decimal(0))
            if line.expired_at is None
            else Decimal(0)
        )
        hours.append(
            {
                "line_id": line.pk,
                "service": line.service.code,
                "quantity": line.quantity,
                "used": line.used,
                "remaining": line.remaining if line.expired_at is None else Decimal(0),
                "expired": line.expired_at is not None,
                "burn_rate_per_month": _per_month(line.used, elapsed_days),
                "projected_unused_at_end": unused.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP),
            }
        )
    return {
        "as_of": today,
        "balance": current,
        "spent": spent,
        "days_elapsed": elapsed_days,
        "days_remaining": remaining_days,
        "burn_rate_per_month": _per_month(spent, elapsed_days),
        "projected_balance_at_end": int(projected),
        "at_risk": 0 if expired else int(projected),
        "expired": expired,
        "hours": hours,
    }
