"""API.md: objects that people edit carry a `version`; a PATCH may send
`If-Match: <version>` and gets 412 if the object changed meanwhile; a stale version is
otherwise a 409 conflict. A refused PATCH changes nothing."""

import pytest
from django.db.models import F

from contracts.models import WorkOrder
from core.errors import StaleVersion
from incidents import services as incident_services
from incidents.models import Incident


@pytest.mark.parametrize("kind", ["work-orders", "incidents", "redemptions"])
def test_get_of_a_versioned_object_sends_its_version_as_etag(
    api_a, work_order_a, incident_a, redemption_a, kind
):
    pk = {"work-orders": work_order_a.pk, "incidents": incident_a.pk}.get(kind, redemption_a.pk)
    response = api_a.get(f"/api/v1/{kind}/{pk}/")
    assert isinstance(response.json()["version"], int)
    assert response["ETag"] == f'"{response.json()["version"]}"'


@pytest.mark.parametrize("form", ["{v}", '"{v}"', 'W/"{v}"'])
def test_if_match_takes_the_version_bare_quoted_or_weak(api_a, incident_a, form):
    version = incident_a.version
    response = api_a.patch(
        f"/api/v1/incidents/{incident_a.pk}/",
        {"description": "more"},
        format="json",
        HTTP_IF_MATCH=form.format(v=version),
    )
    assert response.status_code == 200, response.content
    assert response.json()["version"] == version + 1
    assert response["ETag"] == f'"{version + 1}"'


def test_a_stale_if_match_on_a_status_change_is_412_and_changes_nothing(api_staff, incident_a):
    url = f"/api/v1/incidents/{incident_a.pk}/"
    stale = incident_a.version
    api_staff.patch(url, {"description": "edited meanwhile"}, format="json")
    response = api_staff.patch(
        url, {"status": "in_progress"}, format="json", HTTP_IF_MATCH=str(stale)
    )
    assert response.status_code == 412
    assert Incident.objects.get(pk=incident_a.pk).status == "new"


def test_a_stale_if_match_on_a_lines_change_is_412_and_changes_nothing(api_staff, work_order_a):
    url = f"/api/v1/work-orders/{work_order_a.pk}/"
    stale = api_staff.get(url).json()["version"]
    api_staff.patch(url, {"named_contact_limit": 70}, format="json")
    response = api_staff.patch(
        url,
        {"lines": [{"service": "dse", "quantity": "40"}]},
        format="json",
        HTTP_IF_MATCH=str(stale),
    )
    assert response.status_code == 412
    assert not work_order_a.lines.exists()


def test_a_change_between_the_check_and_the_write_is_still_412(api_a, incident_a, monkeypatch):
    """If-Match passed the view's check, then someone else saved first: the service's
    conditional UPDATE catches it, and the client is told 412, not 200 or 500."""
    original = incident_services.incident_update

    def someone_else_first(**kwargs):
        Incident.objects.filter(pk=incident_a.pk).update(version=F("version") + 1)
        return original(**kwargs)

    monkeypatch.setattr(incident_services, "incident_update", someone_else_first)
    response = api_a.patch(
        f"/api/v1/incidents/{incident_a.pk}/",
        {"description": "mine"},
        format="json",
        HTTP_IF_MATCH=str(incident_a.version),
    )
    assert response.status_code == 412
    assert Incident.objects.get(pk=incident_a.pk).description == ""


def test_a_stale_version_without_if_match_is_a_409_conflict(api_a, incident_a, monkeypatch):
    def stale(**kwargs):
        raise StaleVersion()

    monkeypatch.setattr(incident_services, "incident_update", stale)
    response = api_a.patch(
        f"/api/v1/incidents/{incident_a.pk}/", {"description": "mine"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "stale_version"


def test_a_refused_work_order_patch_writes_none_of_its_fields(api_staff, work_order_a):  # R12
    """The fields are written by work_order_update, the lines by the line services: when
    a line is refused the whole PATCH is, fields and version included."""
    before = WorkOrder.objects.get(pk=work_order_a.pk)
    response = api_staff.patch(
        f"/api/v1/work-orders/{work_order_a.pk}/",
        {
            "named_contact_limit": 60,
            "lines": [{"service": "developer-advanced", "quantity": "10"}],
        },
        format="json",
    )
    assert response.status_code == 400
    assert "R12" in response.json()["quantity"][0]
    after = WorkOrder.objects.get(pk=work_order_a.pk)
    assert (after.named_contact_limit, after.version) == (
        before.named_contact_limit,
        before.version,
    )


def test_a_refused_incident_patch_writes_none_of_its_fields(api_a, incident_a):
    """A customer edits the text but may not move the status: 403, and the text stays."""
    response = api_a.patch(
        f"/api/v1/incidents/{incident_a.pk}/",
        {"description": "changed", "status": "in_progress"},
        format="json",
    )
    assert response.status_code == 403
    after = Incident.objects.get(pk=incident_a.pk)
    assert (after.description, after.version) == ("", incident_a.version)
