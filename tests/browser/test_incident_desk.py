"""The incident desk as people use it (issue #17), in a real browser against the live
server on PostgreSQL, with a real Celery worker and beat delivering the e-mails.

A customer files a critical incident with an attachment and asks for another
severity; the account manager sees the badge, accepts, assigns the incident to
themselves, writes an internal note and a public reply; the customer's open page shows
the reply and the new deadline without a reload (and keeps what the customer was
typing), never the note; the customer marks the incident solved and rates it. The same
journey in Dutch. The digest e-mail the customer gets carries the reply, never the note.
"""

import os
import re

import pytest
from django.utils import translation

from incidents.models import Incident, IncidentAttachment, SatisfactionRating
from tests.browser.test_portal import CHROMIUM, PASSWORD, SHOTS, browser, login, seeded  # noqa: F401
from tests.worker.test_real_worker import broker, processes, wait_for  # noqa: F401

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import playwright.sync_api as playwright_api  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

expect = playwright_api.expect

WORDS = {
    "en": {"internal": "Internal note", "solved_thanks": "marked solved", "normal": "Normal"},
    "nl": {"internal": "Interne notitie", "solved_thanks": "als opgelost", "normal": "Normaal"},
}


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_the_incident_desk_journey(
    browser,  # noqa: F811
    live_server,
    processes,  # noqa: F811
    settings,
    staff,
    user_a,
    contact_a,
    work_order_a,
    tmp_path,
    lang,
):
    settings.INCIDENT_DIGEST_SECONDS = 3
    settings.LIVE_POLL_SECONDS = 1
    for user in (staff, user_a):
        user.set_password(PASSWORD)
        user.language = lang
        user.save()
    staff.email = "alice@vendor.example"
    staff.save()
    processes.env.update(INCIDENT_DIGEST_SECONDS="3")
    processes.worker("desk")
    processes.beat()
    words = WORDS[lang]

    customer_ctx = browser.new_context(viewport={"width": 1360, "height": 1000}, locale=lang)
    staff_ctx = browser.new_context(viewport={"width": 1360, "height": 1000}, locale=lang)
    cust, desk = customer_ctx.new_page(), staff_ctx.new_page()
    try:
        # --- the customer files a critical incident with a network trace ----------
        login(cust, live_server, user_a.username)
        cust.goto(f"{live_server.url}/incidents/new/")
        cust.fill("#id_title", "Exchange mail queue stuck")
        cust.fill("#id_description", "Since 08:00 no mail leaves; see https://status.example/mail")
        cust.select_option("#id_severity", "critical")
        trace = tmp_path / "mailqueue.pcap"
        trace.write_bytes(b"\xd4\xc3\xb2\xa1" + b"0" * 2048)
        cust.set_input_files("#id_files", str(trace))
        cust.click("#incident-form button[type=submit]")
        cust.wait_for_selector(".due-time")
        incident = Incident.objects.get(title="Exchange mail queue stuck")
        assert incident.severity == "critical"
        attachment = IncidentAttachment.objects.get(incident=incident)
        assert attachment.size == 2052
        expect(cust.locator("#live-files")).to_contain_text("mailqueue.pcap")
        first_due = cust.locator(".due-time").first.inner_text()

        # ... and asks for another severity (R3).
        cust.select_option("#id_severity", "normal")
        cust.fill("#id_reason", "Only the Utrecht office is affected")
        cust.click("#severity button[type=submit]")
        cust.wait_for_selector(".banner.severity-request")
        # The customer starts typing an answer and leaves the page open.
        cust.fill("#id_body", "We are collecting more traces")

        # --- the account manager sees the badge and decides -----------------------
        login(desk, live_server, staff.username)
        desk.goto(f"{live_server.url}/incidents/")
        expect(desk.locator(".severity-request-badge").first).to_be_visible()
        if lang == "en":
            shot(desk, "incident_queue_triage")
        desk.goto(f"{live_server.url}/incidents/{incident.pk}/")
        expect(desk.locator(".banner.severity-request")).to_contain_text(
            "Only the Utrecht office is affected"
        )
        if lang == "en":
            shot(desk, "severity_request_banner")
        desk.fill(".banner.severity-request input[name=reason]", "Agreed: one office only")
        desk.click(".banner.severity-request button[value=accept]")
        desk.wait_for_selector(".messages, .message, [role=status]")
        expect(desk.locator(".banner.severity-request")).to_have_count(0)
        desk.click("#assign button[name=me]")
        desk.wait_for_load_state()
        desk.fill("#id_body", "Their smarthost rejects our relay; check with networking")
        desk.click("#comment button[name=internal][value=on]")
        desk.wait_for_load_state()
        desk.fill(
            "#id_body", "Please restart the transport service, details: https://kb.example/1234"
        )
        desk.click("#comment button[name=internal][value='']")
        desk.wait_for_load_state()
        expect(desk.locator("#live-timeline li.kind-comment.internal")).to_contain_text("smarthost")
        expect(desk.locator("#live-timeline li.public-reply")).to_contain_text(
            "restart the transport"
        )
        if lang == "en":
            shot(desk, "incident_note_and_reply")
        incident.refresh_from_db()
        assert incident.severity == "normal" and incident.assignee == staff

        # --- the customer's open page follows, without a reload ---------------------
        expect(cust.locator("#live-timeline")).to_contain_text(
            "restart the transport", timeout=15000
        )
        expect(cust.locator("#live-head")).to_contain_text(words["normal"])
        assert cust.locator(".due-time").first.inner_text() != first_due  # R3: recomputed
        assert "smarthost" not in cust.content()
        assert words["internal"] not in cust.locator("#live-timeline").inner_text()
        assert cust.input_value("#id_body") == "We are collecting more traces"
        expect(cust.locator("#live-timeline a[href='https://kb.example/1234']")).to_be_visible()

        # --- the customer marks it solved and rates it ------------------------------
        cust.click("#closure form[action$='/solved/'] button")
        cust.wait_for_selector(".rating-form")
        cust.check("input[name=score][value='5']")
        cust.fill("#id_rating_comment", "Quick and clear")
        cust.click(".rating-form button[type=submit]")
        expect(cust.locator("#rating-shown")).to_contain_text("5/5")
        rating = SatisfactionRating.objects.get(incident=incident)
        assert rating.score == 5 and rating.comment == "Quick and clear"

        # --- e-mail: one digest for the customer, with the reply, never the note ----
        mail_dir = tmp_path / "mail"

        def customer_mail():
            if not mail_dir.exists():
                return ""
            text = "".join(p.read_text(errors="replace") for p in mail_dir.glob("*.log"))
            return text if "restart the transport" in text else ""

        wait_for(customer_mail, 40, "the digest e-mail", processes)
        mails = customer_mail()
        assert "smarthost" not in mails
        to_bob = [m for m in re.split(r"\n-{20,}\n", mails) if "To: bob@acme.example" in m]
        with_reply = [m for m in to_bob if "restart the transport" in m]
        assert len(with_reply) == 1  # the reply and the severity change in one digest
    finally:
        customer_ctx.close()
        staff_ctx.close()
        translation.activate("en")


def test_the_queue_refreshes_itself_and_the_countdown_stops_when_answered(
    browser,  # noqa: F811
    live_server,
    settings,
    staff,
    user_a,
    contact_a,
    work_order_a,
):
    from incidents import services as incident_services
    from tests import factories as f

    settings.LIVE_POLL_SECONDS = 1
    staff.set_password(PASSWORD)
    staff.save()
    one = f.open_incident(work_order=work_order_a, contact=contact_a, title="VPN down", by=user_a)
    two = f.open_incident(work_order=work_order_a, contact=contact_a, title="Printer", by=user_a)
    ctx = browser.new_context(viewport={"width": 1360, "height": 900})
    page = ctx.new_page()
    try:
        login(page, live_server, staff.username)
        page.goto(f"{live_server.url}/incidents/")
        row = page.locator("tr", has_text=one.number)
        expect(row.locator("[data-due]")).to_be_visible()
        page.check(f"input[name=incidents][value='{two.pk}']")
        page.fill("#id_view_name", "Half typed")
        incident_services.incident_respond(incident=one, by=staff)
        # The countdown stops: the row now says when it was answered (no reload).
        expect(page.locator("tr", has_text=one.number).locator(".badge.responded")).to_be_visible(
            timeout=10000
        )
        expect(page.locator("tr", has_text=one.number).locator("[data-due]")).to_have_count(0)
        three = f.open_incident(
            work_order=work_order_a, contact=contact_a, title="New one", by=user_a
        )
        expect(page.locator("#live-queue")).to_contain_text(three.number, timeout=10000)
        # What the user had ticked and typed is still there.
        assert page.is_checked(f"input[name=incidents][value='{two.pk}']")
        assert page.input_value("#id_view_name") == "Half typed"
    finally:
        ctx.close()


def test_files_dropped_on_the_conversation_are_listed_with_their_size_and_sent(
    browser,  # noqa: F811
    live_server,
    settings,
    user_a,
    contact_a,
    work_order_a,
):
    from tests import factories as f

    settings.ATTACHMENT_MAX_BYTES = 4096
    user_a.set_password(PASSWORD)
    user_a.save()
    incident = f.open_incident(
        work_order=work_order_a, contact=contact_a, title="Slow VPN", by=user_a
    )
    ctx = browser.new_context(viewport={"width": 1360, "height": 900})
    page = ctx.new_page()
    try:
        login(page, live_server, user_a.username)
        page.goto(f"{live_server.url}/incidents/{incident.pk}/")
        # A real drop event carrying two files: one fits, one is over the limit.
        page.evaluate(
            """() => {
              const zone = document.querySelector('#comment .dropzone');
              const dt = new DataTransfer();
              dt.items.add(new File(['x'.repeat(2048)], 'vpn-trace.pcap'));
              dt.items.add(new File(['y'.repeat(5000)], 'too-big.dmp'));
              zone.dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));
            }"""
        )
        chosen = page.locator("#comment .chosen-files li")
        expect(chosen).to_have_count(2)
        expect(chosen.nth(0)).to_have_text("vpn-trace.pcap · 2.0 KB")
        expect(chosen.nth(1)).to_have_class("too-large")
        # The server refuses the oversized one and files nothing.
        page.fill("#id_body", "Trace attached")
        page.click("#comment button[type=submit]")
        expect(page.locator(".errorlist, .form-errors").first).to_contain_text("bytes")
        assert not incident.attachments.exists()
        # Dropping only the good file sends it with the reply.
        page.evaluate(
            """() => {
              const zone = document.querySelector('#comment .dropzone');
              const dt = new DataTransfer();
              dt.items.add(new File(['x'.repeat(2048)], 'vpn-trace.pcap'));
              zone.dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));
            }"""
        )
        page.fill("#id_body", "Trace attached")
        page.click("#comment button[type=submit]")
        expect(page.locator("#live-timeline")).to_contain_text("vpn-trace.pcap")
        assert incident.attachments.get().size == 2048
    finally:
        ctx.close()
