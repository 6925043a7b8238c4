"""Browser journey of issue #21: the account manager downloads a quarterly PDF review and
the customer sees the same review in the portal (desktop and phone)."""

import io
import os

import pytest
from pypdf import PdfReader

from tests.browser.test_portal import (  # noqa: F401  (fixtures used by name)
    SHOTS,
    browser,
    login,
    seeded,
)
from tests.reviews.conftest import march  # noqa: F401  (a fixture used by name)

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _page(browser, **kwargs):  # noqa: F811
    context = browser.new_context(locale="en-GB", accept_downloads=True, **kwargs)
    return context, context.new_page()


def test_manager_downloads_the_quarter_pdf_and_the_customer_reads_the_same(
    browser,  # noqa: F811
    live_server,
    staff,
    user_a,
    march,  # noqa: F811
    tmp_path,
):
    # The account manager: work order -> service review -> Q1 2026 -> Download PDF.
    context, page = _page(browser, viewport={"width": 1360, "height": 900})
    login(page, live_server, staff.username)
    page.goto(f"{live_server.url}/work-orders/{march.wo.pk}/")
    page.click("#service-review-link")
    page.select_option("#id_period", "2026-Q1")
    page.click("form.inline-form button[type=submit]")
    page.wait_for_selector("text=Quarter 2026-Q1")
    with page.expect_download() as download_info:
        page.click("#download-pdf")
    download = download_info.value
    assert download.suggested_filename == "service-review-WO-R-1-2026-Q1.pdf"
    path = tmp_path / "review.pdf"
    download.save_as(path)
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(path.read_bytes())).pages)
    assert march.b.number in text and "75%" in text and "WO-R-1" in text
    staff_summary = page.inner_text("#sum-h + .review-stats")
    context.close()

    # The customer's contact: the same review, the same figures, in the portal.
    context, page = _page(browser, viewport={"width": 1360, "height": 900})
    login(page, live_server, user_a.username)
    page.goto(f"{live_server.url}/work-orders/{march.wo.pk}/")
    page.click("#service-review-link")
    page.select_option("#id_period", "2026-Q1")
    page.click("form.inline-form button[type=submit]")
    page.wait_for_selector("text=Quarter 2026-Q1")
    assert page.inner_text("#sum-h + .review-stats") == staff_summary
    assert page.locator(f"text={march.b.number}").count() >= 1
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "service_review.png"), full_page=False)
    context.close()

    # On a phone the charts scale to the screen: no sideways scrolling of the page.
    context, page = _page(browser, viewport={"width": 390, "height": 844}, is_mobile=True)
    login(page, live_server, user_a.username)
    page.goto(f"{live_server.url}/reviews/work-orders/{march.wo.pk}/?period=2026-Q1")
    width = page.evaluate("document.documentElement.scrollWidth")
    chart = page.evaluate(
        "document.querySelector('.review-chart svg').getBoundingClientRect().width"
    )
    assert chart <= 390
    assert width <= 390 + 1
    page.screenshot(path=str(SHOTS / "service_review_phone.png"), full_page=False)
    context.close()
