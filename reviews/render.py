"""A review's figures made readable: tables, charts and the summary for the page and the
PDF, and the PDF itself (WeasyPrint, offline)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from reviews import charts
from reviews.selectors import business_today
from reviews.tables import EXPLAINED_ON_PAGE, build_tables, explanation

STATIC = Path(settings.BASE_DIR) / "static"


def review_context(figures: dict, *, staff: bool, stored=None) -> dict:
    """Everything a review template shows, from the stored or computed figures."""
    tables = build_tables(figures, staff=staff)
    by_key = {t.key: t for t in tables}
    period = figures["period"]
    months = {}
    for row in figures["attainment"]["rows"]:
        met, missed = months.get(row["month"], (0, 0))
        months[row["month"]] = (met + row["met"], missed + row["missed"])
    attainment_chart = charts.sla_attainment(
        [(parse_date(m + "-01"), met, missed) for m, (met, missed) in sorted(months.items())]
    )
    product_chart = charts.bars(
        _("Incidents opened by product"),
        [
            (r["product"] or _("(not given)"), r["total"])
            for r in figures["incidents"]["by_product"][:8]
        ],
    )
    credit_chart = (
        charts.bars(
            _("Credits redeemed by service"),
            [(r["name"], r["credits"]) for r in figures["credits"]["redeemed_by_service"][:8]],
            unit=_("credits"),
        )
        if figures["credits"]["redeemed_by_service"]
        else None
    )
    hours_chart = None
    if figures["hours"]:
        start = min(parse_date(w["start_date"]) for w in figures["work_orders"])
        end = max(
            parse_date(p["on"])
            for h in figures["hours"]
            for p in h["burndown"] or [{"on": period["end"]}]
        )
        hours_chart = charts.burndown(
            [
                (
                    f"{h['name']} ({h['number']})",
                    Decimal(h["quantity"]),
                    [(parse_date(p["on"]), Decimal(p["left"])) for p in h["burndown"]],
                )
                for h in figures["hours"]
            ],
            start=start,
            end=max(end, start + dt.timedelta(days=1)),
        )
    breaches = [
        {**b, "sentences": explanation(b, staff=staff)}
        for b in figures["breaches"][:EXPLAINED_ON_PAGE]
    ]
    return {
        "figures": figures,
        "tables": tables,
        "t": by_key,
        "staff_view": staff,
        "stored": stored,
        "period_start": parse_date(period["start"]),
        "period_end": parse_date(period["end"]),
        "as_of": parse_date(figures["as_of"]),
        "breach_details": breaches,
        "breaches_unexplained": max(len(figures["breaches"]) - EXPLAINED_ON_PAGE, 0),
        "finished": parse_date(period["end"]) < business_today(),
        "attainment_chart": attainment_chart,
        "product_chart": product_chart,
        "credit_chart": credit_chart,
        "hours_chart": hours_chart,
        "work_orders": [
            {**w, "start": parse_date(w["start_date"]), "end": parse_date(w["end_date"])}
            for w in figures["work_orders"]
        ],
    }


def _offline_fetcher(url, *args, **kwargs):
    """WeasyPrint's URL fetcher: our own static files only, never the network."""
    from weasyprint.urls import default_url_fetcher

    if url.startswith("file://") and Path(url[7:]).resolve().is_relative_to(STATIC.resolve()):
        return default_url_fetcher(url, *args, **kwargs)
    raise ValueError(f"review PDFs load no outside resource: {url}")


def render_pdf(context: dict) -> bytes:
    """The whole review as a PDF (A4, the print stylesheet), rendered without network."""
    from weasyprint import CSS, HTML

    html = render_to_string("reviews/review_pdf.html", context)
    return HTML(string=html, base_url=str(STATIC), url_fetcher=_offline_fetcher).write_pdf(
        stylesheets=[CSS(filename=str(STATIC / "css" / "review-print.css"))]
    )
