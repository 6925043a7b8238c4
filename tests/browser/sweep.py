"""The page sweep's parts: which pages exist, who sees them, and what a page must never show.

`PAGES` is the list the sweep walks (tests/browser/test_sweep.py). Adding a page is one line:

    Page("incident_desk", "/desk/", STAFF),
    Page("review", "/reviews/{review}/", ALL),   # {review}: a key of the refs the fixture reads

`path` is formatted with the sweep's refs (ids of demo rows: work_order, incident, customer,
redemption...); add a ref in `demo_refs()` (or in the fixture of test_sweep) when a new page
needs one. `who` names the personas that open it (manager, auditor, contact, or anonymous: not
logged in). A page a persona may not open is not listed for it, except as the 403 page itself:
the sweep expects every listed page to answer `status` (200 unless said).

A form is swept empty and, where cheap, refused: `refused(...)` names a page whose `steps`
fill fields (CSS selector, value; "" clears) and then press a button (SUBMIT) with the
browser's own checks off, so the server's form error is what shows; the page after the last
step is swept, and it must show `shows` (a form error unless said). Steps never write: a
refused or previewed submission changes nothing, so the walk can go on in any order.

`problems(page, lang, persona)` runs in a loaded Playwright page and returns human-readable
problems: horizontal overflow, E-notation or raw Decimal text (form fields' values included),
English left on a Dutch page, rule numbers (R1..R27) shown to a customer, capitalised Dutch
months, and axe-core violations of impact serious or critical (axe-core vendored in
tests/browser/vendor, no network).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

MANAGER, AUDITOR, CONTACT, ANONYMOUS = "manager", "auditor", "contact", "anonymous"
STAFF = (MANAGER, AUDITOR)
ALL = (MANAGER, AUDITOR, CONTACT)
EDITORS = (MANAGER,)
# Those who may post a customer-side form (redeem, file an incident): staff editors and the
# customer. Read-only staff open the same pages (200) and are refused the POST (403).
ACTORS = (MANAGER, CONTACT)
NOBODY_LOGGED_IN = (ANONYMOUS,)

VIEWPORTS = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}
LANGUAGES = ("en", "nl")

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")

SUBMIT = "<submit>"
# What a refused form shows: an error on a field, on the form, or (a redirect) a message.
FORM_ERROR = ".errorlist, .form-errors, .has-error, .messages .error, .errornote"


@dataclass(frozen=True)
class Page:
    name: str
    path: str
    who: tuple[str, ...]
    status: int = 200
    steps: tuple[tuple[str, str], ...] = ()
    shows: str = ""

    def url(self, refs: dict) -> str:
        return self.path.format(**refs)


def refused(name, path, who, *fill, button="main form .btn[type=submit]", shows=FORM_ERROR):
    """A form page after a refused submission: `fill` pairs (selector, value), then `button`."""
    return Page(name, path, who, steps=(*fill, (button, SUBMIT)), shows=shows)


WO = "/work-orders/{work_order}"
CREDITS_WO = "/credits/work-orders/{work_order}"
PREVIEW = "button[value=preview]"

PAGES: list[Page] = [
    # Nobody logged in.
    Page("login", "/accounts/login/", NOBODY_LOGGED_IN),
    refused(
        "login_refused",
        "/accounts/login/",
        NOBODY_LOGGED_IN,
        ("#id_username", "nobody@example.com"),
        ("#id_password", "wrong"),
        button="main button[type=submit]",
    ),
    Page("password_reset", "/accounts/password_reset/", NOBODY_LOGGED_IN),
    refused(
        "password_reset_refused",
        "/accounts/password_reset/",
        NOBODY_LOGGED_IN,
        ("#id_email", "not an address"),
        button="main button[type=submit]",
    ),
    Page("password_reset_done", "/accounts/password_reset/done/", NOBODY_LOGGED_IN),
    Page("password_reset_bad_link", "/accounts/reset/MQ/bad-token/", NOBODY_LOGGED_IN),
    Page("password_reset_complete", "/accounts/reset/done/", NOBODY_LOGGED_IN),
    Page("invitation", "/invitations/{invitation}/", NOBODY_LOGGED_IN),
    refused(
        "invitation_refused",
        "/invitations/{invitation}/",
        NOBODY_LOGGED_IN,
        ("#id_password1", "x"),
        ("#id_password2", "y"),
        button="main button[type=submit]",
    ),
    Page("invitation_bad_link", "/invitations/no-such-token/", NOBODY_LOGGED_IN, status=404),
    Page("not_found_anonymous", "/no-such-page/", NOBODY_LOGGED_IN, status=404),
    # Everyone logged in.
    Page("home", "/", ALL),
    Page("preferences", "/preferences/", ALL),
    Page("password_change", "/accounts/password_change/", ALL),
    refused(
        "password_change_refused",
        "/accounts/password_change/",
        ALL,
        ("#id_old_password", "not-my-password"),
        ("#id_new_password1", "short"),
        ("#id_new_password2", "other"),
        button="main button[type=submit]",
    ),
    Page("password_change_done", "/accounts/password_change/done/", ALL),
    Page("not_found", "/no-such-page/", ALL, status=404),
    Page("forbidden", "/customers/", (CONTACT,), status=403),
    Page("forbidden_read_only", "/work-orders/new/", (AUDITOR,), status=403),
    # Incidents.
    Page("incident_list", "/incidents/", ALL),
    Page("incident_list_breached", "/incidents/?breached=yes", STAFF),
    Page("incident_list_saved_view", "/incidents/?{saved_view}", STAFF),
    Page(
        "incident_bulk_confirm",
        "/incidents/",
        EDITORS,
        steps=(
            ("#bulk-form input[name=incidents]", "on"),
            ("#bulk-form select[name=status]", "in_progress"),
            ("#bulk-form fieldset.bulk button[type=submit]", SUBMIT),
        ),
        shows="main form",
    ),
    refused(
        "incident_bulk_refused",
        "/incidents/",
        EDITORS,
        button="#bulk-form fieldset.bulk button[type=submit]",
    ),
    Page("incident_detail", "/incidents/{incident}/", ALL),
    Page("incident_detail_severity_request", "/incidents/{incident_request}/", ALL),
    Page("incident_detail_conversation", "/incidents/{incident_critical}/", ALL),
    Page("incident_detail_solved", "/incidents/{incident_solved}/", ALL),
    Page("incident_detail_rated", "/incidents/{incident_rated}/", ALL),
    refused(
        "incident_comment_refused",
        "/incidents/{incident}/",
        ACTORS,
        ("#comment textarea[name=body]", ""),
        button="#comment button[type=submit]",
    ),
    refused(
        "incident_rating_refused",
        "/incidents/{incident_solved}/",
        (CONTACT,),
        button="form[action$='/rate/'] button[type=submit]",
    ),
    Page("incident_create", "/incidents/new/", ALL),
    refused(
        "incident_create_refused",
        "/incidents/new/",
        ACTORS,
        button="#incident-form .btn[type=submit]",
    ),
    Page("incident_ratings", "/incidents/ratings/", STAFF),
    # A work order's pages.
    Page("work_order_overview", "/work-orders/{work_order}/", ALL),
    Page("work_order_overview_other", "/work-orders/{work_order_other}/", STAFF),
    Page("redeem", CREDITS_WO + "/redeem/", ALL),
    Page(
        "redeem_preview",
        CREDITS_WO + "/redeem/",
        ACTORS,
        steps=(("#id_service", "{redeem_service}"), ("#id_quantity", "2"), (PREVIEW, SUBMIT)),
        shows="#quote",
    ),
    refused(
        "redeem_refused", CREDITS_WO + "/redeem/", ACTORS, ("#id_quantity", "0"), button=PREVIEW
    ),
    Page("cancel", "/credits/redemptions/{redemption}/cancel/", ALL),
    Page("reschedule", "/credits/redemptions/{redemption}/reschedule/", ALL),
    refused("reschedule_refused", "/credits/redemptions/{redemption}/reschedule/", ACTORS),
    Page("deliver", "/credits/redemptions/{redemption}/deliver/", EDITORS),
    refused(
        "deliver_refused",
        "/credits/redemptions/{redemption}/deliver/",
        EDITORS,
        ("#id_delivered_on", "2999-01-01"),
    ),
    Page("shortfall", CREDITS_WO + "/shortfall/", STAFF),
    refused("shortfall_refused", CREDITS_WO + "/shortfall/", EDITORS),
    Page("rates", "/credits/customers/{customer}/rates/", STAFF),
    Page("rate_add", "/credits/customers/{customer}/rates/new/", EDITORS),
    refused("rate_add_refused", "/credits/customers/{customer}/rates/new/", EDITORS),
    Page("reviews_work_order", "/reviews/work-orders/{work_order}/", ALL),
    Page("reviews_work_order_term", "/reviews/work-orders/{work_order}/?period=term", ALL),
    Page("reviews_work_order_other", "/reviews/work-orders/{work_order_other}/", STAFF),
    Page(
        "reviews_bad_period", "/reviews/work-orders/{work_order}/?period=2026-Q9", ALL, status=400
    ),
    Page("reviews_customer", "/reviews/customers/{customer}/", ALL),
    Page("reviews_overview", "/reviews/overview/", STAFF),
    Page("reviews_overview_bad_period", "/reviews/overview/?period=term", STAFF, status=400),
    # Staff: work orders and customers.
    Page("work_order_list", "/work-orders/", STAFF),
    Page("work_order_create", "/work-orders/new/", EDITORS),
    refused("work_order_create_refused", "/work-orders/new/", EDITORS),
    Page("work_order_edit", WO + "/edit/", STAFF),
    refused(
        "work_order_edit_refused",
        WO + "/edit/",
        EDITORS,
        ("#id_number", ""),
        button="main form[action$='/edit/'] .btn[type=submit]",
    ),
    Page("work_order_history", WO + "/history/", STAFF),
    Page("customer_list", "/customers/", STAFF),
    Page("customer_detail", "/customers/{customer}/", STAFF),
    Page("customer_create", "/customers/new/", EDITORS),
    refused("customer_create_refused", "/customers/new/", EDITORS),
    Page("contact_edit", "/contacts/{named_contact}/", EDITORS),
    refused("contact_edit_refused", "/contacts/{named_contact}/", EDITORS, ("#id_email", "x")),
    Page("ops", "/ops/", STAFF),
    # Issue #18: the contract's whole life.
    Page("customer_edit", "/customers/{customer}/edit/", EDITORS),
    refused("customer_edit_refused", "/customers/{customer}/edit/", EDITORS, ("#id_name", "")),
    Page("contact_deactivate", "/contacts/{named_contact}/deactivate/", EDITORS),
    Page("contacts_import", WO + "/contacts/import/", EDITORS),
    refused("contacts_import_refused", WO + "/contacts/import/", EDITORS, button=PREVIEW),
    Page("contact_proposals", WO + "/contacts/proposals/", EDITORS),
    # Staff open the proposal form too (editor_writes: 200 to read); only the customer sends.
    Page("contact_propose", WO + "/contacts/propose/", ALL),
    refused("contact_propose_refused", WO + "/contacts/propose/", (CONTACT,)),
    Page("work_order_renew", WO + "/renew/", EDITORS),
    refused("work_order_renew_refused", WO + "/renew/", EDITORS, ("#id_number", "")),
    Page("work_order_extend", CREDITS_WO + "/extend/", EDITORS),
    refused("work_order_extend_refused", CREDITS_WO + "/extend/", EDITORS),
    Page("terminate_confirm", CREDITS_WO + "/terminate/confirm/", EDITORS),
    Page("line_remove_confirm", "/lines/{line}/remove/confirm/", EDITORS),
    Page("hours", CREDITS_WO + "/hours/", STAFF),
    refused("hours_refused", CREDITS_WO + "/hours/", EDITORS, button=PREVIEW),
    Page("adjust", CREDITS_WO + "/adjust/", EDITORS),
    refused("adjust_refused", CREDITS_WO + "/adjust/", EDITORS, button=PREVIEW),
    Page(
        "adjust_preview",
        CREDITS_WO + "/adjust/",
        EDITORS,
        steps=(("#id_amount", "-5"), ("#id_reason", "Goodwill"), (PREVIEW, SUBMIT)),
        shows="#confirm",
    ),
    Page("sa_conversion", CREDITS_WO + "/sa-conversion/", EDITORS),
    refused("sa_conversion_refused", CREDITS_WO + "/sa-conversion/", EDITORS, button=PREVIEW),
    Page("engagements", CREDITS_WO + "/engagements/", STAFF),
    refused("engagements_refused", CREDITS_WO + "/engagements/", EDITORS, button=PREVIEW),
    Page("exchange", "/credits/redemptions/{redemption}/exchange/", EDITORS),
    refused(
        "exchange_refused", "/credits/redemptions/{redemption}/exchange/", EDITORS, button=PREVIEW
    ),
    Page("vendor_consent", CREDITS_WO + "/vendor-consent/", STAFF),
    refused("vendor_consent_refused", CREDITS_WO + "/vendor-consent/", EDITORS, button=PREVIEW),
    # The admin's API key pages (accounts.admin): account managers add keys, read-only staff look.
    Page("admin_index", "/admin/", STAFF),
    Page("api_keys", "/admin/accounts/apikey/", STAFF),
    Page("api_key", "/admin/accounts/apikey/{api_key}/change/", STAFF),
    Page("api_key_add", "/admin/accounts/apikey/add/", EDITORS),
    refused(
        "api_key_add_refused",
        "/admin/accounts/apikey/add/",
        EDITORS,
        button="#apikey_form input[name=_save]",
    ),
]


def demo_refs() -> dict:
    """Ids of the demo data's rows (portal/management/commands/seed_demo.py) the paths use."""
    from contracts.models import Customer, NamedContact, WorkOrder
    from credits.models import Redemption
    from incidents.models import Incident

    acme = Customer.objects.get(code="acme")
    wo = WorkOrder.objects.filter(customer=acme).order_by("pk").first()
    other = WorkOrder.objects.exclude(customer=acme).order_by("pk").first()
    incidents = Incident.objects.filter(work_order=wo)
    return {
        "customer": acme.pk,
        "work_order": wo.pk,
        "work_order_other": other.pk,
        "incident": incidents.filter(title__startswith="Question").get().pk,
        "incident_request": incidents.filter(title__startswith="Mail flow").get().pk,
        "incident_critical": incidents.filter(title__startswith="SQL Server").get().pk,
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


# The values of the fields a person reads (a number field showing "2E+2" is E-notation too).
_JS_FIELD_VALUES = """() => Array.from(document.querySelectorAll(
  'input:not([type=hidden]):not([type=checkbox]):not([type=radio]):not([type=password]), textarea'
)).map(e => e.value).filter(v => v).join(' | ')"""


def visit(pg, base_url: str, refs: dict, page: Page) -> str:
    """Open `page` (and take its steps) in the Playwright page `pg`; "" when it answered as
    expected, else what went wrong."""
    response = pg.goto(base_url + page.url(refs))
    if response.status != page.status:
        return f"status {response.status}, expected {page.status}"
    for selector, value in page.steps:
        target = pg.locator(selector).first
        if value == SUBMIT:
            # The browser's own checks off (novalidate): the server's refusal is what we sweep.
            with pg.expect_navigation(wait_until="load") as navigation:
                target.evaluate("b => { b.form.noValidate = true; b.form.requestSubmit(b); }")
            response = navigation.value
            if response is None or response.status >= 500 or response.status in (403, 404):
                return f"{selector} answered {response.status if response else 'nothing'}"
            continue
        kind = target.evaluate("e => e.tagName === 'SELECT' ? 'select' : (e.type || '')")
        if kind == "select":
            target.select_option(value.format(**refs))
        elif kind == "checkbox":
            target.check()
        else:
            target.fill(value.format(**refs))
    if page.shows and not pg.locator(page.shows).count():
        return f"after its steps the page shows no {page.shows!r}"
    return ""


# Text marked as written in another language (an English incident's description and
# conversation carry lang="en", R22) is people's own words, not a string left untranslated.
_JS_OTHER_LANGUAGE = """(lang) => Array.from(document.querySelectorAll('body [lang]'))
  .filter(e => !e.lang.startsWith(lang)).map(e => e.innerText).filter(t => t)"""


def problems(pg, *, lang: str, persona: str, axe: bool = True) -> list[str]:
    text = pg.inner_text("body")
    for words in pg.evaluate(_JS_OTHER_LANGUAGE, lang):
        text = text.replace(words, " ")
    out = text_problems(text, lang=lang, persona=persona)
    for problem in text_problems(pg.evaluate(_JS_FIELD_VALUES), lang="en", persona=MANAGER):
        out.append(f"in a field's value, {problem}")
    overflow = pg.evaluate(_JS_OVERFLOW)
    if overflow:
        out.append(f"horizontal overflow: {overflow}")
    if axe:
        if not pg.evaluate("() => typeof axe !== 'undefined'"):
            pg.evaluate(AXE)
        out.extend(f"axe {v}" for v in pg.evaluate(_JS_AXE))
    return out
