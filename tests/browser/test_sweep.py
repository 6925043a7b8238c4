"""The page sweep (issue #19): every page, as every persona, at 1440x900 and 390x844, in
English and Dutch, must show no horizontal overflow, no E-notation or raw Decimal, no English
left on a Dutch page, no rule numbers to a customer, no capitalised Dutch month, and no axe-core
violation of impact serious or critical (axe on every viewport in every language).

The pages are `tests/browser/sweep.py::PAGES` (one line per page: add yours there). The data is
the demo data set (`seed_demo`), the same the README's screenshots show, plus what a page needs
to show all of itself (a solved and a rated incident, an attachment, a saved view, an
invitation, an API key). One browser context per persona logs in once and walks its pages at
each viewport in each language; "anonymous" walks the pages of nobody logged in.
"""

import os
import tempfile
import time
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.browser import sweep

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import playwright.sync_api as playwright_api  # noqa: E402  (a missing Playwright fails, never skips)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
TIMES = []
# axe-core on every viewport in every language (issue #19). It was on two of the four once
# (desktop in English, phone in Dutch) to save time; the figures of both are in the notes.
AXE_RUNS = {(viewport, lang) for viewport in sweep.VIEWPORTS for lang in sweep.LANGUAGES}
SHOTS = (
    Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    if os.environ.get("SAVE_SCREENSHOTS") == "1"
    else Path(tempfile.gettempdir()) / "portal-screenshots"
)
CREDENTIALS = {
    sweep.MANAGER: ("manager", "demo-manager-2026"),
    sweep.AUDITOR: ("auditor", "demo-auditor-2026"),
    sweep.CONTACT: ("contact@acme.example", "demo-contact-2026"),
}
# Phone screenshots for docs/screenshots (persona, page name) -> file name.
PHONE_SHOTS = {
    (sweep.MANAGER, "incident_list"): "phone_incident_queue",
    (sweep.MANAGER, "work_order_edit"): "phone_work_order_editor",
    (sweep.MANAGER, "work_order_list"): "phone_work_order_list",
    (sweep.CONTACT, "work_order_overview"): "phone_customer_work_order",
    (sweep.CONTACT, "redeem"): "phone_redeem",
}


@pytest.fixture(autouse=True)
def demo(transactional_db):
    """Transactional tests flush the tables: re-seed the catalogue and targets, then the demo."""
    import importlib

    from incidents.models import ResponseTarget
    from services.models import Service
    from services.seed_catalogue import catalogue_rows

    for row in catalogue_rows():
        Service.objects.get_or_create(code=row["code"], defaults=row)
    targets = importlib.import_module("incidents.migrations.0002_seed_response_targets").TARGETS
    for package, severity, rapid, minutes, clock, note in targets:
        ResponseTarget.objects.get_or_create(
            package=package,
            severity=severity,
            rapid_response=rapid,
            defaults={"minutes": minutes, "clock": clock, "note": note},
        )
    call_command("seed_demo", verbosity=0)
    refs = sweep.demo_refs()
    # One very long word in a comment once made an incident page 79,242 px wide: it must wrap.
    from accounts.models import User
    from incidents import services as incident_services
    from incidents.models import Incident

    manager = User.objects.get(username="manager")
    incident_services.incident_comment(
        incident=Incident.objects.get(pk=refs["incident"]),
        body="See " + "x" * 400 + " and https://example.com/" + "a/" * 80,
        by=manager,
    )
    refs.update(_more_to_show(refs, manager))
    return refs


def _more_to_show(refs, manager) -> dict:
    """Rows the demo lacks that pages show: an attachment, a solved and a rated incident, a
    saved queue view per staff member, an open invitation, an API key, a redeemable service."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from accounts.models import User
    from accounts.services import api_key_create
    from contracts.models import NamedContact, WorkOrder
    from contracts.services import named_contact_invite
    from credits.forms import RedeemForm
    from incidents import services as incident_services
    from incidents.choices import IncidentStatus
    from incidents.models import Incident, SavedQueueView

    contact = User.objects.get(username="contact@acme.example")
    critical = Incident.objects.get(pk=refs["incident_critical"])
    incident_services.incident_attach(
        incident=critical,
        file=SimpleUploadedFile("cluster-log.txt", b"quorum lost\n", "text/plain"),
        by=contact,
    )
    work_order = WorkOrder.objects.get(pk=refs["work_order"])
    lead = NamedContact.objects.get(work_order=work_order, user=contact)
    solved = []
    for title in ("Teams meetings drop after ten minutes", "OneDrive sync stalls"):
        incident = incident_services.incident_open(
            work_order=work_order, contact=lead, title=title, severity="normal", by=contact
        )
        incident_services.incident_set_status(
            incident=incident, status=IncidentStatus.RESOLVED, by=contact
        )
        solved.append(incident)
    incident_services.incident_rate(
        incident=solved[1], score=4, comment="Quick and clear, thank you.", by=contact
    )
    for username in ("manager", "auditor"):
        SavedQueueView.objects.create(
            user=User.objects.get(username=username),
            name="Critical, open",
            query="severity=critical&status=new&status=responded",
        )
    invitee = NamedContact.objects.filter(work_order=work_order, user__isnull=True).first()
    _, link = named_contact_invite(contact=invitee, by=manager)
    key, _ = api_key_create(name="Ticketing tool", customer=work_order.customer, by=manager)
    service = (
        RedeemForm(work_order=work_order)
        .fields["service"]
        .queryset.filter(needs_vendor_consent=False)
        .order_by("pk")
        .first()
    )
    return {
        "incident_solved": solved[0].pk,
        "incident_rated": solved[1].pk,
        "saved_view": "severity=critical&status=new&status=responded",
        "invitation": link.rstrip("/").rsplit("/", 1)[-1],
        "api_key": key.pk,
        "redeem_service": str(service.pk),
    }


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield b
        b.close()


def _walk(pg, live_server, refs, persona, viewport, lang):
    found = []
    for page in sweep.PAGES:
        if persona not in page.who:
            continue
        wrong = sweep.visit(pg, live_server.url, refs, page)
        if wrong:
            found.append(f"{page.name} ({persona}, {viewport}, {lang}): {wrong}")
            continue
        t0 = time.monotonic()
        axe = (viewport, lang) in AXE_RUNS
        for problem in sweep.problems(pg, lang=lang, persona=persona, axe=axe):
            found.append(f"{page.name} ({persona}, {viewport}, {lang}): {problem}")
        TIMES.append(time.monotonic() - t0)
        shot = PHONE_SHOTS.get((persona, page.name))
        if shot and viewport == "phone" and lang == "en":
            SHOTS.mkdir(parents=True, exist_ok=True)
            pg.screenshot(path=str(SHOTS / f"{shot}.png"), full_page=True)
    return found


@pytest.mark.parametrize("persona", [sweep.MANAGER, sweep.AUDITOR, sweep.CONTACT, sweep.ANONYMOUS])
def test_every_page_is_right(browser, live_server, demo, persona):
    """One login per persona (the demo data is seeded once per test); the same session then
    walks every page at each viewport in each language. Nobody logged in walks the login,
    password-reset and invitation pages."""
    # bypass_csp: axe-core is injected by the test; the pages' own CSP stays as served.
    ctx = browser.new_context(viewport=sweep.VIEWPORTS["desktop"], bypass_csp=True)
    found = []
    try:
        pg = ctx.new_page()
        if persona != sweep.ANONYMOUS:
            pg.goto(f"{live_server.url}/accounts/login/")
            username, password = CREDENTIALS[persona]
            pg.fill("#id_username", username)
            pg.fill("#id_password", password)
            pg.click("main button[type=submit]")
            pg.wait_for_url(f"{live_server.url}/")
        for viewport, size in sweep.VIEWPORTS.items():
            pg.set_viewport_size(size)
            for lang in sweep.LANGUAGES:
                ctx.add_cookies(
                    [{"name": "django_language", "value": lang, "url": live_server.url}]
                )
                found += _walk(pg, live_server, demo, persona, viewport, lang)
    finally:
        ctx.close()
    assert not found, "\n".join(found)


def test_the_sweep_catches_what_it_promises():
    """The text checks themselves (no browser): each betrayal of issue #19 is caught."""
    bad = sweep.text_problems(
        "now has 1E+2. 12.5000000 and Decimal('3') · 1 hours · 20 Mei 2026 · R16: late",
        lang="nl",
        persona=sweep.CONTACT,
    )
    kinds = " ".join(bad)
    for what in ("E-notation", "raw Decimal", "English on a Dutch page", "capitalised Dutch month"):
        assert what in kinds
    assert "rule number shown to a customer" in kinds
    assert not sweep.text_problems("14,61 uur · 20 mei 2026", lang="nl", persona=sweep.CONTACT)


def test_the_api_reference_is_right(browser, live_server):
    """The browsable API reference (Redoc, /api/v1/docs/): served from this host only,
    English and saying so, no overflow and no serious axe finding at either viewport. It is
    developer documentation, so rule numbers may appear (checked as staff read it)."""
    url = f"{live_server.url}/api/v1/docs/"
    for viewport in sweep.VIEWPORTS:
        # As served (the page's CSP on): what it fetches. Redoc's own "redocly" logo from its
        # CDN is blocked by img-src 'self' and hides itself; the schema worker is a blob:.
        ctx = browser.new_context(viewport=sweep.VIEWPORTS[viewport])
        try:
            pg = ctx.new_page()
            elsewhere = []
            pg.on(
                "requestfinished",
                lambda r, elsewhere=elsewhere: (
                    None
                    if r.url.startswith((live_server.url, "blob:", "data:"))
                    else elsewhere.append(r.url)
                ),
            )
            assert pg.goto(url).status == 200
            pg.wait_for_selector("h1", timeout=30_000)  # Redoc has rendered the schema
            assert pg.evaluate("document.documentElement.lang") == "en"
            assert not elsewhere, elsewhere
        finally:
            ctx.close()
        # axe-core injected by the test, as in the sweep (bypass_csp).
        ctx = browser.new_context(viewport=sweep.VIEWPORTS[viewport], bypass_csp=True)
        try:
            pg = ctx.new_page()
            pg.goto(url)
            pg.wait_for_selector("h1", timeout=30_000)
            found = sweep.problems(pg, lang="en", persona=sweep.MANAGER)
            assert not found, (viewport, found)
        finally:
            ctx.close()
