"""Review pages, PDF, CSV and API: who sees what, stored reviews, and the documents."""

import csv
import datetime as dt
import io

import pytest
import time_machine
from pypdf import PdfReader

from incidents import services as incident_services
from reviews.models import ServiceReview
from tests import factories as f
from tests.reviews.conftest import at

NOW = at(2026, 12, 6, 10)


@pytest.fixture(autouse=True)
def frozen():
    # "Today" is 6 Dec 2026 in every test here: March and Q1 are finished periods.
    with time_machine.travel(NOW, tick=False):
        yield


def pdf_text(content: bytes) -> str:
    """The PDF's text with its line breaks (a wrapped box, a table cell) as plain spaces."""
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return " ".join(text.split())


def rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8"))))


# --- the page -------------------------------------------------------------------------


def test_staff_and_the_customer_read_the_same_review(march, client_staff, client_a):
    url = f"/reviews/work-orders/{march.wo.pk}/?period=2026-Q1"
    staff_page = client_staff.get(url)
    customer_page = client_a.get(url)
    assert staff_page.status_code == customer_page.status_code == 200
    for page in (staff_page, customer_page):
        html = page.content.decode()
        assert march.b.number in html and "75%" in html
    # One stored review for both readers.
    assert ServiceReview.objects.filter(work_order=march.wo, period_key="2026-Q1").count() == 1
    # The print stylesheet is the PDF's.
    assert 'href="/static/css/review-print.css" media="print"' in customer_page.content.decode()
    # Staff read R-numbers; the customer reads plain words.
    assert "(R14)" in staff_page.content.decode()
    assert "(R14)" not in customer_page.content.decode()


def test_another_customer_never_sees_the_review(march, client_b, api_b, user_b):
    # Web page, PDF, CSV (both reviews) and the API: 404, never the data.
    for url in (
        f"/reviews/work-orders/{march.wo.pk}/?period=2026-03",
        f"/reviews/work-orders/{march.wo.pk}/pdf/?period=2026-03",
        f"/reviews/work-orders/{march.wo.pk}/csv/?period=2026-03",
        f"/reviews/customers/{march.wo.customer_id}/?period=2026-03",
        f"/reviews/customers/{march.wo.customer_id}/pdf/?period=2026-03",
        f"/reviews/customers/{march.wo.customer_id}/csv/?period=2026-03",
    ):
        response = client_b.get(url)
        assert response.status_code == 404, url
        assert march.b.number.encode() not in response.content
    for fmt in ("json", "pdf", "csv"):
        response = api_b.get(
            f"/api/v1/work-orders/{march.wo.pk}/reviews/?period=2026-03&format={fmt}"
        )
        assert response.status_code == 404
        assert response["Content-Type"].startswith("application/json")
        assert march.b.number.encode() not in response.content
    # Nothing was stored for the refused reads.
    assert not ServiceReview.objects.exists()


def test_the_overview_is_for_staff_only(march, client_a, client_staff):
    assert client_a.get("/reviews/overview/?period=2026-Q1").status_code == 403
    assert client_staff.get("/reviews/overview/?period=2026-Q1").status_code == 200


def test_a_bad_period_is_a_400_not_a_500(march, client_staff, api_staff):
    assert (
        client_staff.get(f"/reviews/work-orders/{march.wo.pk}/?period=2026-13").status_code == 400
    )
    assert client_staff.get("/reviews/overview/?period=soon").status_code == 400
    response = api_staff.get(f"/api/v1/work-orders/{march.wo.pk}/reviews/?period=Q5")
    assert response.status_code == 400 and "period" in response.json()
    response = api_staff.get(
        f"/api/v1/work-orders/{march.wo.pk}/reviews/?period=2026-03&colour=red"
    )
    assert response.status_code == 400 and "colour" in response.json()
    response = api_staff.get(
        f"/api/v1/work-orders/{march.wo.pk}/reviews/?period=2026-03&format=xml"
    )
    assert response.status_code == 400 and "format" in response.json()
    response = api_staff.get(
        f"/api/v1/work-orders/{march.wo.pk}/reviews/?period=2026-03&format=csv&table=nope"
    )
    assert response.status_code == 400 and "table" in response.json()


# --- stored reviews ---------------------------------------------------------------------


def test_a_stored_review_does_not_change_when_its_period_is_edited(march, client_staff, staff):
    url = f"/api/v1/work-orders/{march.wo.pk}/reviews/?period=2026-03"
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(staff)
    first = api.get(url).json()
    assert first["stored"] is True and first["incidents"]["total"] == 4
    # Edited later: an incident backdated into March, another one's product renamed.
    incident_services.incident_open(
        work_order=march.wo,
        contact=march.contact,
        title="Entered late",
        severity="normal",
        product="Teams",
        opened_at=at(2026, 3, 20, 10),
        channel="phone",
        by=staff,
    )
    incident_services.incident_update(incident=march.a, by=staff, product="Outlook")
    again = api.get(url).json()
    assert again == first  # the stored review reads the same
    # The change shows in the next review that is not stored yet (term to date).
    term = api.get(f"/api/v1/work-orders/{march.wo.pk}/reviews/?period=term").json()
    assert term["stored"] is False
    assert any(p["product"] == "Teams" for p in term["incidents"]["by_product"])


def test_a_running_period_is_not_stored(march, api_staff):
    response = api_staff.get(f"/api/v1/work-orders/{march.wo.pk}/reviews/?period=2026-12")
    assert response.status_code == 200 and response.json()["stored"] is False
    assert not ServiceReview.objects.exists()


# --- API --------------------------------------------------------------------------------


def test_api_json_has_the_figures(march, api_a):
    response = api_a.get(f"/api/v1/work-orders/{march.wo.pk}/reviews/?period=2026-Q1")
    assert response.status_code == 200
    body = response.json()
    assert body["period"] == {
        "key": "2026-Q1",
        "kind": "quarter",
        "start": "2026-01-01",
        "end": "2026-03-31",
    }
    assert body["attainment"]["percent"] == "75"
    assert body["credits"]["fees"] == 25
    assert body["stored_at"].endswith("Z")
    # The customer's key reads the explanations in plain words; staff see the rules.
    (breach,) = body["breaches"]
    assert not any("R4" in t or "(R5)" in t for t in breach["explanation"]["en"])


def test_api_staff_read_the_rules_in_explanations(march, api_staff):
    body = api_staff.get(f"/api/v1/work-orders/{march.wo.pk}/reviews/?period=2026-Q1").json()
    assert any("R4" in t for t in body["breaches"][0]["explanation"]["en"])


def test_api_pdf_and_csv_by_accept_header_and_by_format(march, api_a):
    url = f"/api/v1/work-orders/{march.wo.pk}/reviews/?period=2026-Q1"
    by_accept = api_a.get(url, HTTP_ACCEPT="application/pdf")
    by_format = api_a.get(url + "&format=pdf")
    for response in (by_accept, by_format):
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF")
    csv_accept = api_a.get(url, HTTP_ACCEPT="text/csv")
    assert csv_accept.status_code == 200 and csv_accept["Content-Type"].startswith("text/csv")
    table = api_a.get(url + "&format=csv&table=attainment")
    assert rows(table.content)[0][:3] == ["Month", "Severity", "Met"]
    assert ["2026-03", "Normal", "2", "1", "0", "66.7"] in rows(table.content)


def test_the_schema_documents_the_endpoint(api_staff):
    response = api_staff.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    text = response.content.decode()
    assert "/api/v1/work-orders/{id}/reviews/" in text
    assert "application/pdf" in text and "text/csv" in text


# --- documents --------------------------------------------------------------------------


def test_the_pdf_text_matches_the_figures(march, client_staff):
    response = client_staff.get(f"/reviews/work-orders/{march.wo.pk}/pdf/?period=2026-Q1")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "SERVICE REVIEW" in text  # the kicker, upper case in print
    assert "WO-R-1" in text
    assert march.b.number in text  # the breach
    assert "75%" in text  # attainment
    assert "21 h 45 min" in text  # median 1305 minutes
    assert "Mailbox move" in text
    assert "Satisfaction" in text


def test_the_customer_pdf_is_the_staff_pdf_in_plain_words(march, client_a):
    response = client_a.get(f"/reviews/work-orders/{march.wo.pk}/pdf/?period=2026-Q1")
    text = pdf_text(response.content)
    assert march.b.number in text and "75%" in text
    assert "(R14)" not in text and "R15" not in text


def test_csv_of_every_table(march, client_staff):
    response = client_staff.get(f"/reviews/work-orders/{march.wo.pk}/csv/?period=2026-03")
    assert response.status_code == 200
    data = rows(response.content)
    keys = {row[0] for row in data}
    assert {
        "incidents_by_severity",
        "incidents_by_product",
        "attainment",
        "response_times",
        "breaches",
        "escalations",
        "customer_misses",
        "credit_movements",
        "credits_by_service",
        "cancellations",
        "lapsed",
        "credit_forecast",
        "hours",
        "next_period",
    } <= keys
    cancellations = [r for r in data if r[0] == "cancellations"]
    assert cancellations[0][1] == "Service"  # each table's header row
    assert cancellations[1][5:] == ["50", "50", "25"]


def test_customer_review_across_work_orders(march, client_a):
    response = client_a.get(
        f"/reviews/customers/{march.wo.customer_id}/csv/?period=2026-03&table=credit_movements"
    )
    data = dict((r[0], r[1]) for r in rows(response.content)[1:])
    assert data["Granted"] == "400" and data["Expired unused"] == "40"


def test_the_dutch_page_reads_in_dutch(march, client_a):
    client_a.cookies["django_language"] = "nl"
    response = client_a.get(
        f"/reviews/work-orders/{march.wo.pk}/?period=2026-03", HTTP_ACCEPT_LANGUAGE="nl"
    )
    assert response.status_code == 200
    assert "Servicerapport" in response.content.decode()


# --- the overview -----------------------------------------------------------------------


def test_overview_by_account_manager_and_package_sortable_and_exportable(
    march, client_staff, staff, customer_b
):
    other = f.StaffFactory(username="zed", first_name="Zed", last_name="Manager")
    f.WorkOrderFactory(
        number="WO-Z",
        customer=customer_b,
        package="core",
        account_manager=other,
        start_date=dt.date(2026, 1, 1),
        end_date=dt.date(2026, 12, 31),
    )
    response = client_staff.get("/reviews/overview/?period=2026-Q1&sort=-percent&format=csv")
    data = rows(response.content)
    assert data[0][:2] == ["Account manager", "Package"]
    by_manager = {(r[0], r[1]): r for r in data[1:]}
    alice = by_manager[("Alice Manager", "advanced")]
    # WO-R-1 and WO-R-2 ran in Q1: 4 incidents, 3 met, 1 missed; 196 credits at risk.
    assert alice[2:8] == ["2", "1", "4", "3", "1", "75"]
    assert alice[9] == "196"
    assert ("Zed Manager", "core") in by_manager
    page = client_staff.get("/reviews/overview/?period=2026-Q1&sort=credits_at_risk")
    assert page.status_code == 200 and 'aria-sort="ascending"' in page.content.decode()


def test_overview_queries_do_not_grow_with_work_orders(
    march, client_staff, django_assert_max_num_queries
):
    for n in range(5):
        f.WorkOrderFactory(
            number=f"WO-N-{n}",
            customer=march.wo.customer,
            start_date=dt.date(2026, 1, 1),
            end_date=dt.date(2026, 12, 31),
        )
    with django_assert_max_num_queries(12):
        client_staff.get("/reviews/overview/?period=2026-Q1")


def test_a_stored_review_is_read_not_recomputed(march, client_staff, django_assert_max_num_queries):
    url = f"/reviews/work-orders/{march.wo.pk}/?period=2026-03"
    client_staff.get(url)  # stores it
    # Reading it again is a handful of queries, whatever the period holds (no incidents,
    # ledger or explanations are read: the snapshot is).
    with django_assert_max_num_queries(8):
        assert client_staff.get(url).status_code == 200
    with django_assert_max_num_queries(8):
        assert client_staff.get(url.replace("/?", "/csv/?")).status_code == 200


def test_a_period_before_any_term_reads_empty_not_broken(march, client_a):
    for url in (
        f"/reviews/customers/{march.wo.customer_id}/?period=2024-01",
        f"/reviews/customers/{march.wo.customer_id}/pdf/?period=2024-Q1",
        f"/reviews/work-orders/{march.wo.pk}/?period=2024-01",
    ):
        response = client_a.get(url)
        assert response.status_code == 200, url


def test_escalation_notes_stay_with_staff(march, api_a, api_staff):
    # R7: a product-team escalation recorded with staff's note.
    f.IncidentEventFactory(
        incident=march.c,
        kind="product_escalation",
        body="Engineering lead paged privately",
        created_at=at(2026, 3, 10, 12),
    )
    url = f"/api/v1/work-orders/{march.wo.pk}/reviews/?period=2026-03"
    staff_rows = api_staff.get(url).json()["escalations"]
    customer_rows = api_a.get(url).json()["escalations"]
    assert [r["kind"] for r in staff_rows] == ["escalation", "product_escalation"]
    assert staff_rows[1]["note"] == "Engineering lead paged privately"
    assert [r["kind"] for r in customer_rows] == ["escalation", "product_escalation"]
    assert all(r["note"] == "" for r in customer_rows)
