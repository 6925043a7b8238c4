"""Every table of a service review, defined once from its figures: the page, the PDF and
the CSV exports all read these, so the CSV holds exactly what the reader sees.

Cells are plain values (str, int, Decimal, date, datetime); the templates format them in
the reader's language and zone, the CSV writes them as ISO dates and plain numbers.
Headers and labels are in the active language; R-numbers appear for staff only.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from incidents.choices import DeadlineKind, EventKind, Severity
from reviews.selectors import without_rule_numbers

#: Rows of a long table (breaches, escalations, comments ...) on the page and in the PDF:
#: a quarter at scale has a thousand breaches, which no one reads on paper (549 pages);
#: the CSV holds them all, and the page says how many more there are.
PAGE_LIMIT = 50
LONG_TABLES = frozenset(
    {
        "incidents_by_product",
        "breaches",
        "escalations",
        "customer_misses",
        "credits_by_service",
        "cancellations",
        "lapsed",
        "satisfaction_comments",
        "next_period",
    }
)
#: Breaches whose full explanation is printed under the table.
EXPLAINED_ON_PAGE = 20


@dataclass
class Table:
    """One table of a review: a stable key (the CSV's `table=`), a title, headers, rows."""

    key: str
    title: str
    headers: list[str]
    rows: list[list] = field(default_factory=list)
    #: columns holding numbers (right-aligned on the page)
    numeric: tuple[int, ...] = ()
    #: columns written to the CSV only (long text the page shows elsewhere)
    csv_only: tuple[int, ...] = ()
    #: rows shown on the page and in the PDF; the CSV always holds every row
    page_limit: int | None = None

    @property
    def page_rows(self) -> list[list]:
        return self.rows if self.page_limit is None else self.rows[: self.page_limit]

    @property
    def more(self) -> int:
        """Rows left out of the page (they are in the CSV)."""
        return max(len(self.rows) - len(self.page_rows), 0)

    @property
    def page_headers(self) -> list[str]:
        return [h for n, h in enumerate(self.headers) if n not in self.csv_only]


class Month(dt.date):
    """A calendar month in a table: shown as "March 2026", written to CSV as 2026-03."""

    def isoformat(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


ESCALATION_LABELS = {
    "escalation": gettext_lazy("Escalation process started"),
    "critical_situation": gettext_lazy("Critical situation resource assigned"),
    EventKind.ONSITE_REQUEST: gettext_lazy("Onsite resources requested"),
    EventKind.PRODUCT_ESCALATION: gettext_lazy("Escalated to a product team"),
    EventKind.RSM_REQUEST: gettext_lazy("Reactive Support Management requested"),
}


def _date(value: str | None) -> dt.date | None:
    return parse_date(value) if value else None


def _when(value: str | None) -> dt.datetime | None:
    return parse_datetime(value) if value else None


def _severity(value: str) -> str:
    try:
        return str(Severity(value).label)
    except ValueError:
        return value


def _num(value) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def explanation(row: dict, *, staff: bool) -> list[str]:
    """A breach's explanation in the reader's language; without R-numbers for customers."""
    texts = row.get("explanation") or {}
    language = (get_language() or "en")[:2]
    sentences = texts.get(language) or texts.get("en") or []
    return list(sentences) if staff else [without_rule_numbers(s) for s in sentences]


def build_tables(figures: dict, *, staff: bool) -> list[Table]:
    """The review's tables, in reading order."""
    numbers = {w["id"]: w["number"] for w in figures["work_orders"]}
    rule = (lambda r: f" ({r})") if staff else (lambda r: "")
    tables: list[Table] = []

    inc = figures["incidents"]
    tables.append(
        Table(
            "incidents_by_severity",
            _("Incidents opened by severity"),
            [_("Severity"), _("Incidents")],
            [[_severity(r["severity"]), r["count"]] for r in inc["by_severity"]]
            + [[_("Total"), inc["total"]]],
            numeric=(1,),
        )
    )
    tables.append(
        Table(
            "incidents_by_product",
            _("Incidents opened by product"),
            [_("Product"), _("Normal"), _("Critical"), _("Total")],
            [
                [r["product"] or _("(not given)"), r["normal"], r["critical"], r["total"]]
                for r in inc["by_product"]
            ],
            numeric=(1, 2, 3),
        )
    )
    att = figures["attainment"]
    tables.append(
        Table(
            "attainment",
            _("First responses within target, by month and severity"),
            [_("Month"), _("Severity"), _("Met"), _("Missed"), _("Still open"), _("Met %")],
            [
                [
                    Month(int(r["month"][:4]), int(r["month"][5:7]), 1),
                    _severity(r["severity"]),
                    r["met"],
                    r["missed"],
                    r["pending"],
                    _num(r["percent"]),
                ]
                for r in att["rows"]
            ]
            + [[_("Total"), "", att["met"], att["missed"], att["pending"], _num(att["percent"])]],
            numeric=(2, 3, 4, 5),
        )
    )
    rt = figures["response_times"]
    tables.append(
        Table(
            "response_times",
            _("Time to first response (minutes, as the clock on the wall runs)"),
            [_("Severity"), _("Answered"), _("Median"), _("90th percentile")],
            [
                [
                    _severity(r["severity"]),
                    r["count"],
                    _num(r["median_minutes"]),
                    _num(r["p90_minutes"]),
                ]
                for r in rt["by_severity"]
            ]
            + [[_("All"), rt["count"], _num(rt["median_minutes"]), _num(rt["p90_minutes"])]],
            numeric=(1, 2, 3),
        )
    )
    tables.append(
        Table(
            "breaches",
            _("First responses that missed their target"),
            [
                _("Incident"),
                _("Work order"),
                _("Title"),
                _("Severity"),
                _("Opened"),
                _("Due"),
                _("First response"),
                _("Minutes late"),
                _("Why the due time was what it was"),
            ],
            [
                [
                    r["number"],
                    r["work_order"],
                    r["title"],
                    _severity(r["severity"]),
                    _when(r["opened_at"]),
                    _when(r["response_due_at"]),
                    _when(r["responded_at"]),
                    r["minutes_late"],
                    " ".join(explanation(r, staff=staff)),
                ]
                for r in figures["breaches"]
            ],
            numeric=(7,),
            csv_only=(8,),
        )
    )
    tables.append(
        Table(
            "escalations",
            _("Escalations"),
            [_("Incident"), _("Severity"), _("What"), _("When"), _("Note")],
            [
                [
                    r["number"],
                    _severity(r["severity"]),
                    str(ESCALATION_LABELS.get(r["kind"], r["kind"])) + rule(r["rule"]),
                    _when(r["at"]),
                    r["note"] if staff else "",
                ]
                for r in figures["escalations"]
            ],
        )
    )
    tables.append(
        Table(
            "customer_misses",
            _("Deadlines missed on the customer's side"),
            [_("Incident"), _("What was expected"), _("Due")],
            [
                [
                    r["number"],
                    str(DeadlineKind(r["deadline"]).label)
                    if staff
                    else (
                        _("An answer within 24 hours")
                        if r["deadline"] == DeadlineKind.CUSTOMER_RESPONSE
                        else _("Change-control access within 4 business hours")
                    ),
                    _when(r["due_at"]),
                ]
                for r in figures["customer_misses"]
            ],
        )
    )
    cr = figures["credits"]
    tables.append(
        Table(
            "credit_movements",
            _("Proactive credits in the period"),
            [_("Movement"), _("Credits")],
            [
                [_("Granted"), cr["granted"]],
                [_("Adjusted by staff"), cr["adjusted"]],
                [_("Redeemed"), cr["redeemed"]],
                [_("Refunded on cancellation"), cr["refunded"]],
                [_("Kept as cancellation fees"), cr["fees"]],
                [_("Exchanged (net)"), cr["exchanged"]],
                [_("Expired unused") + rule("R14"), cr["expired"]],
            ],
            numeric=(1,),
        )
    )
    tables.append(
        Table(
            "credits_by_service",
            _("Credits redeemed by service"),
            [_("Service"), _("Work order"), _("Redemptions"), _("Credits")],
            [
                [r["name"], numbers.get(r["work_order_id"], ""), r["redemptions"], r["credits"]]
                for r in cr["redeemed_by_service"]
            ],
            numeric=(2, 3),
        )
    )
    tables.append(
        Table(
            "cancellations",
            _("Cancelled redemptions"),
            [
                _("Service"),
                _("Work order"),
                _("Was scheduled for"),
                _("Cancelled"),
                _("Credits"),
                _("Refunded"),
                _("Fee"),
            ],
            [
                [
                    r["name"],
                    numbers.get(r["work_order_id"], ""),
                    _date(r["scheduled_for"]),
                    _when(r["cancelled_at"]),
                    r["credits"],
                    r["refunded"],
                    r["fee"],
                ]
                for r in cr["cancelled"]
            ],
            numeric=(4, 5, 6),
        )
    )
    tables.append(
        Table(
            "lapsed",
            _("Redemptions still scheduled when the term ended (lapsed)"),
            [_("Service"), _("Work order"), _("Was scheduled for"), _("Credits")],
            [
                [
                    r["name"],
                    numbers.get(r["work_order_id"], ""),
                    _date(r["scheduled_for"]),
                    r["credits"],
                ]
                for r in cr["lapsed"]
            ],
            numeric=(3,),
        )
    )
    tables.append(
        Table(
            "credit_forecast",
            _("Credit balance and forecast"),
            [
                _("Work order"),
                _("Balance at start"),
                _("Balance at end"),
                _("Forecast to expire unused") + rule("R14"),
                _("Term ends"),
                _("Request services by") + rule("R15"),
            ],
            [
                [
                    r["number"],
                    r["opening_balance"],
                    r["closing_balance"],
                    r["forecast_expiring"],
                    _date(r["term_end"]),
                    _date(r["request_by"]),
                ]
                for r in cr["work_orders"]
            ],
            numeric=(1, 2, 3),
        )
    )
    tables.append(
        Table(
            "hours",
            _("Hour blocks"),
            [
                _("Work order"),
                _("Service"),
                _("Bought"),
                _("Used before"),
                _("Used in period"),
                _("Left"),
                _("Expired"),
                _("Usable until"),
            ],
            [
                [
                    r["number"],
                    r["name"],
                    _num(r["quantity"]),
                    _num(r["used_before"]),
                    _num(r["used"]),
                    _num(r["left"]),
                    _num(r["expired"]),
                    _date(r["ends_on"]),
                ]
                for r in figures["hours"]
            ],
            numeric=(2, 3, 4, 5, 6),
        )
    )
    sat = figures["satisfaction"]
    if sat["collected"]:
        tables.append(
            Table(
                "satisfaction",
                _("Satisfaction ratings"),
                [_("Score"), _("Ratings")],
                [[s["score"], s["count"]] for s in sat["scores"]]
                + [[_("Average"), _num(sat["average"])]],
                numeric=(1,),
            )
        )
        tables.append(
            Table(
                "satisfaction_comments",
                _("Comments with the ratings"),
                [_("Incident"), _("Score"), _("Comment"), _("Rated")],
                [
                    [c["number"], c["score"], c["comment"], _when(c["rated_at"])]
                    for c in sat["comments"]
                ],
            )
        )
    nxt = figures["next_period"]
    rows = []
    for r in nxt["cutoffs"]:
        rows.append(
            [
                _date(r["request_by"]),
                r["number"],
                _("Last day to request proactive services and enhanced solutions") + rule("R15"),
                r["credits"],
            ]
        )
    for r in nxt["expiring"]:
        rows.append(
            [
                _date(r["on"]),
                r["number"],
                _("Term ends: unused credits and hours expire (%(hours)s hours left)")
                % {"hours": r["hours_left"]}
                + rule("R14"),
                r["credits"],
            ]
        )
    for r in nxt["scheduled"]:
        rows.append(
            [
                _date(r["scheduled_for"]),
                numbers.get(r["work_order_id"], ""),
                _("Scheduled: %(service)s") % {"service": r["name"]},
                r["credits"],
            ]
        )
    rows.sort(key=lambda row: row[0] or dt.date.max)
    tables.append(
        Table(
            "next_period",
            _("Next period: what expires and what must be requested"),
            [_("Date"), _("Work order"), _("What"), _("Credits")],
            rows,
            numeric=(3,),
        )
    )
    for table in tables:
        if table.key in LONG_TABLES:
            table.page_limit = PAGE_LIMIT
    return tables


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    text = str(value)
    # Spreadsheet formula injection: a cell a person typed (a title, a comment) that
    # starts like a formula is written as text.
    if text[:1] in ("=", "+", "-", "@") and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except Exception:
        return False
    return True


def to_csv(tables: list[Table], *, key: str | None = None) -> str:
    """One table (`key`) as CSV, or all of them, one after another: every row, the header
    row included, led by the table's key, so a filter on the first column gives one table
    (an empty table still shows its header)."""
    out = io.StringIO()
    writer = csv.writer(out)
    chosen = [t for t in tables if key is None or t.key == key]
    for table in chosen:
        if key is None:
            writer.writerow([table.key, *table.headers])
            for row in table.rows:
                writer.writerow([table.key, *(_csv_cell(v) for v in row)])
        else:
            writer.writerow(table.headers)
            for row in table.rows:
                writer.writerow([_csv_cell(v) for v in row])
    return out.getvalue()


def table_keys(tables: list[Table]) -> list[str]:
    return [t.key for t in tables]


def localtime(value):
    return timezone.localtime(value) if isinstance(value, dt.datetime) else value
