"""#18's journey in a real browser: the account manager creates a customer and a
Performance work order with Rapid Response, credits and DSE hours, imports 60 contacts
from CSV and invites one; that contact sets a password and files an incident at once;
staff record 10 DSE hours; a year later the manager renews and year one's unused credits
expire (R14)."""

import datetime as dt
import re

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from tests.browser.test_portal import (  # noqa: F401  (fixtures)
    PASSWORD,
    browser,
    login,
    seeded,
    shot,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def add_line(pg, name, quantity):
    option = pg.locator("#id_line-service option", has_text=name).first.inner_text()
    pg.select_option("#id_line-service", label=option)
    pg.fill("#id_line-quantity", str(quantity))
    pg.click("button:has-text('Add line')")
    pg.wait_for_selector(f"text=/{re.escape(name)}.* was added/")


def test_the_contracts_whole_life(
    browser,  # noqa: F811 - the fixture imported above
    live_server,
    staff,
    tmp_path,
    settings,
):  # R1, R9, R11, R14, R25
    settings.PORTAL_BASE_URL = live_server.url
    staff.set_password(PASSWORD)
    staff.save()
    context = browser.new_context(viewport={"width": 1360, "height": 900}, locale="en-GB")
    pg = context.new_page()
    login(pg, live_server, staff.username)

    # A customer: the country and the time zone are chosen from lists.
    pg.goto(f"{live_server.url}/customers/new/")
    pg.fill("#id_code", "initech")
    pg.fill("#id_name", "Initech BV")
    pg.select_option("#id_country", "NL")
    pg.select_option("#id_timezone", "Europe/Amsterdam")
    pg.click("button:has-text('Create customer')")
    pg.wait_for_selector("text=Customer Initech BV was created.")

    # A Performance work order with Rapid Response, credits and DSE hours.
    pg.click("text=New work order")
    pg.fill("#id_number", "WO-INI-1")
    pg.select_option("#id_package", "performance")
    pg.check("#id_deployment_docs_on_file")
    pg.click("button:has-text('Create work order')")
    pg.wait_for_selector("text=Work order WO-INI-1")
    add_line(pg, "Rapid Response", 1)
    add_line(pg, "Proactive Credits", 1000)
    add_line(pg, "Designated Support Engineering", 40)

    from contracts.models import WorkOrder

    wo = WorkOrder.objects.get(number="WO-INI-1")
    assert wo.package == "performance" and wo.lines.count() == 3

    # 60 contacts from a CSV, previewed first.
    csv = tmp_path / "contacts.csv"
    csv.write_text(
        "name,email,phone\n"
        + "".join(f"Person {i},p{i}@initech.example,+31 20 {i:04d}\n" for i in range(60))
    )
    pg.click("#import-contacts")
    pg.set_input_files("#id_file", str(csv))
    pg.click("button:has-text('Preview')")
    pg.wait_for_selector("#preview")
    assert "60 to import, 0 with errors" in pg.inner_text("#preview")
    pg.click("#confirm-import")
    pg.wait_for_selector("text=60 named contacts were imported.")
    assert wo.contacts.filter(active=True).count() == 60

    # Invite one of them.
    pg.click("[data-invite='p7@initech.example']")
    pg.wait_for_selector("text=An invitation to sign in was sent to p7@initech.example")
    link = re.search(r"https?://\S+/invitations/\S+/", mail.outbox[-1].body).group(0)

    # The contact sets a password and files an incident at once.
    customer_ctx = browser.new_context(viewport={"width": 1360, "height": 900}, locale="en-GB")
    cp = customer_ctx.new_page()
    cp.goto(link)
    cp.fill("#id_password1", "Initech-Ops-2026!")
    cp.fill("#id_password2", "Initech-Ops-2026!")
    cp.click("#set-password")
    cp.wait_for_selector("text=Welcome! You can file incidents now.")
    cp.fill("#id_title", "Payroll app down")
    cp.fill("#id_description", "Nobody can log in since 9:00.")
    cp.click("button:has-text('File the incident')")
    cp.wait_for_selector("text=The first response is due")
    from incidents.models import Incident

    incident = Incident.objects.get(title="Payroll app down")
    assert incident.contact.email == "p7@initech.example" and incident.work_order == wo
    customer_ctx.close()

    # Staff record 10 DSE hours (R11), seeing the effect first.
    pg.goto(f"{live_server.url}/credits/work-orders/{wo.pk}/hours/")
    dse_option = pg.locator("#id_line option", has_text="Designated Support").first.inner_text()
    pg.select_option("#id_line", label=dse_option)
    pg.fill("#id_hours", "10")
    pg.fill("#id_description", "Health check of the payroll cluster")
    pg.click("button:has-text('Show the effect')")
    pg.wait_for_selector("#effect")
    pg.click("#confirm")
    pg.wait_for_selector("text=10 hours were recorded")
    assert wo.lines.get(service__code="dse").used == 10
    shot(pg, "hour_blocks")
    context.close()

    # A year later: the manager renews; at the end of year one its unused credits expire.
    with time_machine.travel(timezone.now() + dt.timedelta(days=355), tick=True):
        ctx2 = browser.new_context(viewport={"width": 1360, "height": 900}, locale="en-GB")
        pg2 = ctx2.new_page()
        login(pg2, live_server, staff.username)
        pg2.goto(f"{live_server.url}/work-orders/{wo.pk}/renew/")
        pg2.fill("#id_number", "WO-INI-2")
        pg2.fill("#id_q_proactive-credits", "800")
        pg2.click("#submit")
        pg2.wait_for_selector("text=Work order WO-INI-2 continues WO-INI-1")
        ctx2.close()
    renewed = WorkOrder.objects.get(number="WO-INI-2")
    assert renewed.renewed_from == wo and renewed.contacts.count() == 60
    assert renewed.support_location_id == wo.support_location_id
    with time_machine.travel(
        timezone.make_aware(dt.datetime.combine(wo.end_date + dt.timedelta(days=1), dt.time(6))),
        tick=False,
    ):
        from credits.selectors import balance
        from credits.services import credits_expire

        assert credits_expire(work_order=wo)["credits_expired"] == 1000
        assert balance(work_order=wo) == 0
        assert balance(work_order=renewed) == 800
        assert wo.lines.get(service__code="dse").expired_at is not None
