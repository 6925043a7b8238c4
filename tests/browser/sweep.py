"""The page sweep's parts: which pages exist, who sees them, and what a page must never show.

`PAGES` is the list the sweep walks (tests/browser/test_sweep.py). Adding a page is one line:

    Page("incident_desk", "/desk/", STAFF),
    Page("review", "/reviews/{review}/", ALL),   # {review}: a key of the refs the fixture reads

`path` is formatted with the sweep's refs (ids of demo rows: work_order, incident, customer,
redemption...); add a ref in `demo_refs()` when a new page needs one. `who` names the personas
that open it (manager, auditor, contact). A page a persona may not open is not listed for it:
the sweep expects every listed page to answer 200.

`problems(page, lang, persona)` runs in a loaded Playwright page and returns human-readable
problems: horizontal overflow, E-notation or raw Decimal text, English left on a Dutch page,
rule numbers (R1..R27) shown to a customer, capitalised Dutch months, and axe-core violations
of impact serious or critical (axe-core vendored in tests/browser/vendor, no network).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

MANAGER, AUDITOR, CONTACT = "manager", "auditor", "contact"
STAFF = (MANAGER, AUDITOR)
ALL = (MANAGER, AUDITOR, CONTACT)
EDITORS = (MANAGER,)

VIEWPORTS = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}
LANGUAGES = ("en", "nl")

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")


@dataclass(frozen=True)
class Page:
    name: str
    path: str
    who: tuple[str, ...]

    def url(self, refs: dict) -> str:
        return self.path.format(**refs)


PAGES: list[Page] = [
    Page("login", "/accounts/login/", ()),  # opened logged out, see test_sweep
    Page("home", "/", ALL),
    Page("preferences", "/preferences/", ALL),
    Page("password_change", "/accounts/password_change/", ALL),
    Page("incident_list", "/incidents/", ALL),
    Page("incident_list_breached", "/incidents/?breached=yes", STAFF),
    Page("incident_detail", "/incidents/{incident}/", ALL),
    Page("incident_create", "/incidents/new/", (MANAGER, CONTACT)),
    Page("incident_ratings", "/incidents/ratings/", STAFF),
    Page("work_order_overview", "/work-orders/{work_order}/", ALL),
    Page("work_order_overview_other", "/work-orders/{work_order_other}/", STAFF),
    Page("redeem", "/credits/work-orders/{work_order}/redeem/", (MANAGER, CONTACT)),
    Page("cancel", "/credits/redemptions/{redemption}/cancel/", (MANAGER, CONTACT)),
    Page("reschedule", "/credits/redemptions/{redemption}/reschedule/", (MANAGER, CONTACT)),
    Page("deliver", "/credits/redemptions/{redemption}/deliver/", EDITORS),
    Page("shortfall", "/credits/work-orders/{work_order}/shortfall/", STAFF),
    Page("rates", "/credits/customers/{customer}/rates/", STAFF),
    Page("work_order_list", "/work-orders/", STAFF),
    Page("work_order_create", "/work-orders/new/", EDITORS),
    Page("work_order_edit", "/work-orders/{work_order}/edit/", STAFF),
    Page("work_order_history", "/work-orders/{work_order}/history/", STAFF),
    Page("customer_list", "/customers/", STAFF),
    Page("customer_detail", "/customers/{customer}/", STAFF),
    Page("customer_create", "/customers/new/", EDITORS),
    Page("contact_edit", "/contacts/{named_contact}/", EDITORS),
    Page("ops", "/ops/", STAFF),
    Page("not_found", "/no-such-page/", ALL),
    # Issue #18: the contract's whole life.
    Page("customer_edit", "/customers/{customer}/edit/", EDITORS),
    Page("contact_deactivate", "/contacts/{named_contact}/deactivate/", EDITORS),
    Page("contacts_import", "/work-orders/{work_order}/contacts/import/", EDITORS),
    Page("contact_proposals", "/work-orders/{work_order}/contacts/proposals/", EDITORS),
    Page("contact_propose", "/work-orders/{work_order}/contacts/propose/", (CONTACT,)),
    Page("work_order_renew", "/work-orders/{work_order}/renew/", EDITORS),
    Page("work_order_extend", "/credits/work-orders/{work_order}/extend/", EDITORS),
    Page("terminate_confirm", "/credits/work-orders/{work_order}/terminate/confirm/", EDITORS),
    Page("line_remove_confirm", "/lines/{line}/remove/confirm/", EDITORS),
    Page("hours", "/credits/work-orders/{work_order}/hours/", STAFF),
    Page("adjust", "/credits/work-orders/{work_order}/adjust/", EDITORS),
    Page("sa_conversion", "/credits/work-orders/{work_order}/sa-conversion/", EDITORS),
    Page("engagements", "/credits/work-orders/{work_order}/engagements/", STAFF),
    Page("exchange", "/credits/redemptions/{redemption}/exchange/", EDITORS),
    Page("vendor_consent", "/credits/work-orders/{work_order}/vendor-consent/", STAFF),
]


def demo_refs() -> dict:
    """Ids of the demo data's rows (portal/management/commands/seed_demo.py) the paths use."""
    from contracts.models import Customer, NamedContact, WorkOrder
    from credits.models import Redemption
    from incidents.models import Incident

    acme = Customer.objects.get(code="acme")
    wo = WorkOrder.objects.filter(customer=acme).order_by("pk").first()
    other = WorkOrder.objects.exclude(customer=acme).order_by("pk").first()
    return {
        "customer": acme.pk,
        "work_order": wo.pk,
        "work_order_other": other.pk,
        "incident": Incident.objects.filter(work_order=wo).order_by("-pk").first().pk,
        "redemption": Redemption.objects.filter(work_order=wo, status="scheduled").first().pk,
        "named_contact": NamedContact.objects.filter(work_order=wo).order_by("pk").first().pk,
        "line": wo.lines.order_by("pk").first().pk,
    }


# English that must not be left on a Dutch page (whole words, case-sensitive).
UNTRANSLATED = [
    "hours",
    "hour",
    "units",
    "unit",
    "days",
    "participants",
    "participant",
    "Quantity",
    "system",
    "remaining",
    "available",
    "Cancel",
    "Save",
    "Redeem",
    "Breached",
    "Unknown",
    "Times are shown",
    "Log out",
    "granted",
    "redeemed",
    "refund",
    "kept",
    "used",
    "today",
    "Page not found",
]
_UNTRANSLATED = re.compile(
    r"(?<![\w@.-])(" + "|".join(map(re.escape, UNTRANSLATED)) + r")(?![\w@-])"
)
_E_NOTATION = re.compile(r"\b\d+(?:[.,]\d+)?E[+-]?\d+\b")
# A number with four or more decimals ("12.5000000", "14.6100") is a raw Decimal; "1.000"
# (Dutch thousands) is not.
_RAW_DECIMAL = re.compile(r"Decimal\(|\b\d+[.,]\d{4,}\b")
_RULE = re.compile(r"\bR(?:[1-9]|1\d|2[0-7])\b")
_DUTCH_MONTH = re.compile(
    r"\b\d{1,2} (Januari|Februari|Maart|April|Mei|Juni|Juli|Augustus|September|Oktober|November|December"
    r"|Jan|Feb|Mrt|Apr|Jun|Jul|Aug|Sep|Okt|Nov|Dec)\b"
)

_JS_OVERFLOW = """() => {
  const w = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth <= w + 1) return null;
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.right > w + 1 && r.width > 0 && !el.closest('.table-scroll')) {
      out.push(el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).split(' ').join('.') : '')
        + ' right=' + Math.round(r.right));
      if (out.length > 4) break;
    }
  }
  return {scrollWidth: document.documentElement.scrollWidth, width: w, elements: out};
}"""

_JS_AXE = """async () => {
  const r = await axe.run(document, {resultTypes: ['violations']});
  return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => v.impact + ' ' + v.id + ': ' + v.help + ' @ '
      + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '));
}"""


def text_problems(text: str, *, lang: str, persona: str) -> list[str]:
    """What the visible text must never say (shared with the unit tests of the formatting layer)."""
    out = []
    for rx, what in ((_E_NOTATION, "E-notation"), (_RAW_DECIMAL, "raw Decimal")):
        for m in rx.finditer(text):
            out.append(f"{what}: {text[max(0, m.start() - 30) : m.end() + 20]!r}")
    if lang == "nl":
        for m in _UNTRANSLATED.finditer(text):
            out.append(f"English on a Dutch page: {text[max(0, m.start() - 30) : m.end() + 20]!r}")
        for m in _DUTCH_MONTH.finditer(text):
            out.append(f"capitalised Dutch month: {m.group(0)!r}")
    if persona == CONTACT:
        for m in _RULE.finditer(text):
            out.append(
                f"rule number shown to a customer: {text[max(0, m.start() - 40) : m.end() + 10]!r}"
            )
    return out


def problems(pg, *, lang: str, persona: str, axe: bool = True) -> list[str]:
    out = text_problems(pg.inner_text("body"), lang=lang, persona=persona)
    overflow = pg.evaluate(_JS_OVERFLOW)
    if overflow:
        out.append(f"horizontal overflow: {overflow}")
    if axe:
        if not pg.evaluate("() => typeof axe !== 'undefined'"):
            pg.evaluate(AXE)
        out.extend(f"axe {v}" for v in pg.evaluate(_JS_AXE))
    return out
