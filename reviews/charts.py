"""SVG charts of a service review, drawn on the server like portal.charts (no JavaScript,
CSP-safe, with <title>/<desc> for screen readers). Thick strokes, direct labels and
dashes besides colour, so they read on paper in black and white and on a phone
(the viewBox scales to the width)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from itertools import count

from django.utils.formats import date_format, number_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

# The drawing helpers and the attainment chart follow portal.charts (the dashboard's), kept
# here because an app does not import the top app portal (tests/test_architecture.py).

WIDTH, HEIGHT = 640, 260
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 52, 16, 16, 36
INK, MUTED, GRID = "#1b2330", "#5f6b7a", "#e3e7ed"
ACTUAL, FORECAST, BOUGHT, USED, MET, MISSED = (
    "#1f4fa3",
    "#b86e00",
    "#c8d3e6",
    "#1f4fa3",
    "#1d6b3a",
    "#a8201a",
)

_ids = count(1)


def _svg(title: str, desc: str, body: list[str], height: int = HEIGHT) -> SafeString:
    n = next(_ids)
    return mark_safe(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="chart-t{n} chart-d{n}" xmlns="http://www.w3.org/2000/svg" '
        f'font-family="system-ui, sans-serif" font-size="14">'
        f'<title id="chart-t{n}">{escape(title)}</title><desc id="chart-d{n}">{escape(desc)}</desc>'
        + "".join(body)
        + "</svg>"
    )


def _nice_max(value: float) -> float:
    """A round axis maximum at or above value (1, 2, 2.5, 5 x 10^n)."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return float(step * magnitude)
    return float(10 * magnitude)


def _y_axis(max_value: float, height: int, fmt=lambda v: f"{v:g}") -> list[str]:
    out = []
    plot_h = height - PAD_TOP - PAD_BOTTOM
    for i in range(5):
        value = max_value * i / 4
        y = PAD_TOP + plot_h - plot_h * i / 4
        out.append(
            f'<line x1="{PAD_LEFT}" y1="{y:.1f}" x2="{WIDTH - PAD_RIGHT}" y2="{y:.1f}" stroke="{GRID}"/>'
        )
        out.append(
            f'<text x="{PAD_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{MUTED}">{escape(fmt(value))}</text>'
        )
    return out


def sla_attainment(months: Sequence[tuple[dt.date, int, int]]) -> SafeString:
    """Per month: the share of first responses met (green) and missed (red), stacked to 100%."""
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    body = _y_axis(100, HEIGHT, fmt=lambda v: f"{v:g}%")
    slot = plot_w / max(len(months), 1)
    bar_w = min(slot * 0.6, 48)
    lines = []
    for i, (month, met, missed) in enumerate(months):
        total = met + missed
        cx = PAD_LEFT + slot * i + slot / 2
        label = date_format(month, "M Y")
        if total:
            met_h = plot_h * met / total
            missed_h = plot_h - met_h
            body.append(
                f'<rect x="{cx - bar_w / 2:.1f}" y="{PAD_TOP + missed_h:.1f}" width="{bar_w:.1f}" '
                f'height="{met_h:.1f}" fill="{MET}"/>'
            )
            if missed:
                body.append(
                    f'<rect x="{cx - bar_w / 2:.1f}" y="{PAD_TOP:.1f}" width="{bar_w:.1f}" '
                    f'height="{missed_h:.1f}" fill="{MISSED}"/>'
                )
            pct = round(100 * met / total)
            # The stack always reaches 100%: the label sits inside its top, in white.
            body.append(
                f'<text x="{cx:.1f}" y="{PAD_TOP + 16}" text-anchor="middle" fill="#ffffff" '
                f'font-weight="700">{pct}%</text>'
            )
            lines.append(f"{label}: {pct}% ({met}/{total})")
        else:
            lines.append(f"{label}: -")
        body.append(
            f'<text x="{cx:.1f}" y="{HEIGHT - 12}" text-anchor="middle" fill="{MUTED}">{escape(label)}</text>'
        )
    desc = _("First responses within target per month: %(months)s.") % {
        "months": "; ".join(lines) or "-"
    }
    return _svg(_("SLA attainment per month"), desc, body)


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
    y_max = _nice_max(peak)
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM

    def x(day: dt.date) -> float:
        return PAD_LEFT + plot_w * min(max((day - start).days, 0), span) / span

    def y(value: float) -> float:
        return PAD_TOP + plot_h - plot_h * value / y_max

    body = _y_axis(y_max, HEIGHT, fmt=lambda v: f"{v:g} h")
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
            f"{escape(date_format(day, 'j M Y'))}</text>"
        )
    text = _("Hours left per hour block at each month end: %(rows)s.") % {
        "rows": "; ".join(desc) or "-"
    }
    return _svg(_("Hours burn-down"), text, body)


def bars(title: str, rows: Sequence[tuple[str, int | float]], *, unit: str = "") -> SafeString:
    """Horizontal bars with the value written at the end of each (incidents per product,
    credits per service)."""
    row_h = 34
    height = PAD_TOP + row_h * max(len(rows), 1) + 12
    label_w = 220
    plot_w = WIDTH - label_w - PAD_RIGHT - 70
    peak = _nice_max(float(max([v for _label, v in rows] + [1])))
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
    return _svg(title, "; ".join(parts) or "-", body, height=height)
