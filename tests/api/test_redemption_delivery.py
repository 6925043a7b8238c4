"""`POST /api/v1/redemptions/{id}/deliver/`: staff record a delivery (R14); customers read
the status (delivered, lapsed) but may not deliver; another customer's redemption is a 404."""

import datetime as dt
import json

import pytest

from accounts.choices import Role
from core.times import business_today
from credits.models import Redemption
from tests import factories as f


def url(redemption) -> str:
    return f"/api/v1/redemptions/{redemption.pk}/deliver/"


def state(redemption) -> tuple:
    r = Redemption.objects.get(pk=redemption.pk)
    return r.status, r.delivered_on, r.version


@pytest.fixture
def api_reader(db):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(f.StaffFactory(username="rita", role=Role.READ_ONLY))
    return client


@pytest.mark.midnight
def test_a_staff_key_delivers_today_by_default_and_a_second_time_is_409(
    api_staff, redemption_a
):  # R14
    response = api_staff.post(url(redemption_a), {}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    today = business_today().isoformat()
    assert (body["status"], body["delivered_on"], body["version"]) == ("delivered", today, 2)
    again = api_staff.post(url(redemption_a), {}, format="json")
    assert again.status_code == 409
    assert (again.json()["rule"], again.json()["code"]) == ("R14", "redemption_not_scheduled")
    assert state(redemption_a)[2] == 2


def test_a_past_day_in_the_term_is_recorded(api_staff, redemption_a):  # R14
    day = (business_today() - dt.timedelta(days=2)).isoformat()
    response = api_staff.post(url(redemption_a), {"delivered_on": day}, format="json")
    assert response.status_code == 200 and response.json()["delivered_on"] == day


@pytest.mark.midnight
@pytest.mark.parametrize("offset", [1, 5000, -5000])
def test_a_future_or_out_of_term_day_is_400_naming_r14_and_nothing_changes(
    api_staff, redemption_a, offset
):  # R14
    day = (business_today() + dt.timedelta(days=offset)).isoformat()
    before = state(redemption_a)
    response = api_staff.post(url(redemption_a), {"delivered_on": day}, format="json")
    assert response.status_code == 400
    assert "R14" in response.json()["delivered_on"][0]
    assert state(redemption_a) == before


def test_the_customers_key_gets_403_and_nothing_changes(api_a, redemption_a):  # R14
    before = state(redemption_a)
    response = api_a.post(url(redemption_a), {}, format="json")
    assert response.status_code == 403
    assert "R14" in response.json()["detail"]
    assert state(redemption_a) == before


def test_another_customers_key_gets_404_and_nothing_changes(api_b, redemption_a):  # R14
    before = state(redemption_a)
    response = api_b.post(url(redemption_a), {}, format="json")
    assert response.status_code == 404
    assert "ACME" not in response.content.decode().upper()
    assert state(redemption_a) == before


def test_read_only_staff_get_403_and_nothing_changes(api_reader, redemption_a):  # R14
    before = state(redemption_a)
    assert api_reader.post(url(redemption_a), {}, format="json").status_code == 403
    assert state(redemption_a) == before


def test_anonymous_callers_are_refused(api_anon, redemption_a):
    assert api_anon.post(url(redemption_a), {}, format="json").status_code in (401, 403)


def test_the_customer_reads_delivered_and_lapsed(api_a, api_staff, redemption_a):  # R14
    api_staff.post(url(redemption_a), {}, format="json")
    body = api_a.get(f"/api/v1/redemptions/{redemption_a.pk}/").json()
    assert (body["status"], body["delivered_on"]) == (
        "delivered",
        business_today().isoformat(),
    )
    Redemption.objects.filter(pk=redemption_a.pk).update(status="lapsed")
    listed = api_a.get(f"/api/v1/work-orders/{redemption_a.work_order_id}/redemptions/").json()
    assert [r["status"] for r in listed["results"]] == ["lapsed"]
    filtered = api_a.get(
        f"/api/v1/work-orders/{redemption_a.work_order_id}/redemptions/?status=lapsed"
    )
    assert filtered.status_code == 200 and filtered.json()["count"] == 1


def test_the_schema_lists_the_deliver_action_and_the_new_statuses(api_anon):  # R14
    response = api_anon.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    schema = json.loads(response.content)
    action = schema["paths"]["/api/v1/redemptions/{id}/deliver/"]
    assert set(action) >= {"post"}
    assert "403" in action["post"]["responses"] or "R14" in action["post"]["description"]
    assert {"scheduled", "delivered", "cancelled", "exchanged", "lapsed"} == set(
        schema["components"]["schemas"]["RedemptionStatusEnum"]["enum"]
    )
    request = action["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    fields = schema["components"]["schemas"][request.rsplit("/", 1)[-1]]["properties"]
    assert "delivered_on" in fields
