"""The figures of a service review: computed from incidents and credits over a period.

`review_figures` returns plain JSON data (strings for dates, times and decimals), the
same shape that `reviews.services.review_store` keeps as a snapshot and the API
returns, so a stored review renders exactly as it read when it was stored.

Scoping: callers pass work orders they read through `WorkOrder.objects.visible_to`
(reviews.selectors.work_orders_for_review).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import connection
from django.db.models import Q, Sum
from django.utils import timezone, translation

from contracts.models import Customer, WorkOrder
from core.times import utc_iso
from credits.choices import CUTOFF_DAYS, EntryKind, RedemptionStatus
from credits.models import CreditEntry, Redemption, TimeEntry
from incidents import caches
from incidents.choices import DeadlineKind, EventKind, Severity, Threshold
from incidents.models import DeadlineEvent, Incident, IncidentEvent
from incidents.selectors import incident_explain
from reviews.periods import Period, following, median, next_month, percentile
from reviews.selectors import (
    attainment_percent,
    business_today,
    business_zone,
    period_bounds,
    satisfaction_ratings,
)
from services.choices import Package

#: Bump when the figures' shape changes; stored snapshots keep the version they were made with.
SCHEMA_VERSION = 1
#: R15 applies to these packages (credits.services uses the same rule).
CUTOFF_PACKAGES = (Package.ADVANCED, Package.PERFORMANCE)
#: Escalation events (R7, R8) listed in a review, besides the incident's own escalated_at
#: and critical-situation assignment.
ESCALATION_EVENT_KINDS = (
    EventKind.ONSITE_REQUEST,
    EventKind.PRODUCT_ESCALATION,
    EventKind.RSM_REQUEST,
)
#: The customer's side of the response table: deadlines the customer can miss.
CUSTOMER_DEADLINES = (DeadlineKind.CUSTOMER_RESPONSE, DeadlineKind.CHANGE_CONTROL)


def _dec(value) -> str:
    return format(Decimal(value or 0).normalize(), "f")


def _local_month(value: dt.datetime) -> str:
    return value.astimezone(business_zone()).strftime("%Y-%m")


# --------------------------------------------------------------------------- figures


def review_figures(
    *,
    work_orders: list[WorkOrder],
    customer: Customer,
    period: Period,
    scope: str,
    today: dt.date | None = None,
) -> dict:
    """Every figure of a service review of these work orders over the period (JSON data)."""
    today = today or business_today()
    start, end = period_bounds(period)
    # What happened after today cannot be in the figures yet (term to date, a running month).
    wo_ids = [w.pk for w in work_orders]
    incidents = list(
        Incident.objects.filter(work_order_id__in=wo_ids, opened_at__gte=start, opened_at__lt=end)
        .select_related("work_order__customer", "work_order__support_location", "contact")
        .order_by("opened_at", "id")
    )
    figures = {
        "schema": SCHEMA_VERSION,
        "scope": scope,
        "customer": {"id": customer.pk, "code": customer.code, "name": customer.name},
        "work_orders": [_work_order(w) for w in work_orders],
        "period": period.as_dict(),
        "as_of": min(today, period.end).isoformat(),
        "computed_at": utc_iso(timezone.now()),
        "incidents": _incident_counts(incidents),
        "attainment": _attainment(incidents, period),
        "breaches": _breaches(incidents),
        "response_times": _response_times(incidents),
        "escalations": _escalations(wo_ids, incidents, start, end),
        "customer_misses": _customer_misses(wo_ids, start, end),
        "credits": _credits(work_orders, period, start, end),
        "hours": _hours(work_orders, period),
        "satisfaction": _satisfaction(wo_ids, start, end),
    }
    figures["next_period"] = _next_period(work_orders, period, figures, today)
    return figures


def _work_order(w: WorkOrder) -> dict:
    manager = w.account_manager
    return {
        "id": w.pk,
        "number": w.number,
        "package": w.package,
        "start_date": w.start_date.isoformat(),
        "end_date": w.end_date.isoformat(),
        "account_manager": (manager.get_full_name() or manager.username) if manager else "",
    }


def _incident_counts(incidents: list[Incident]) -> dict:
    by_severity = Counter(i.severity for i in incidents)
    products: dict[str, Counter] = defaultdict(Counter)
    for i in incidents:
        products[i.product.strip()][i.severity] += 1
    return {
        "total": len(incidents),
        "by_severity": [
            {"severity": s.value, "count": by_severity.get(s.value, 0)} for s in Severity
        ],
        "by_product": [
            {
                "product": product,
                "normal": c.get(Severity.NORMAL, 0),
                "critical": c.get(Severity.CRITICAL, 0),
                "total": sum(c.values()),
            }
            for product, c in sorted(products.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
        ],
    }


def _outcome(i: Incident) -> str:
    """met, missed or pending (not answered yet, not late yet)."""
    if i.response_breached or (i.responded_at is not None and i.responded_at > i.response_due_at):
        return "missed"
    if i.responded_at is not None:
        return "met"
    return "pending"


def _attainment(incidents: list[Incident], period: Period) -> dict:
    """First responses within target by month and severity; pending ones are not counted."""
    cells: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for i in incidents:
        cells[(_local_month(i.opened_at), i.severity)][_outcome(i)] += 1
    rows = []
    for month in period.months():
        key = month.strftime("%Y-%m")
        for s in Severity:
            c = cells.get((key, s.value), Counter())
            rows.append(
                {
                    "month": key,
                    "severity": s.value,
                    "met": c["met"],
                    "missed": c["missed"],
                    "pending": c["pending"],
                    "percent": attainment_percent(c["met"], c["missed"]),
                }
            )
    totals = Counter(_outcome(i) for i in incidents)
    by_severity = []
    for s in Severity:
        c = Counter(_outcome(i) for i in incidents if i.severity == s.value)
        by_severity.append(
            {
                "severity": s.value,
                "met": c["met"],
                "missed": c["missed"],
                "pending": c["pending"],
                "percent": attainment_percent(c["met"], c["missed"]),
            }
        )
    return {
        "rows": rows,
        "by_severity": by_severity,
        "met": totals["met"],
        "missed": totals["missed"],
        "pending": totals["pending"],
        "percent": attainment_percent(totals["met"], totals["missed"]),
    }


def _breaches(incidents: list[Incident]) -> list[dict]:
    """Each missed first response with its explanation (incidents' explain), in every
    portal language, so the stored review reads in the reader's language."""
    out = []
    missed = [i for i in incidents if _outcome(i) == "missed"]
    version = _target_table_version() if missed else None
    for i in missed:
        explanation = {}
        for code, _name in settings.LANGUAGES:
            with translation.override(code):
                explanation[code] = incident_explain(i, table_version=version)["sentences"]
        late = None
        if i.responded_at is not None:
            late = int((i.responded_at - i.response_due_at).total_seconds() // 60)
        out.append(
            {
                "incident_id": i.pk,
                "number": i.number,
                "work_order": i.work_order.number,
                "title": i.title,
                "severity": i.severity,
                "product": i.product,
                "opened_at": utc_iso(i.opened_at),
                "response_due_at": utc_iso(i.response_due_at),
                "responded_at": utc_iso(i.responded_at),
                "minutes_late": late,
                "target_minutes": i.target_minutes,
                "target_clock": i.target_clock,
                "explanation": explanation,
            }
        )
    return out


def _target_table_version() -> int:
    """The response-target table's version, read once per review: every explanation then
    uses this process's copy of the table (incidents.caches) instead of a query each."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {caches.targets_version_sql()}")
        return cursor.fetchone()[0]


def _minutes_to_first_response(i: Incident) -> float:
    return round((i.responded_at - i.opened_at).total_seconds() / 60, 1)


def _response_times(incidents: list[Incident]) -> dict:
    """Median and p90 (nearest rank) of elapsed minutes from opening to first response."""

    def stats(values: list[float]) -> dict:
        return {
            "count": len(values),
            "median_minutes": median(values),
            "p90_minutes": percentile(values, 0.9),
        }

    answered = [i for i in incidents if i.responded_at is not None]
    return {
        **stats([_minutes_to_first_response(i) for i in answered]),
        "by_severity": [
            {
                "severity": s.value,
                **stats([_minutes_to_first_response(i) for i in answered if i.severity == s.value]),
            }
            for s in Severity
        ],
    }


def _escalations(wo_ids, incidents, start, end) -> list[dict]:
    """R8 escalations started and R7 critical-situation resources assigned in the period,
    and the onsite, product-team and RSM requests recorded on the timeline."""
    rows = []
    for i in Incident.objects.filter(work_order_id__in=wo_ids).filter(
        Q(escalated_at__gte=start, escalated_at__lt=end)
        | Q(critical_situation_assigned_at__gte=start, critical_situation_assigned_at__lt=end)
    ):
        if i.escalated_at and start <= i.escalated_at < end:
            rows.append(_escalation_row(i, "escalation", i.escalated_at, "R8"))
        if i.critical_situation_assigned_at and start <= i.critical_situation_assigned_at < end:
            rows.append(
                _escalation_row(i, "critical_situation", i.critical_situation_assigned_at, "R7")
            )
    events = IncidentEvent.objects.filter(
        incident__work_order_id__in=wo_ids,
        kind__in=ESCALATION_EVENT_KINDS,
        created_at__gte=start,
        created_at__lt=end,
    ).select_related("incident")
    for e in events:
        rule = "R8" if e.kind == EventKind.RSM_REQUEST else "R7"
        rows.append(_escalation_row(e.incident, e.kind, e.created_at, rule, note=e.body))
    rows.sort(key=lambda r: (r["at"], r["number"]))
    return rows


def _escalation_row(i: Incident, kind: str, at: dt.datetime, rule: str, note: str = "") -> dict:
    return {
        "incident_id": i.pk,
        "number": i.number,
        "severity": i.severity,
        "kind": kind,
        "rule": rule,
        "at": utc_iso(at),
        "note": note[:300],
    }


def _customer_misses(wo_ids, start, end) -> list[dict]:
    """Customer-side deadlines passed in the period (24-hour answer, change-control access)."""
    return [
        {
            "incident_id": e.incident_id,
            "number": e.incident.number,
            "deadline": e.deadline,
            "due_at": utc_iso(e.occurred_at),
        }
        for e in DeadlineEvent.objects.filter(
            incident__work_order_id__in=wo_ids,
            deadline__in=CUSTOMER_DEADLINES,
            threshold__in=(Threshold.BREACH, Threshold.DUE),
            occurred_at__gte=start,
            occurred_at__lt=end,
        )
        .select_related("incident")
        .order_by("occurred_at", "id")
    ]


def request_by(w: WorkOrder) -> dt.date:
    """R15: the last day to request proactive services and enhanced solutions (Advanced and
    Performance: 60 days before the end); Core has no cut-off, so the end date itself."""
    if w.package in CUTOFF_PACKAGES:
        return w.end_date - dt.timedelta(days=CUTOFF_DAYS)
    return w.end_date


def _credits(work_orders, period: Period, start, end) -> dict:
    """Proactive credits in the period: the ledger's entries by kind, per work order."""
    wo_ids = [w.pk for w in work_orders]
    entries = list(
        CreditEntry.objects.filter(work_order_id__in=wo_ids, created_at__lt=end)
        .select_related("redemption__service")
        .order_by("created_at", "id")
    )
    in_period = [e for e in entries if e.created_at >= start]
    by_kind = Counter()
    for e in in_period:
        by_kind[e.kind] += e.amount
    redeemed: dict[tuple[str, str], dict] = {}
    for e in in_period:
        if e.kind != EntryKind.REDEMPTION or e.redemption is None:
            continue
        service = e.redemption.service
        row = redeemed.setdefault(
            (service.code, str(e.work_order_id)),
            {
                "service": service.code,
                "name": service.name,
                "work_order_id": e.work_order_id,
                "redemptions": 0,
                "credits": 0,
            },
        )
        row["redemptions"] += 1
        row["credits"] += -e.amount
    cancelled: dict[int, dict] = {}
    for e in in_period:
        if e.kind not in (EntryKind.REFUND, EntryKind.CANCELLATION_FEE) or e.redemption is None:
            continue
        r = e.redemption
        row = cancelled.setdefault(
            r.pk,
            {
                "redemption_id": r.pk,
                "work_order_id": r.work_order_id,
                "service": r.service.code,
                "name": r.service.name,
                "scheduled_for": r.scheduled_for.isoformat(),
                "cancelled_at": utc_iso(r.cancelled_at or e.created_at),
                "credits": r.credits,
                "refunded": 0,
                "fee": 0,
            },
        )
        if e.kind == EntryKind.REFUND:
            row["refunded"] += e.amount
        else:
            row["fee"] += -e.amount
    lapsed = [
        {
            "redemption_id": r.pk,
            "work_order_id": r.work_order_id,
            "service": r.service.code,
            "name": r.service.name,
            "scheduled_for": r.scheduled_for.isoformat(),
            "credits": r.credits,
        }
        for r in Redemption.objects.filter(
            work_order_id__in=wo_ids,
            status=RedemptionStatus.LAPSED,
            lapsed_at__gte=start,
            lapsed_at__lt=end,
        ).select_related("service")
    ]
    per_work_order = []
    for w in work_orders:
        mine = [e for e in entries if e.work_order_id == w.pk]
        before = [e for e in mine if e.created_at < start]
        opening = before[-1].balance_after if before else 0
        closing = mine[-1].balance_after if mine else 0
        per_work_order.append(
            {
                "work_order_id": w.pk,
                "number": w.number,
                "opening_balance": opening,
                "closing_balance": closing,
                **_credit_forecast(w, mine, closing, period),
            }
        )
    return {
        "granted": by_kind[EntryKind.GRANT] + by_kind[EntryKind.SA_CONVERSION],
        "adjusted": by_kind[EntryKind.ADJUSTMENT],
        "redeemed": -by_kind[EntryKind.REDEMPTION],
        "refunded": by_kind[EntryKind.REFUND],
        "fees": -by_kind[EntryKind.CANCELLATION_FEE],
        "exchanged": -by_kind[EntryKind.EXCHANGE],
        "expired": -by_kind[EntryKind.EXPIRY],
        "redeemed_by_service": sorted(
            redeemed.values(), key=lambda r: (-r["credits"], r["service"])
        ),
        "cancelled": sorted(cancelled.values(), key=lambda r: r["cancelled_at"] or ""),
        "lapsed": lapsed,
        "work_orders": per_work_order,
    }


def _credit_forecast(w: WorkOrder, entries, closing: int, period: Period) -> dict:
    """R14/R15: credits forecast to lapse at term end, projecting the spending of the term
    so far (to the period's end) linearly to the end date, and the date they must be
    requested by. The same method as credits.selectors.credits_forecast, as of the
    period's end rather than today, so a stored review keeps its forecast."""
    as_of = min(max(period.end, w.start_date), w.end_date)
    elapsed = max((as_of - w.start_date).days, 1)
    remaining = max((w.end_date - as_of).days, 0)
    spending = (
        EntryKind.REDEMPTION,
        EntryKind.REFUND,
        EntryKind.CANCELLATION_FEE,
        EntryKind.EXCHANGE,
    )
    spent = max(-sum(e.amount for e in entries if e.kind in spending), 0)
    expired = any(e.kind == EntryKind.EXPIRY for e in entries)
    projected = max(Decimal(closing) - Decimal(spent) * remaining / elapsed, Decimal(0))
    return {
        "term_end": w.end_date.isoformat(),
        "request_by": request_by(w).isoformat(),
        "forecast_expiring": 0
        if expired
        else int(projected.quantize(Decimal("1"), rounding=ROUND_HALF_UP)),
    }


def _hours(work_orders, period: Period) -> list[dict]:
    """Hour blocks (R11): bought, used before and in the period, left at its end, and a
    burn-down of hours left at each month end of the term up to the period's end."""
    lines = [
        line
        for w in work_orders
        for line in w.lines.filter(service__is_hour_block=True).select_related(
            "service", "work_order"
        )
    ]
    if not lines:
        return []
    used_by_day: dict[int, list[tuple[dt.date, Decimal]]] = defaultdict(list)
    for line_id, day, hours in (
        TimeEntry.objects.filter(line__in=lines, worked_on__lte=period.end)
        .values("line_id", "worked_on")
        .annotate(h=Sum("hours"))
        .values_list("line_id", "worked_on", "h")
        .order_by("worked_on")
    ):
        used_by_day[line_id].append((day, hours))
    numbers = {w.pk: w.number for w in work_orders}
    out = []
    for line in sorted(lines, key=lambda li: (li.work_order_id, li.pk)):
        days = used_by_day.get(line.pk, [])
        before = sum((h for d, h in days if d < period.start), Decimal(0))
        during = sum((h for d, h in days if period.start <= d <= period.end), Decimal(0))
        left = line.quantity - before - during
        expired = (
            line.expired_at is not None
            and line.expired_at.astimezone(business_zone()).date() <= period.end
        )
        burndown = []
        month = line.work_order.start_date.replace(day=1)
        last = min(period.end, line.work_order.end_date)
        while month <= last:
            month_end = min(next_month(month) - dt.timedelta(days=1), last)
            used = sum((h for d, h in days if d <= month_end), Decimal(0))
            burndown.append({"on": month_end.isoformat(), "left": _dec(line.quantity - used)})
            month = next_month(month)
        out.append(
            {
                "line_id": line.pk,
                "work_order_id": line.work_order_id,
                "number": numbers.get(line.work_order_id, ""),
                "service": line.service.code,
                "name": line.service.name,
                "quantity": _dec(line.quantity),
                "used_before": _dec(before),
                "used": _dec(during),
                "left": _dec(Decimal(0) if expired else left),
                "expired": _dec(left) if expired else "0",
                "ends_on": (line.ends_on or line.work_order.end_date).isoformat(),
                "burndown": burndown,
            }
        )
    return out


def _satisfaction(wo_ids, start, end) -> dict:
    ratings = satisfaction_ratings(work_order_ids=wo_ids, start=start, end=end)
    if ratings is None:
        return {"collected": False, "count": 0, "average": None, "scores": [], "comments": []}
    scores = Counter(r.score for r in ratings)
    average = (
        _dec((Decimal(sum(r.score for r in ratings)) / len(ratings)).quantize(Decimal("0.01")))
        if ratings
        else None
    )
    return {
        "collected": True,
        "count": len(ratings),
        "average": average,
        "scores": [{"score": s, "count": scores.get(s, 0)} for s in range(1, 6)],
        "comments": [
            {
                "number": r.incident.number,
                "score": r.score,
                "comment": r.comment,
                "rated_at": utc_iso(r.rated_at),
            }
            for r in ratings
            if (r.comment or "").strip()
        ],
    }


def _next_period(work_orders, period: Period, figures: dict, today: dt.date) -> dict:
    """What the next period holds: terms ending (credits and hours lapse, R14), R15 cut-offs
    falling in it, and redemptions scheduled in it."""
    nxt = following(period)
    if nxt is None:  # term to date: the next 90 days from the day after it
        first = period.end + dt.timedelta(days=1)
        nxt = Period("next", "window", first, first + dt.timedelta(days=89))
    credit_rows = {c["work_order_id"]: c for c in figures["credits"]["work_orders"]}
    expiring, cutoffs = [], []
    for w in work_orders:
        if nxt.start <= w.end_date <= nxt.end:
            hours_left = sum(
                (Decimal(h["left"]) for h in figures["hours"] if h["work_order_id"] == w.pk),
                Decimal(0),
            )
            expiring.append(
                {
                    "work_order_id": w.pk,
                    "number": w.number,
                    "on": w.end_date.isoformat(),
                    "credits": credit_rows[w.pk]["closing_balance"],
                    "forecast_expiring": credit_rows[w.pk]["forecast_expiring"],
                    "hours_left": _dec(hours_left),
                }
            )
        cut = request_by(w)
        if w.package in CUTOFF_PACKAGES and period.end < cut and cut <= nxt.end:
            cutoffs.append(
                {
                    "work_order_id": w.pk,
                    "number": w.number,
                    "request_by": cut.isoformat(),
                    "credits": credit_rows[w.pk]["closing_balance"],
                }
            )
    scheduled = [
        {
            "redemption_id": r.pk,
            "work_order_id": r.work_order_id,
            "service": r.service.code,
            "name": r.service.name,
            "scheduled_for": r.scheduled_for.isoformat(),
            "credits": r.credits,
        }
        for r in Redemption.objects.filter(
            work_order__in=work_orders,
            status=RedemptionStatus.SCHEDULED,
            scheduled_for__gte=nxt.start,
            scheduled_for__lte=nxt.end,
        )
        .select_related("service")
        .order_by("scheduled_for", "id")
    ]
    return {
        "period": nxt.as_dict(),
        "expiring": expiring,
        "cutoffs": cutoffs,
        "scheduled": scheduled,
    }
