"""Browser tests: Playwright (PyPI) driving Debian's chromium against the live server.

They prove the pages work end to end in a real browser (forms, htmx preview, the
language switch) and save the screenshots under docs/screenshots/.
"""

import datetime as dt
import os
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from contracts import services as contract_services
from incidents import services as incident_services
from tests import factories as f

# Playwright's sync API runs an event loop in this thread; Django's ORM calls made by
# the test itself are still synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import playwright.sync_api as playwright_api  # noqa: E402  (a missing Playwright fails, never skips)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# SAVE_SCREENSHOTS=1 refreshes the README's pictures; otherwise they go to a temp folder
# so a test run leaves the work tree clean.
SHOTS = (
    Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    if os.environ.get("SAVE_SCREENSHOTS") == "1"
    else Path(tempfile.gettempdir()) / "portal-screenshots"
)
PASSWORD = "correct horse battery staple"
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(autouse=True)
def seeded(transactional_db):
    """Transactional tests flush the tables after each test: re-seed what migrations seed."""
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


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1360, "height": 900}, locale="en-GB")
    pg = context.new_page()
    yield pg
    context.close()


def login(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def busy_portal(staff, work_order_a, contact_a, user_a, work_order_b, contact_b):
    """Some realistic data: credits, hours, incidents in several SLA states."""
    year = timezone.localdate().year
    contract_services.support_location_sync_holidays(
        location=work_order_a.support_location, years=[year, year + 1]
    )
    contract_services.work_order_line_add(
        work_order=work_order_a, service=f.service("proactive-credits"), quantity=400, by=staff
    )
    contract_services.work_order_line_add(
        work_order=work_order_a, service=f.service("dse"), quantity=120, by=staff
    )
    f.RateFactory(service=f.service("workshops"), credits_per_unit=Decimal("25"))
    from credits import services as credit_services

    credit_services.credits_redeem(
        work_order=work_order_a,
        service=f.service("workshops"),
        quantity=4,
        scheduled_for=timezone.localdate() + dt.timedelta(days=40),
        delivery_mode="per_participant",
        by=user_a,
    )
    dse = work_order_a.lines.get(service__code="dse")
    credit_services.time_entry_record(
        line=dse, hours=Decimal("36"), worked_on=timezone.localdate(), by=staff
    )
    now = timezone.now()
    for i, (title, sev, hours_ago) in enumerate(
        [
            ("Exchange mail queue stuck", "critical", 0.2),
            ("SharePoint search slow", "normal", 1),
            ("Azure VM fails to boot", "critical", 3),
            ("Teams calls drop", "normal", 30),
        ]
    ):
        inc = incident_services.incident_open(
            work_order=work_order_a if i % 2 == 0 else work_order_b,
            contact=contact_a if i % 2 == 0 else contact_b,
            title=title,
            severity=sev,
            opened_at=now - dt.timedelta(hours=hours_ago),
            channel="phone",
            by=staff,
        )
        if i == 3:
            incident_services.incident_respond(incident=inc, by=staff)
    # History for the SLA chart: earlier months, mostly answered in time.
    for days_ago, minutes_to_answer in [
        (85, 20),
        (80, 50),
        (70, 30),
        (62, 90),
        (50, 10),
        (44, 40),
        (35, 45),
        (20, 15),
        (12, 75),
    ]:
        opened = now - dt.timedelta(days=days_ago)
        inc = incident_services.incident_open(
            work_order=work_order_a,
            contact=contact_a,
            title=f"Earlier problem {days_ago}",
            severity="critical",
            opened_at=opened,
            channel="phone",
            by=staff,
        )
        incident_services.incident_respond(
            incident=inc, responded_at=opened + dt.timedelta(minutes=minutes_to_answer), by=staff
        )
    # Work orders the dashboard should point out: near the R15 cut-off, ending soon, credits at risk.
    today = timezone.localdate()
    near = f.WorkOrderFactory(
        number="WO-B-2",
        customer=work_order_b.customer,
        package="performance",
        start_date=today - dt.timedelta(days=290),
        end_date=today + dt.timedelta(days=75),
    )
    contract_services.work_order_line_add(
        work_order=near, service=f.service("proactive-credits"), quantity=250, by=staff
    )
    f.WorkOrderFactory(
        number="WO-A-0",
        customer=work_order_a.customer,
        package="core",
        start_date=today - dt.timedelta(days=330),
        end_date=today + dt.timedelta(days=35),
    )
    return work_order_a


def test_account_manager_creates_a_work_order_and_meets_the_core_contact_limit(
    page, live_server, staff, customer_a, busy_portal
):
    login(page, live_server, staff.username)
    shot(page, "dashboard")
    page.goto(f"{live_server.url}/work-orders/new/")
    page.select_option("#id_customer", str(customer_a.pk))
    page.fill("#id_number", "WO-CORE-7")
    page.select_option("#id_package", "core")
    page.click("button:has-text('Create work order')")
    page.wait_for_selector("text=Work order WO-CORE-7")
    # A line, then named contacts through the form.
    page.select_option(
        "#id_line-service",
        label=page.locator("#id_line-service option", has_text="Workshops").first.inner_text(),
    )
    page.fill("#id_line-quantity", "3")
    page.click("button:has-text('Add line')")
    page.wait_for_selector("text=Workshops was added.")
    from contracts.models import WorkOrder

    wo = WorkOrder.objects.get(number="WO-CORE-7")
    for i in range(10):
        if i == 9:
            break
        contract_services.named_contact_add(
            work_order=wo, name=f"Contact {i}", email=f"c{i}@acme.example", by=staff
        )
    page.reload()
    page.fill("#id_contact-name", "Tenth Person")
    page.fill("#id_contact-email", "tenth@acme.example")
    page.click("button:has-text('Add contact')")
    page.wait_for_selector("text=Tenth Person is now a named contact.")
    # R1: the eleventh is refused, and the page says why.
    page.fill("#id_contact-name", "Eleventh Person")
    page.fill("#id_contact-email", "eleventh@acme.example")
    page.click("button:has-text('Add contact')")
    page.wait_for_selector("text=at most 10 named contacts")
    assert page.locator(".form-errors").first.is_visible()
    assert "R1" in page.locator(".form-errors").first.inner_text()
    assert wo.contacts.count() == 10
    page.locator("#contacts").scroll_into_view_if_needed()
    shot(page, "work_order_editor")
    page.goto(f"{live_server.url}/work-orders/?status=active")
    shot(page, "work_order_list")
    page.goto(f"{live_server.url}/incidents/")
    page.wait_for_selector("[data-due]")
    shot(page, "incident_queue")
    first = busy_portal.incidents.order_by("opened_at").first()
    page.goto(f"{live_server.url}/incidents/{first.pk}/")
    shot(page, "incident_detail")


def test_customer_files_an_incident_and_sees_its_due_time(page, live_server, user_a, busy_portal):
    login(page, live_server, user_a.username)
    page.goto(f"{live_server.url}/work-orders/{busy_portal.pk}/")
    page.wait_for_selector("svg.chart")
    shot(page, "customer_work_order")
    page.goto(f"{live_server.url}/incidents/new/")
    page.fill("#id_title", "Outlook cannot connect")
    page.fill("#id_description", "Since 08:00 nobody in Utrecht can reach the mail server.")
    page.select_option("#id_severity", "critical")
    # htmx preview: which target applies and when it is due, before submitting.
    page.wait_for_selector("#preview-due")
    playwright_api.expect(page.locator("#target-preview")).to_contain_text(
        "24x7"
    )  # critical: 24x7 clock (R6)
    preview = page.locator("#target-preview").inner_text()
    assert "R4" not in preview  # plain words for the customer (issue #19); staff see the rule
    shot(page, "file_incident")
    page.click("button:has-text('File the incident')")
    page.wait_for_selector("text=The first response is due")
    assert page.locator(".due-time").first.is_visible()
    assert "Outlook cannot connect" in page.content()


def test_the_dutch_interface_renders(page, live_server, staff, busy_portal):
    login(page, live_server, staff.username)
    page.select_option("#language-switch", "nl")
    page.click("header button:has-text('Switch')")
    page.wait_for_selector("text=Werkopdrachten")
    assert page.locator("html").get_attribute("lang") == "nl"
    body = page.inner_text("body")
    assert "Incidentenwachtrij" in body and "Uitloggen" in body
    shot(page, "dashboard_nl")
    page.goto(f"{live_server.url}/incidents/")
    assert "Probleemniveau" in page.inner_text("body")
