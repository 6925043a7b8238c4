"""Issue #20: a list longer than the exact-count cap says "about" and a rounded,
localized estimate; below the cap the count is exact."""

import pytest

from core import pagination
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("lang", "word"), [("en", "about"), ("nl", "ongeveer")])
def test_a_list_past_the_cap_shows_an_estimate(client_staff, monkeypatch, lang, word):
    for n in range(6):
        f.CustomerFactory(code=f"c{n}", name=f"Customer {n}")
    client_staff.cookies["django_language"] = lang
    exact = client_staff.get("/customers/", HTTP_ACCEPT_LANGUAGE=lang).content.decode()
    assert word not in exact.split("<h1>", 1)[1].split("</p>", 1)[0]
    monkeypatch.setattr(pagination, "COUNT_CAP", 3)
    page = client_staff.get("/customers/", HTTP_ACCEPT_LANGUAGE=lang).content.decode()
    heading = page.split("<h1>", 1)[1].split("</p>", 1)[0]
    assert f"{word} " in heading, heading


def test_an_estimate_is_rounded_to_two_figures():
    from django.utils import translation

    from core.formatting import approximately

    with translation.override("en"):
        assert approximately(48_022) == "48,000"
        assert approximately(7) == "7"
        assert approximately(1_250_000) == "1,200,000"
    with translation.override("nl"):
        assert approximately(48_022) == "48.000"


def test_a_search_counts_exactly_up_to_its_own_cap(
    api_staff, client_staff, monkeypatch, work_order_a, contact_a, staff
):
    for n in range(4):
        f.open_incident(work_order=work_order_a, contact=contact_a, by=staff, title=f"Mail {n}")
    f.open_incident(work_order=work_order_a, contact=contact_a, by=staff, title="Printer")
    monkeypatch.setattr(pagination, "SEARCH_COUNT_CAP", 3)
    searched = api_staff.get("/api/v1/incidents/?q=mail")
    assert searched.status_code == 200 and searched["X-Count-Is-Exact"] == "false"
    assert (
        len(searched.json()["results"]) == 4
    )  # the rows are all there; only the count is estimated
    listed = api_staff.get("/api/v1/incidents/")
    assert listed["X-Count-Is-Exact"] == "true" and listed.json()["count"] == 5
    page = client_staff.get("/incidents/?q=mail").content.decode()
    assert "about " in page.split('id="live-count"', 1)[1].split("</p>", 1)[0]


def test_a_deep_page_reads_its_keys_first_and_gets_the_same_rows(
    monkeypatch, django_assert_num_queries
):
    from contracts.models import Customer

    for n in range(7):
        f.CustomerFactory(code=f"d{n}", name=f"Deep {n % 3}")  # ties: the order needs its tie-break
    queryset = Customer.objects.order_by("name", "code")
    monkeypatch.setattr(pagination, "DEFERRED_JOIN_FROM", 2)
    for number in (1, 2, 3, 4):
        page = pagination.CappedPaginator(queryset, 2).page(number)
        assert list(page.object_list) == list(queryset[(number - 1) * 2 : number * 2]), number
    with django_assert_num_queries(3):  # count, keys, rows
        list(pagination.CappedPaginator(queryset, 2).page(3).object_list)
