"""Server-rendered SVG charts of the dashboard, drawn with core.charts (no JavaScript,
no chart library, CSP-safe).

Each function takes plain data (already read by a view) and returns a SafeString
holding an accessible <svg role="img"> with a <title> and <desc>, so a screen reader
gets the numbers a sighted reader sees. Colours are SVG presentation attributes, not
`style=` attributes, which CSP `style-src 'self'` would block.
"""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from core import charts, formatting
from core.charts import (
    ACTUAL,
    BOUGHT,
    FORECAST,
    HEIGHT,
    INK,
    MUTED,
    PAD_BOTTOM,
    PAD_LEFT,
    PAD_RIGHT,
    PAD_TOP,
    USED,
    WIDTH,
)


@dataclass(frozen=True)
class BalancePoint:
    """The balance after a ledger entry on a day."""

    on: dt.date
    balance: int


def credit_burndown(
    *,
    points: Sequence[BalancePoint],
    start: dt.date,
    end: dt.date,
    today: dt.date,
    projected_end_balance: int,
) -> SafeString:
    """Proactive-credit balance over the term, and a dashed forecast from today to term end."""
    span = max((end - start).days, 1)
    peak = max([p.balance for p in points] + [projected_end_balance, 1])
    y_max = charts.nice_max(peak)
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM

    def x(day: dt.date) -> float:
        return PAD_LEFT + plot_w * min(max((day - start).days, 0), span) / span

    def y(value: float) -> float:
        return PAD_TOP + plot_h - plot_h * value / y_max

    body = charts.y_axis(y_max, HEIGHT, fmt=formatting.number)
    # Step line: the balance holds until the next entry.
    path, last = [], 0
    current_day = start
    path.append(f"M{x(start):.1f},{y(0):.1f}")
    for p in sorted(points, key=lambda p: p.on):
        path.append(f"L{x(p.on):.1f},{y(last):.1f}")
        path.append(f"L{x(p.on):.1f},{y(p.balance):.1f}")
        last, current_day = p.balance, p.on
    now_day = min(max(today, start), end)
    if now_day >= current_day:
        path.append(f"L{x(now_day):.1f},{y(last):.1f}")
    body.append(f'<path d="{" ".join(path)}" fill="none" stroke="{ACTUAL}" stroke-width="2.5"/>')
    if today < end:
        body.append(
            f'<line x1="{x(now_day):.1f}" y1="{y(last):.1f}" x2="{x(end):.1f}" y2="{y(projected_end_balance):.1f}" '
            f'stroke="{FORECAST}" stroke-width="2.5" stroke-dasharray="6 5"/>'
        )
        body.append(
            f'<line x1="{x(now_day):.1f}" y1="{PAD_TOP}" x2="{x(now_day):.1f}" y2="{HEIGHT - PAD_BOTTOM}" '
            f'stroke="{MUTED}" stroke-dasharray="2 3"/>'
        )
        body.append(
            f'<text x="{x(now_day) + 4:.1f}" y="{PAD_TOP + 12}" fill="{MUTED}">{escape(_("today"))}</text>'
        )
    for day, anchor in ((start, "start"), (end, "end")):
        body.append(
            f'<text x="{x(day):.1f}" y="{HEIGHT - 12}" text-anchor="{anchor}" fill="{MUTED}">'
            f"{escape(formatting.fmt_date(day, 'day'))}</text>"
        )
    desc = _("Balance now %(now)s credits; forecast at term end %(end)s credits.") % {
        "now": formatting.number(last),
        "end": formatting.number(projected_end_balance),
    }
    return charts.svg(_("Credit burn-down"), desc, body)


def sla_attainment(months: Sequence[tuple[dt.date, int, int]]) -> SafeString:
    """Per month: the share of first responses met and missed (core.charts), in the
    reader's number and month formats (core.formatting)."""
    return charts.sla_attainment(
        months,
        percent=formatting.percent,
        month_label=lambda month: formatting.fmt_date(month, "month"),
    )


def hours_used(rows: Sequence[tuple[str, Decimal, Decimal]]) -> SafeString:
    """Horizontal bars per hour block: bought (light) and used (dark) hours (R11)."""
    # The block's full name on its own line above its bar: never cut ("Designated Support Engin").
    row_h = 64
    height = PAD_TOP + row_h * max(len(rows), 1) + PAD_BOTTOM
    label_w = 0
    plot_w = WIDTH - PAD_RIGHT - 220
    peak = charts.nice_max(float(max([r[1] for r in rows] + [Decimal(1)])))
    body = []
    desc_parts = []
    for i, (label, bought, used) in enumerate(rows):
        y = PAD_TOP + i * row_h
        bw = plot_w * float(bought) / peak
        uw = plot_w * float(min(used, bought)) / peak
        body.append(f'<text x="0" y="{y + 2}" fill="{INK}">{escape(label)}</text>')
        body.append(
            f'<rect x="{label_w}" y="{y + 14}" width="{bw:.1f}" height="24" rx="3" fill="{BOUGHT}"/>'
        )
        body.append(
            f'<rect x="{label_w}" y="{y + 14}" width="{uw:.1f}" height="24" rx="3" fill="{USED}"/>'
        )
        text = f"{formatting.number(used)} / {formatting.hours(bought)}"
        body.append(
            f'<text x="{label_w + bw + 6:.1f}" y="{y + 32}" fill="{MUTED}">{escape(text)}</text>'
        )
        desc_parts.append(f"{label}: {text}")
    if not rows:
        body.append(
            f'<text x="{WIDTH / 2}" y="{PAD_TOP + 20}" text-anchor="middle" fill="{MUTED}">-</text>'
        )
    desc = _("Hours used of hours bought: %(rows)s.") % {"rows": "; ".join(desc_parts) or "-"}
    return charts.svg(_("Hours used against bought"), desc, body, height=height)
