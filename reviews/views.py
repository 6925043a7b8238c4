"""Service review pages, mounted at /reviews/ by portal.urls: a work order's review, a
customer's review across its work orders (each as a page, a PDF and CSV), and the staff
overview. Everything is read through the one door: another customer's is a 404."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _

from accounts.permissions import is_staff
from contracts.models import Customer, WorkOrder
from reviews import selectors, services
from reviews.periods import Period, PeriodError, month_period, parse_period, previous_month
from reviews.render import render_pdf, review_context
from reviews.tables import Table, to_csv

OVERVIEW_SORTS = (
    "account_manager",
    "package",
    "work_orders",
    "customers",
    "incidents",
    "met",
    "missed",
    "percent",
    "credits_balance",
    "credits_at_risk",
)


def period_choices(*, start: dt.date, end: dt.date, today: dt.date) -> list[tuple[str, str]]:
    """Months and quarters of the term up to today (newest first), and term to date."""
    choices, seen = [("term", _("Term to date"))], set()
    day = min(today, end).replace(day=1)
    while day >= start.replace(day=1):
        quarter = f"{day.year}-Q{(day.month - 1) // 3 + 1}"
        choices.append((f"{day:%Y-%m}", f"{day:%Y-%m}"))
        if quarter not in seen:
            seen.add(quarter)
            choices.append((quarter, quarter))
        day = (day - dt.timedelta(days=1)).replace(day=1)
    return choices


def _period(request, *, start: dt.date, end: dt.date, today: dt.date) -> Period:
    key = request.GET.get("period") or previous_month(today).key
    return parse_period(key, term_start=start, term_end=end, today=today)


def _filename(what: str, period: Period, ext: str) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in what)
    return f"service-review-{safe}-{period.key}.{ext}"


def _respond(request, *, fmt, context, period, what, template_context):
    if fmt == "pdf":
        response = HttpResponse(render_pdf(context), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{_filename(what, period, "pdf")}"'
        return response
    if fmt == "csv":
        key = request.GET.get("table") or None
        tables: list[Table] = context["tables"]
        if key is not None and key not in {t.key for t in tables}:
            return HttpResponse(
                _("Unknown table %(key)s. Tables: %(keys)s.")
                % {"key": key, "keys": ", ".join(t.key for t in tables)},
                status=400,
                content_type="text/plain; charset=utf-8",
            )
        response = HttpResponse(to_csv(tables, key=key), content_type="text/csv; charset=utf-8")
        name = _filename(what + (f"-{key}" if key else ""), period, "csv")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    return render(request, "reviews/review.html", {**context, **template_context})


def _bad_period(request, template_context, status=400):
    return render(
        request,
        "reviews/review.html",
        {
            **template_context,
            "period_error": _(
                "Choose a period as a month (2026-09), a quarter (2026-Q3) or the term to date."
            ),
        },
        status=status,
    )


@login_required
def work_order_review(request, pk, fmt="html"):
    work_order = get_object_or_404(
        WorkOrder.objects.visible_to(request.user).select_related(
            "customer", "account_manager", "support_location"
        ),
        pk=pk,
    )
    today = selectors.business_today()
    base = {
        "nav_section": "work_orders" if is_staff(request.user) else "home",
        "work_order": work_order,
        "customer": work_order.customer,
        "choices": period_choices(
            start=work_order.start_date, end=work_order.end_date, today=today
        ),
    }
    try:
        period = _period(request, start=work_order.start_date, end=work_order.end_date, today=today)
    except PeriodError:
        return _bad_period(request, base)
    figures, stored = services.review_obtain(
        actor=request.user, period=period, work_order=work_order, today=today
    )
    context = review_context(figures, staff=is_staff(request.user), stored=stored)
    base["period_key"] = period.key
    return _respond(
        request,
        fmt=fmt,
        context=context,
        period=period,
        what=work_order.number,
        template_context=base,
    )


@login_required
def customer_review(request, pk, fmt="html"):
    customer = get_object_or_404(Customer.objects.visible_to(request.user), pk=pk)
    today = selectors.business_today()
    terms = list(
        WorkOrder.objects.visible_to(request.user)
        .filter(customer=customer)
        .values_list("start_date", "end_date")
    )
    if not terms:
        raise Http404
    start = min(s for s, _e in terms)
    # Term to date: from the start of the work orders running today (else the latest).
    running = [s for s, e in terms if s <= today <= e]
    term_start = min(running) if running else max(s for s, _e in terms)
    end = max(e for _s, e in terms)
    base = {
        "nav_section": "customers" if is_staff(request.user) else "home",
        "customer": customer,
        "choices": period_choices(start=start, end=end, today=today),
    }
    try:
        period = _period(request, start=term_start, end=end, today=today)
    except PeriodError:
        return _bad_period(request, base)
    figures, stored = services.review_obtain(
        actor=request.user, period=period, customer=customer, today=today
    )
    context = review_context(figures, staff=is_staff(request.user), stored=stored)
    base["period_key"] = period.key
    return _respond(
        request, fmt=fmt, context=context, period=period, what=customer.code, template_context=base
    )


@login_required
def overview(request):
    """Staff: attainment and credits at risk by account manager and package, sortable,
    exportable as CSV (`?format=csv`)."""
    if not is_staff(request.user):
        raise PermissionDenied
    today = selectors.business_today()
    key = request.GET.get("period") or f"{today.year}-Q{(today.month - 1) // 3 + 1}"
    try:
        period = parse_period(key, term_start=today, term_end=today, today=today)
    except PeriodError:
        period = None
    if period is None or period.kind == "term":
        return render(
            request,
            "reviews/overview.html",
            {
                "nav_section": "dashboard",
                "rows": [],
                "period_error": _("Choose a month (2026-09) or a quarter (2026-Q3)."),
            },
            status=400,
        )
    sort = request.GET.get("sort") or "account_manager"
    descending = sort.startswith("-")
    field = sort.lstrip("-")
    if field not in OVERVIEW_SORTS:
        field, descending = "account_manager", False
    rows = selectors.overview_rows(actor=request.user, period=period, today=today)

    def sort_key(row):
        value = row[field]
        if field == "percent":
            value = float(value) if value is not None else -1.0
        return (value, row["account_manager"], row["package"])

    rows.sort(key=sort_key, reverse=descending)
    headers = [
        ("account_manager", _("Account manager")),
        ("package", _("Package")),
        ("work_orders", _("Work orders")),
        ("customers", _("Customers")),
        ("incidents", _("Incidents")),
        ("met", _("Met")),
        ("missed", _("Missed")),
        ("percent", _("Met %")),
        ("credits_balance", _("Credit balance")),
        ("credits_at_risk", _("Credits at risk")),
    ]
    if request.GET.get("format") == "csv":
        table = Table(
            "overview",
            _("Service overview"),
            [h for _k, h in headers],
            [[r[k] for k, _h in headers] for r in rows],
        )
        response = HttpResponse(
            to_csv([table], key="overview"), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = (
            f'attachment; filename="service-overview-{period.key}.csv"'
        )
        return response
    months = [month_period(d.year, d.month).key for d in period.months()]
    return render(
        request,
        "reviews/overview.html",
        {
            "nav_section": "dashboard",
            "rows": rows,
            "headers": headers,
            "sort": field,
            "descending": descending,
            "period": period,
            "months": months,
        },
    )
