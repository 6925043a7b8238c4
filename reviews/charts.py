"""SVG charts of a service review, drawn with core.charts like the dashboard's (no
JavaScript, CSP-safe, with <title>/<desc> for screen readers). Thick strokes, direct labels and
dashes besides colour, so they read on paper in black and white and on a phone
(the viewBox scales to the width)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from django.utils.formats import number_format
from django.utils.html import escape
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from core import charts, formatting
from core.charts import GRID, HEIGHT, INK, MUTED, PAD_BOTTOM, PAD_LEFT, PAD_RIGHT, PAD_TOP, WIDTH


def sla_attainment(months: Sequence[tuple[dt.date, int, int]]) -> SafeString:
    """Per month: the share of first responses met and missed (core.charts), the months
    written short ("Jul 2025", Dutch "jul 2025": core.formatting, issue #19)."""
    return charts.sla_attainment(
        months,
        percent=lambda v: f"{v:g}%",
        month_label=lambda month: formatting.fmt_date(month, "month"),
    )


#: Line colours and dash patterns: told apart in colour and in black-and-white print.
SERIES = (
    ("#1f4fa3", ""),
    ("#b86e00", "8 5"),
    ("#1d6b3a", "2 4"),
    ("#6a2c91", "10 4 2 4"),
)


def _short(label: str, limit: int = 26) -> str:
    """A label that fits beside a chart, cut at a word with an ellipsis."""
    if len(label) <= limit:
        return label
    return label[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,(") + "…"


def burndown(
    series: Sequence[tuple[str, Decimal, Sequence[tuple[dt.date, Decimal]]]],
    *,
    start: dt.date,
    end: dt.date,
) -> SafeString:
    """Hours left per hour block at each month end (R11), one line per block."""
    span = max((end - start).days, 1)
    peak = max([float(q) for _label, q, _pts in series] + [1.0])
    y_max = charts.nice_max(peak)
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM

    def x(day: dt.date) -> float:
        return PAD_LEFT + plot_w * min(max((day - start).days, 0), span) / span

    def y(value: float) -> float:
        return PAD_TOP + plot_h - plot_h * value / y_max

    body = charts.y_axis(y_max, HEIGHT, fmt=lambda v: f"{v:g} h")
    desc = []
    for n, (label, quantity, points) in enumerate(series):
        colour, dash = SERIES[n % len(SERIES)]
        path = [f"M{x(start):.1f},{y(float(quantity)):.1f}"]
        for day, left in points:
            path.append(f"L{x(day):.1f},{y(float(left)):.1f}")
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        body.append(
            f'<path d="{" ".join(path)}" fill="none" stroke="{colour}" stroke-width="3"{dash_attr}/>'
        )
        if points:
            last_day, last_left = points[-1]
            body.append(
                f'<text x="{min(x(last_day) + 4, WIDTH - PAD_RIGHT - 4):.1f}" '
                f'y="{y(float(last_left)) - 6:.1f}" text-anchor="end" fill="{INK}">'
                f"{escape(_short(label))}: {escape(number_format(last_left))} h</text>"
            )
            desc.append(f"{label}: {number_format(last_left)} / {number_format(quantity)} h")
    for day, anchor in ((start, "start"), (end, "end")):
        body.append(
            f'<text x="{x(day):.1f}" y="{HEIGHT - 12}" text-anchor="{anchor}" fill="{MUTED}">'
            f"{escape(formatting.fmt_date(day, 'day'))}</text>"
        )
    text = _("Hours left per hour block at each month end: %(rows)s.") % {
        "rows": "; ".join(desc) or "-"
    }
    return charts.svg(_("Hours burn-down"), text, body)


def bars(title: str, rows: Sequence[tuple[str, int | float]], *, unit: str = "") -> SafeString:
    """Horizontal bars with the value written at the end of each (incidents per product,
    credits per service)."""
    row_h = 34
    height = PAD_TOP + row_h * max(len(rows), 1) + 12
    label_w = 220
    plot_w = WIDTH - label_w - PAD_RIGHT - 70
    peak = charts.nice_max(float(max([v for _label, v in rows] + [1])))
    body = []
    parts = []
    for i, (label, value) in enumerate(rows):
        top = PAD_TOP + i * row_h
        w = plot_w * float(value) / peak
        shown = f"{number_format(value)}{(' ' + unit) if unit else ''}"
        body.append(
            f'<text x="{label_w - 8}" y="{top + 21}" text-anchor="end" fill="{INK}">'
            f"{escape(_short(label))}</text>"
        )
        body.append(
            f'<rect x="{label_w}" y="{top + 6}" width="{w:.1f}" height="22" rx="2" '
            f'fill="{SERIES[0][0]}" stroke="{INK}" stroke-width="0.5"/>'
        )
        body.append(
            f'<text x="{label_w + w + 6:.1f}" y="{top + 21}" fill="{INK}">{escape(shown)}</text>'
        )
        parts.append(f"{label}: {shown}")
    if not rows:
        body.append(
            f'<text x="{WIDTH / 2}" y="{PAD_TOP + 20}" text-anchor="middle" fill="{MUTED}">-</text>'
        )
    body.insert(
        0,
        f'<line x1="{label_w}" y1="{PAD_TOP}" x2="{label_w}" y2="{height - 12}" stroke="{GRID}"/>',
    )
    return charts.svg(title, "; ".join(parts) or "-", body, height=height)
