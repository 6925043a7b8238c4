"""Reads of service reviews: the stored reviews of finished periods, the work orders a
review covers, the ratings, and the staff overview. The figures of a period are
computed in reviews/figures.py.

Scoping: callers pass work orders they read through `WorkOrder.objects.visible_to`;
`review_list` and `work_orders_for_review` go through the door themselves.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.apps import apps
from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.utils import timezone

from contracts.models import Customer, WorkOrder
from credits.choices import EntryKind
from credits.models import CreditAccount, CreditEntry
from incidents.models import Incident
from reviews.models import ServiceReview
from reviews.periods import Period


def business_zone() -> ZoneInfo:
    """Periods are business dates in settings.TIME_ZONE (as credits and contracts count days)."""
    return ZoneInfo(settings.TIME_ZONE)


def business_today() -> dt.date:
    return timezone.localdate(timezone=timezone.get_default_timezone())


def period_bounds(period: Period) -> tuple[dt.datetime, dt.datetime]:
    """The period as [start, end) instants: midnight to midnight in the business zone, so a
    DST change inside the period moves neither end."""
    zone = business_zone()
    start = dt.datetime.combine(period.start, dt.time(0), tzinfo=zone)
    end = dt.datetime.combine(period.end + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    return start, end


#: "(R5)" or "(R7, R8)" alone in brackets, then any other "R4 " or "R9: " in the text.
_RULE_ONLY = re.compile(r"\s*\(R\d+(?:, ?R\d+)*\)")
_RULE_REF = re.compile(r"\bR\d+\b:?\s*")


def without_rule_numbers(text: str) -> str:
    """A sentence for customers: R-numbers are for staff explanations only (PREAMBLE).
    "(R6 24x7 effort)" keeps its words: "(24x7 effort)"."""
    text = _RULE_REF.sub("", _RULE_ONLY.sub("", text))
    return re.sub(r"\s{2,}", " ", text).strip().replace(" .", ".")


# --------------------------------------------------------------------------- scoping


def work_orders_for_review(*, actor, customer: Customer, period: Period):
    """The customer's work orders whose term overlaps the period, through the one door."""
    return (
        WorkOrder.objects.visible_to(actor)
        .filter(customer=customer, start_date__lte=period.end, end_date__gte=period.start)
        .select_related("customer", "support_location", "account_manager")
        .order_by("start_date", "number")
    )


def review_list(*, actor, work_order=None, customer=None):
    """Stored reviews the actor may see, newest period first."""
    qs = ServiceReview.objects.visible_to(actor).select_related("customer", "work_order")
    if work_order is not None:
        qs = qs.filter(work_order=work_order)
    if customer is not None:
        qs = qs.filter(customer=customer, work_order__isnull=True)
    return qs.order_by("-period_start", "period_key")


def stored_review(*, customer, work_order, period_key: str) -> ServiceReview | None:
    qs = ServiceReview.objects.filter(customer=customer, period_key=period_key)
    if work_order is None:
        qs = qs.filter(work_order__isnull=True)
    else:
        qs = qs.filter(work_order=work_order)
    return qs.first()


def month_review_candidates(*, period: Period) -> list[int]:
    """Ids of the work orders that ran in the period and whose review of it has not been
    sent yet (the monthly job's list; one query)."""
    done = ServiceReview.objects.filter(
        work_order=OuterRef("pk"), period_key=period.key, notified_at__isnull=False
    )
    return list(
        WorkOrder.objects.filter(start_date__lte=period.end, end_date__gte=period.start)
        .exclude(Exists(done))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


# --------------------------------------------------------------------------- ratings


def satisfaction_rating_model():
    """incidents.SatisfactionRating (issue #17), or None while that model does not exist."""
    try:
        return apps.get_model("incidents", "SatisfactionRating")
    except LookupError:
        return None


def satisfaction_ratings(*, work_order_ids: list[int], start: dt.datetime, end: dt.datetime):
    """Ratings given in [start, end) on these work orders' incidents, oldest first; None (not
    an empty list) when the portal does not collect ratings yet, so the review can say so."""
    model = satisfaction_rating_model()
    if model is None:
        return None
    return list(
        model.objects.filter(
            incident__work_order_id__in=work_order_ids, rated_at__gte=start, rated_at__lt=end
        )
        .select_related("incident")
        .order_by("rated_at", "pk")
    )


def _decimal_text(value) -> str:
    return format(Decimal(value or 0).normalize(), "f")


def attainment_percent(met: int, missed: int) -> str | None:
    total = met + missed
    if not total:
        return None
    return _decimal_text(
        (Decimal(100 * met) / total).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    )


# --------------------------------------------------------------------------- overview


def overview_rows(*, actor, period: Period, today: dt.date | None = None) -> list[dict]:
    """Staff overview: per account manager and package, attainment of the period's incidents
    and the credits forecast to lapse (at risk) on the work orders running in it. A fixed
    number of queries, whatever the number of work orders."""
    today = today or business_today()
    start, end = period_bounds(period)
    work_orders = list(
        WorkOrder.objects.visible_to(actor)
        .filter(start_date__lte=period.end, end_date__gte=period.start)
        .select_related("account_manager", "customer")
    )
    if not work_orders:
        return []
    ids = [w.pk for w in work_orders]
    incident_counts = {
        row["work_order_id"]: row
        for row in Incident.objects.filter(
            work_order_id__in=ids, opened_at__gte=start, opened_at__lt=end
        )
        .values("work_order_id")
        .annotate(
            total=Count("id"),
            missed=Count("id", filter=Q(response_breached=True)),
            met=Count("id", filter=Q(responded_at__isnull=False, response_breached=False)),
        )
    }
    ledger = defaultdict(dict)
    for row in (
        CreditEntry.objects.filter(work_order_id__in=ids, created_at__lt=end)
        .values("work_order_id", "kind")
        .annotate(s=Sum("amount"))
    ):
        ledger[row["work_order_id"]][row["kind"]] = row["s"]
    balances = dict(
        CreditAccount.objects.filter(work_order_id__in=ids).values_list("work_order_id", "balance")
    )
    groups: dict[tuple[str, str], dict] = {}
    for w in work_orders:
        manager = w.account_manager
        name = (manager.get_full_name() or manager.username) if manager else ""
        g = groups.setdefault(
            (name, w.package),
            {
                "account_manager": name,
                "package": w.package,
                "work_orders": 0,
                "customers": set(),
                "incidents": 0,
                "met": 0,
                "missed": 0,
                "credits_balance": 0,
                "credits_at_risk": 0,
            },
        )
        c = incident_counts.get(w.pk, {})
        g["work_orders"] += 1
        g["customers"].add(w.customer.code)
        g["incidents"] += c.get("total", 0)
        g["met"] += c.get("met", 0)
        g["missed"] += c.get("missed", 0)
        kinds = ledger.get(w.pk, {})
        closing = sum(kinds.values()) if period.end < today else balances.get(w.pk, 0)
        g["credits_balance"] += closing
        if EntryKind.EXPIRY not in kinds:
            as_of = min(max(min(period.end, today), w.start_date), w.end_date)
            elapsed = max((as_of - w.start_date).days, 1)
            remaining = max((w.end_date - as_of).days, 0)
            spent = max(
                -sum(
                    kinds.get(k, 0)
                    for k in (
                        EntryKind.REDEMPTION,
                        EntryKind.REFUND,
                        EntryKind.CANCELLATION_FEE,
                        EntryKind.EXCHANGE,
                    )
                ),
                0,
            )
            projected = max(Decimal(closing) - Decimal(spent) * remaining / elapsed, Decimal(0))
            g["credits_at_risk"] += int(projected.quantize(Decimal("1"), rounding=ROUND_HALF_UP))
    rows = []
    for g in groups.values():
        g["customers"] = len(g["customers"])
        g["percent"] = attainment_percent(g["met"], g["missed"])
        rows.append(g)
    return rows
