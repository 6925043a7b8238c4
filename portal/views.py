"""Project-level pages: health, home (staff dashboard or the customer's start page),
preferences, and the work-order overview that composes contracts, credits and
incidents (portal may import every app; the apps never import portal views)."""

import datetime as dt
import zoneinfo
from functools import lru_cache

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.db.models import DateField, ExpressionWrapper, F, Prefetch, Q, Sum
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from accounts.permissions import can_act_for_customer, can_edit, is_staff
from contracts.models import NamedContact, WorkOrder, WorkOrderLine
from contracts.times import work_order_today
from core.forms import PortalForm
from core.times import business_today
from credits import selectors as credit_selectors
from credits.forms import ShortfallInvoiceForm
from incidents import selectors
from incidents.choices import OPEN_STATUSES, SeverityRequestState
from incidents.models import AttainmentMonth, Incident
from incidents.services.attainment import month_starts
from portal import charts
from services.choices import PROACTIVE_CREDITS, Availability, Package
from services.models import Service

#: R15: requests for proactive services must be in 60 days before the end.
CUTOFF_DAYS = 60


def healthz(request):
    ok = True
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # report, never raise: this is the health endpoint
        ok = False
        checks["database"] = f"error: {exc.__class__.__name__}"
    return JsonResponse(
        {"status": "ok" if ok else "error", "checks": checks}, status=200 if ok else 503
    )


@login_required
def home(request):
    if is_staff(request.user):
        return dashboard(request)
    return customer_home(request)


# --- staff dashboard ------------------------------------------------------------------------


#: How far back an incident due today can have been opened (see dashboard()).
BREACH_LOOKBACK_DAYS = 31


def _sla_months_of_work_order(work_order, months: int = 6, today: dt.date | None = None):
    """(first day of month, met, missed) of one work order, oldest first, from the
    AttainmentMonth rows the worker precomputes (issue #20: aggregating a busy work
    order's incidents per request took 0.4-0.6 s at three million incidents)."""
    today = today or business_today()
    starts = month_starts(months, today)
    by_month = {
        r.month: r
        for r in AttainmentMonth.objects.filter(work_order=work_order, month__gte=starts[0])
    }
    return [
        (m, by_month[m].met if m in by_month else 0, by_month[m].missed if m in by_month else 0)
        for m in starts
    ]


def _sla_months_precomputed(actor, months: int = 6, today: dt.date | None = None):
    """(first day of month, met, missed) from AttainmentMonth rows, oldest first."""
    today = today or timezone.localdate()
    starts = month_starts(months, today)
    rows = (
        AttainmentMonth.objects.visible_to(actor)
        .filter(month__gte=starts[0])
        .values("month")
        .annotate(met=Sum("met"), missed=Sum("missed"))
    )
    by_month = {r["month"]: r for r in rows}
    return [
        (m, by_month.get(m, {}).get("met", 0), by_month.get(m, {}).get("missed", 0)) for m in starts
    ]


def dashboard(request):
    """Staff: deadlines due soon, breaches today, work orders near the cut-off or their end,
    credits at risk of expiring (R14, R15)."""
    now = timezone.now()
    today = business_today()
    hours = _int_param(request, "hours", 8, 1, 72)
    raw_hours = request.GET.get("hours")
    if raw_hours not in (None, "") and raw_hours != str(hours):
        # Not silently: say what the window was set to instead.
        messages.warning(
            request,
            _("The window is 1 to 72 hours; %(given)s was taken as %(hours)s.")
            % {"given": raw_hours[:12], "hours": hours},
        )
    incidents = Incident.objects.visible_to(request.user).select_related(
        "work_order__customer", "contact"
    )
    due_soon = list(
        incidents.filter(
            status__in=OPEN_STATUSES,
            responded_at__isnull=True,
            response_due_at__lte=now + dt.timedelta(hours=hours),
        ).order_by("response_due_at")[:20]
    )
    start_of_day = timezone.make_aware(dt.datetime.combine(today, dt.time.min))
    breaches_today = list(
        incidents.filter(
            response_due_at__gte=start_of_day,
            response_due_at__lte=now,
            # A first response is due within days of opening (R4: at most 8 business
            # hours; holidays stretch it), so this bound changes no result and lets
            # incident_list_opened_idx read the last weeks, not three years (issue #20).
            opened_at__gte=start_of_day - dt.timedelta(days=BREACH_LOOKBACK_DAYS),
        )
        .filter(Q(responded_at__isnull=True) | Q(responded_at__gt=F("response_due_at")))
        .order_by("-response_due_at")[:20]
    )
    work_orders = WorkOrder.objects.visible_to(request.user).select_related(
        "customer", "account_manager", "support_location"
    )
    # Current, and every window below, on each work order's own today (contracts.times).
    active = work_orders.current()

    def days_on(days: int):
        return ExpressionWrapper(F("local_today") + dt.timedelta(days=days), DateField())

    # R15: the cut-off is 60 days before the end; show those reaching it within 30 days.
    near_cutoff = list(
        active.filter(
            package__in=[Package.ADVANCED, Package.PERFORMANCE],
            end_date__gte=days_on(CUTOFF_DAYS),
            end_date__lte=days_on(CUTOFF_DAYS + 30),
        ).order_by("end_date")[:20]
    )
    for wo in near_cutoff:
        wo.cutoff_date = wo.end_date - dt.timedelta(days=CUTOFF_DAYS)
    ending = list(active.filter(end_date__lte=days_on(CUTOFF_DAYS)).order_by("end_date")[:20])
    # R14: unused credits expire at the end: forecast the balance left then.
    at_risk = []
    candidates = active.filter(credit_account__balance__gt=0, end_date__lte=days_on(180))
    for wo in candidates.order_by("end_date")[:10]:
        forecast = credit_selectors.credits_forecast(work_order=wo)
        if forecast["at_risk"] > 0:
            at_risk.append((wo, forecast))
    context = {
        "nav_section": "dashboard",
        "hours": hours,
        "due_soon": due_soon,
        "breaches_today": breaches_today,
        "near_cutoff": near_cutoff,
        "ending": ending,
        "at_risk": at_risk,
        "open_count": incidents.filter(status__in=OPEN_STATUSES).count(),
        # Customers' severity requests (R3) waiting for a decision (issue #17).
        "severity_requests": selectors.severity_requests(actor=request.user).filter(
            state=SeverityRequestState.OPEN
        )[:10],
        "active_count": active.count(),
        # Precomputed by the worker (incidents.tasks.refresh_attainment, every 5 minutes):
        # aggregating six months of every customer's incidents per request took 0.6 s at
        # three million incidents (issue #20).
        "sla_chart": charts.sla_attainment(_sla_months_precomputed(request.user, today=today)),
        "now": now,
    }
    return render(request, "portal/dashboard.html", context)


def _int_param(request, name, default, low, high):
    try:
        return min(max(int(request.GET.get(name, default)), low), high)
    except (TypeError, ValueError):
        return default


# --- customer start page --------------------------------------------------------------------


def customer_home(request):
    """A customer contact's start page: their work orders and open incidents."""
    work_orders = (
        WorkOrder.objects.visible_to(request.user)
        .select_related("customer", "credit_account", "support_location")
        .prefetch_related(
            Prefetch("lines", queryset=WorkOrderLine.objects.select_related("service"))
        )
        .order_by("-end_date")
    )
    # In the queue's order (unanswered first, soonest deadline on top), which the
    # customer's queue index answers: no sort of every open incident (issue #20).
    incidents = selectors.queue_order(
        Incident.objects.visible_to(request.user)
        .filter(status__in=OPEN_STATUSES)
        .select_related("work_order", "contact")
    )[:10]
    return render(
        request,
        "portal/customer_home.html",
        {
            "nav_section": "home",
            "work_orders": work_orders,
            "incidents": incidents,
            "today": business_today(),
        },
    )


# --- work order overview (both sides) ---------------------------------------------------


def _included_services(package: str):
    return [s for s in _catalogue() if s.availability_for(package) == Availability.INCLUDED]


def _catalogue():
    return list(Service.objects.order_by("category", "name"))


@login_required
def work_order_overview(request, pk):
    """What a work order holds: package, term, included vs bought, credits and ledger,
    hour blocks, incidents, with charts. Another customer's work order is a 404."""
    work_order = get_object_or_404(
        WorkOrder.objects.visible_to(request.user).select_related(
            "customer", "account_manager", "support_location"
        ),
        pk=pk,
    )
    today = work_order_today(work_order)
    lines = list(work_order.lines.select_related("service").order_by("service__name"))
    hour_lines = [line for line in lines if line.service.is_hour_block or line.unit == "hours"]
    # The newest 50 entries (the table), and one point per day for the chart, both read
    # by the database: a long ledger is never loaded whole (issue #20).
    entries = list(
        credit_selectors.ledger(work_order=work_order, actor=request.user).reverse()[:50]
    )
    forecast = credit_selectors.credits_forecast(work_order=work_order, today=today)
    redemptions = list(
        credit_selectors.redemption_list(actor=request.user, work_order=work_order)[:50]
    )
    # R18: shortfall invoices (read-only for the customer); editors record one from here.
    shortfall = credit_selectors.shortfall_summary(work_order=work_order, actor=request.user)
    incidents_qs = Incident.objects.visible_to(request.user).filter(work_order=work_order)
    incidents = list(incidents_qs.select_related("contact").order_by("-opened_at")[:10])
    contacts = list(
        NamedContact.objects.visible_to(request.user).filter(work_order=work_order).order_by("name")
    )
    # One selector per figure: the credits line's used/remaining and the "available" card
    # both come from the ledger (credits.selectors.credit_figures).
    figures = credit_selectors.credit_figures(work_order=work_order)
    for line in lines:
        line.shown_used = line.shown_remaining = None
        if line.service.code == PROACTIVE_CREDITS:
            line.shown_used, line.shown_remaining = figures["spent"], figures["available"]
    points = [
        charts.BalancePoint(day, balance)
        for day, balance in credit_selectors.daily_balances(work_order=work_order)
    ]
    context = {
        "nav_section": "work_orders" if is_staff(request.user) else "home",
        "work_order": work_order,
        "lines": lines,
        "hour_lines": hour_lines,
        "included": _included_services(work_order.package),
        "entries": entries,
        "balance": figures["available"],
        "credit_figures": figures,
        "forecast": forecast,
        "redemptions": redemptions,
        "shortfall": shortfall,
        "shortfall_form": ShortfallInvoiceForm(prefix="shortfall", work_order=work_order)
        if can_edit(request.user) and work_order.terminated_at is None
        else None,
        "incidents": incidents,
        "contacts": contacts,
        "today": today,
        "can_edit": can_edit(request.user),
        "can_act": can_act_for_customer(request.user),
        "burndown_chart": charts.credit_burndown(
            points=points,
            start=work_order.start_date,
            end=work_order.end_date,
            today=today,
            projected_end_balance=forecast["projected_balance_at_end"],
        )
        if entries
        else None,
        # R14 per year: "N hours lapsed at the anniversary on <date>", as on the burn-down.
        "hour_lapses": list(
            credit_selectors.hour_lapse_list(actor=request.user, work_order=work_order)
        )
        if hour_lines
        else [],
        "hours_chart": charts.hours_used(
            [(line.service.name, line.quantity, line.used) for line in hour_lines]
        )
        if hour_lines
        else None,
        "sla_chart": charts.sla_attainment(_sla_months_of_work_order(work_order, today=today))
        if incidents
        else None,
        "cutoff_date": work_order.end_date - dt.timedelta(days=CUTOFF_DAYS),
        "cutoff_applies": work_order.package in (Package.ADVANCED, Package.PERFORMANCE),
    }
    return render(request, "portal/work_order_overview.html", context)


# --- preferences -----------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _time_zone_choices():
    zones = sorted(
        z
        for z in zoneinfo.available_timezones()
        if "/" in z and not z.startswith(("Etc/", "SystemV/"))
    )
    return [("", _("Default (%(zone)s)") % {"zone": settings.TIME_ZONE})] + [
        (z, z.replace("_", " ")) for z in zones
    ]


class PreferencesForm(PortalForm):
    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        help_text=_("The language of the portal and of e-mails to you."),
    )
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        required=False,
        help_text=_("Dates and times are shown in this time zone."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [("", _("Browser default"))] + [
            (code, name) for code, name in settings.LANGUAGES
        ]
        self.fields["time_zone"].choices = _time_zone_choices()


@login_required
def preferences(request):
    """The signed-in user's language and time zone (UserPreferencesMiddleware applies them)."""
    user = request.user
    if request.method == "POST":
        form = PreferencesForm(request.POST)
        if form.is_valid():
            user.language = form.cleaned_data["language"]
            user.time_zone = form.cleaned_data["time_zone"]
            # The user's own profile, not a domain row: no service function involved.
            user.save(update_fields=["language", "time_zone"])
            if user.language:
                translation.activate(user.language)
            messages.success(request, _("Your preferences were saved."))
            response = redirect("preferences")
            # The language cookie outranks the profile (middleware): keep them in step.
            if user.language:
                response.set_cookie(settings.LANGUAGE_COOKIE_NAME, user.language, samesite="Lax")
            else:
                response.delete_cookie(settings.LANGUAGE_COOKIE_NAME)
            return response
    else:
        form = PreferencesForm(initial={"language": user.language, "time_zone": user.time_zone})
    return render(request, "portal/preferences.html", {"form": form, "nav_section": "preferences"})
