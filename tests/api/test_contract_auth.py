"""API.md's authentication: `Authorization: Bearer <key>` with a key from
`manage.py create_api_key --name NAME [--customer CODE]`; a key with `--customer` sees
and acts for that customer only, a key without it acts as staff; only a hash is kept."""

from io import StringIO

from django.core.management import call_command
from rest_framework.test import APIClient

from accounts.models import ApiKey
from incidents.models import Incident


def new_key(*args) -> APIClient:
    out = StringIO()
    call_command("create_api_key", *args, stdout=out)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {out.getvalue().strip()}")
    client.raw_key = out.getvalue().strip()
    return client


def test_a_customer_key_from_the_command_sees_and_acts_for_its_customer_only(
    work_order_a, contact_a, incident_a, incident_b, work_order_b
):
    client = new_key("--name", "ServiceNow", "--customer", "acme")
    listed = client.get("/api/v1/incidents/").json()["results"]
    assert [row["id"] for row in listed] == [incident_a.pk]
    assert client.get(f"/api/v1/incidents/{incident_b.pk}/").status_code == 404
    assert client.get("/api/v1/customers/").status_code == 403
    filed = client.post(
        "/api/v1/incidents/",
        {
            "work_order": work_order_a.pk,
            "contact": contact_a.email,
            "title": "Down",
            "severity": "normal",
        },
        format="json",
    )
    assert filed.status_code == 201, filed.content
    assert filed.json()["channel"] == "api"


def test_a_key_without_customer_acts_as_staff(incident_a, incident_b):
    client = new_key("--name", "Internal tool")
    assert client.get("/api/v1/incidents/").json()["count"] == 2
    assert client.get("/api/v1/customers/").status_code == 200
    responded = client.post(f"/api/v1/incidents/{incident_a.pk}/respond/", {}, format="json")
    assert responded.status_code == 200
    assert Incident.objects.get(pk=incident_a.pk).responded_at is not None


def test_only_a_hash_of_the_key_is_stored(db):
    client = new_key("--name", "Hashed")
    (key,) = ApiKey.objects.all()
    stored = [str(getattr(key, field.attname)) for field in ApiKey._meta.concrete_fields]
    assert client.raw_key not in stored
    assert key.key_hash == ApiKey.hash_key(client.raw_key)


def test_a_browser_session_reads_the_same_endpoints(client_a, incident_a, incident_b):
    listed = client_a.get("/api/v1/incidents/").json()["results"]
    assert [row["id"] for row in listed] == [incident_a.pk]
