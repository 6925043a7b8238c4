"""Server-rendered SVG charts: no JavaScript, no chart library, CSP-safe.

The drawing kit the dashboard (portal.charts) and the service review (reviews.charts)
share: the canvas and its colours, the accessible <svg role="img"> with a <title> and
<desc> (a screen reader gets the numbers a sighted reader sees), a round axis maximum,
the y axis, and the monthly SLA attainment bars. Colours are SVG presentation
attributes, not `style=` attributes, which CSP `style-src 'self'` would block.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from itertools import count

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

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


def svg(title: str, desc: str, body: list[str], height: int = HEIGHT) -> SafeString:
    n = next(_ids)
    return mark_safe(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="chart-t{n} chart-d{n}" xmlns="http://www.w3.org/2000/svg" '
        f'font-family="system-ui, sans-serif" font-size="14">'
        f'<title id="chart-t{n}">{escape(title)}</title><desc id="chart-d{n}">{escape(desc)}</desc>'
        + "".join(body)
        + "</svg>"
    )


def nice_max(value: float) -> float:
    """A round axis maximum at or above value (1, 2, 2.5, 5 x 10^n)."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return float(step * magnitude)
    return float(10 * magnitude)


def y_axis(max_value: float, height: int, fmt=lambda v: f"{v:g}") -> list[str]:
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


def sla_attainment(
    months: Sequence[tuple[dt.date, int, int]],
    *,
    percent: Callable[[float], str],
    month_label: Callable[[dt.date], str],
) -> SafeString:
    """Per month: the share of first responses met (green) and missed (red), stacked to 100%;
    the axis written with `percent`, each month with `month_label` (the caller's formats)."""
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    body = y_axis(100, HEIGHT, fmt=percent)
    slot = plot_w / max(len(months), 1)
    bar_w = min(slot * 0.6, 48)
    lines = []
    for i, (month, met, missed) in enumerate(months):
        total = met + missed
        cx = PAD_LEFT + slot * i + slot / 2
        label = month_label(month)
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
    return svg(_("SLA attainment per month"), desc, body)
