"""POST/GET/PATCH /api/v1/incidents/ with `language` (R22), and Rapid Response being
English only (R9)."""

from incidents.models import Incident
from tests import factories as f


def body(work_order, **extra):
    return {
        "work_order": work_order.pk,
        "contact": "bob@acme.example",
        "title": "Mail is down",
        "severity": "normal",
        **extra,
    }


def test_an_incident_filed_without_a_language_is_handled_in_english(
    api_a, work_order_a, contact_a
):  # R22
    created = api_a.post("/api/v1/incidents/", body(work_order_a), format="json")
    assert created.status_code == 201, created.content
    assert created.json()["language"] == "en"


def test_the_api_accepts_and_returns_dutch(api_a, work_order_a, contact_a):  # R22
    created = api_a.post("/api/v1/incidents/", body(work_order_a, language="nl"), format="json")
    assert created.status_code == 201, created.content
    assert created.json()["language"] == "nl"
    pk = created.json()["id"]
    assert Incident.objects.get(pk=pk).language == "nl"
    assert api_a.get(f"/api/v1/incidents/{pk}/").json()["language"] == "nl"
    listed = api_a.get("/api/v1/incidents/").json()["results"]
    assert [row["language"] for row in listed] == ["nl"]


def test_an_unknown_language_is_a_400_naming_r22_and_files_nothing(
    api_a, work_order_a, contact_a
):  # R22
    refused = api_a.post("/api/v1/incidents/", body(work_order_a, language="de"), format="json")
    assert refused.status_code == 400
    assert "R22" in refused.json()["language"][0]
    assert not Incident.objects.exists()


def test_the_language_cannot_be_patched(api_a, work_order_a, contact_a):  # R22
    pk = api_a.post("/api/v1/incidents/", body(work_order_a), format="json").json()["id"]
    refused = api_a.patch(f"/api/v1/incidents/{pk}/", {"language": "nl"}, format="json")
    assert refused.status_code == 400
    assert "language" in refused.json()
    assert Incident.objects.get(pk=pk).language == "en"


def test_a_dutch_critical_cloud_incident_gets_the_package_target(
    api_a, work_order_a, contact_a
):  # R9, R22
    work_order_a.deployment_docs_on_file = True
    work_order_a.save()
    f.WorkOrderLineFactory(work_order=work_order_a, service=f.service("rapid-response"), quantity=1)
    critical = dict(severity="critical", is_cloud=True, product="Azure SQL Database")
    english = api_a.post("/api/v1/incidents/", body(work_order_a, **critical), format="json")
    dutch = api_a.post(
        "/api/v1/incidents/", body(work_order_a, language="nl", **critical), format="json"
    )
    assert english.status_code == dutch.status_code == 201
    assert english.json()["target_rule"] == "R9 Rapid Response: 15 minutes 24x7"
    assert dutch.json()["target_rule"] == "R4 Advanced critical: 1 hour 24x7"
